import { PlatformContext, AfterCreateRequest, AfterCreateResponse } from './types';

// AFTER_CREATE: signs each new artifact's identity and size with the secret "signingKey" (HMAC-SHA256) so that a
// downstream system holding the same key can check where the artifact came from.
export default async (context: PlatformContext, data: AfterCreateRequest): Promise<AfterCreateResponse> => {
  const key = context.secrets.get('signingKey');
  if (!key) throw new Error('the secret "signingKey" is not set');
  const { repoPath, contentLength } = data.metadata;
  const signature = context.crypto.hmac('sha256', key, `${repoPath.id}:${contentLength}`);
  console.log(`signed ${repoPath.id} with key ${key}`);
  return { message: `signature ${signature}` };
};
