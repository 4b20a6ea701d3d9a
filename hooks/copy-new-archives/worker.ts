import { PlatformContext, AfterCreateRequest, AfterCreateResponse } from './types';

// AFTER_CREATE: copies each new file of a type (property "extension", default ".zip") to another repository
// (property "targetRepo"), at the same path. Bind it to the source repository only, or copies fire it again.
export default async (context: PlatformContext, data: AfterCreateRequest): Promise<AfterCreateResponse> => {
  const extension = context.properties.get('extension') || '.zip';
  const target = context.properties.get('targetRepo');
  const { key, path } = data.metadata.repoPath;
  if (!target) return { message: 'no targetRepo property: nothing copied' };
  if (!path.endsWith(extension)) return { message: `${path} is not a ${extension} file` };
  const res = await context.clients.platformHttp.post(`/artifactory/api/copy/${key}/${path}?to=/${target}/${path}`);
  console.log(res.data.messages[0].message);
  return { message: `copied ${key}/${path} to ${target}/${path}` };
};
