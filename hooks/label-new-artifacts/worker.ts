import { PlatformContext, AfterCreateRequest, AfterCreateResponse } from './types';

// AFTER_CREATE: labels each new file with who uploaded it and when, as the properties "uploaded.by" and
// "uploaded.at" (names from the properties "byProperty" and "atProperty"), through the storage API. Its run token
// needs "annotate" on the file's repository: the default for a worker's own filter.
export default async (context: PlatformContext, data: AfterCreateRequest): Promise<AfterCreateResponse> => {
  const by = context.properties.get('byProperty') || 'uploaded.by';
  const at = context.properties.get('atProperty') || 'uploaded.at';
  const { key, path } = data.metadata.repoPath;
  // userContext.id is "jfac@<service id>/users/<name>" (or "anonymous"): the label is the name.
  const who = data.userContext.id.split('/users/').pop()!.replace(/[|=,;\\]/g, '_');
  const when = new Date().toISOString();
  const properties = encodeURIComponent(`${by}=${who};${at}=${when}`);
  await context.clients.platformHttp.put(`/artifactory/api/storage/${key}/${path}?properties=${properties}`);
  return { message: `labelled ${key}/${path}: ${by}=${who}` };
};
