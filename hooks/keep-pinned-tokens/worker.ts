import { PlatformContext, BeforeRevokeTokenRequest, BeforeRevokeTokenResponse, RevokeTokenStatus } from './types';

// BEFORE_REVOKE_TOKEN: a token whose description carries the marker (property "marker", default "[pinned]") is not
// revoked: it belongs to a service that must keep working. Edit the description's owner first.
export default async (context: PlatformContext, data: BeforeRevokeTokenRequest): Promise<BeforeRevokeTokenResponse> => {
  const marker = context.properties.get('marker') || '[pinned]';
  if (data.token.description.includes(marker)) {
    return { status: RevokeTokenStatus.REVOKE_TOKEN_STOP, message: `token ${data.token.tokenId} of ${data.token.subject} is pinned (${marker})` };
  }
  return { status: RevokeTokenStatus.REVOKE_TOKEN_PROCEED, message: `revoking ${data.token.tokenId}` };
};
