import { PlatformContext, BeforeCreateTokenRequest, BeforeCreateTokenResponse, CreateTokenStatus } from './types';

// BEFORE_CREATE_TOKEN: every token expires within "maxDays" days (default 30; 0 in expiresIn is a token that never
// expires, which is refused), and a subject holds at most "maxTokens" tokens (default 10; counted with the Access
// API, which a token event's worker may read).
export default async (context: PlatformContext, data: BeforeCreateTokenRequest): Promise<BeforeCreateTokenResponse> => {
  const maxDays = Number(context.properties.get('maxDays') || 30);
  const maxTokens = Number(context.properties.get('maxTokens') || 10);
  const { subject, expiresIn } = data.tokenSpec;
  if (!expiresIn || expiresIn > maxDays * 86400) {
    return { status: CreateTokenStatus.CREATE_TOKEN_STOP, message: `tokens must expire within ${maxDays} days (expires_in up to ${maxDays * 86400})` };
  }
  const res = await context.clients.platformHttp.get('/access/api/v1/tokens');
  const held = res.data.tokens.filter((token: { subject: string }) => token.subject === subject).length;
  if (held >= maxTokens) {
    return { status: CreateTokenStatus.CREATE_TOKEN_STOP, message: `${subject} already holds ${held} tokens (at most ${maxTokens})` };
  }
  return { status: CreateTokenStatus.CREATE_TOKEN_PROCEED, message: `token ${held + 1} of ${maxTokens} for ${subject}` };
};
