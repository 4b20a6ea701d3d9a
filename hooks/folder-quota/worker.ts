import { PlatformContext, BeforeUploadRequest, BeforeUploadResponse, UploadStatus } from './types';

// BEFORE_UPLOAD: a top-level folder may carry a quota in bytes as a property; an upload that would take the folder
// over it is refused. Set one with
//   curl -X PUT "$URL/artifactory/api/storage/libs/team-a?properties=quota.bytes=1048576"
// Property "quotaProperty" (default "quota.bytes") names it. Usage is summed with AQL.
export default async (context: PlatformContext, data: BeforeUploadRequest): Promise<BeforeUploadResponse> => {
  const quotaName = context.properties.get('quotaProperty') || 'quota.bytes';
  const { key, path } = data.metadata.repoPath;
  const folder = path.split('/')[0];
  if (!path.includes('/')) return { status: UploadStatus.UPLOAD_PROCEED, message: 'not inside a folder' };
  let quota = NaN;
  try {
    const res = await context.clients.platformHttp.get(`/artifactory/api/storage/${key}/${folder}?properties=${quotaName}`);
    quota = Number(res.data.properties[quotaName][0]);
  } catch (error: any) {
    if (error.status !== 404) throw error;
  }
  if (!Number.isFinite(quota)) return { status: UploadStatus.UPLOAD_PROCEED, message: `${folder} has no quota` };
  const aql = `items.find({"repo":"${key}","$or":[{"path":"${folder}"},{"path":{"$match":"${folder}/*"}}]}).include("size","path","name")`;
  const res = await context.clients.platformHttp.post('/artifactory/api/search/aql', aql, { 'Content-Type': 'text/plain' });
  const used = res.data.results.filter((r: any) => `${r.path}/${r.name}` !== path).reduce((sum: number, r: any) => sum + r.size, 0);
  const incoming = Math.max(0, data.metadata.contentLength);
  if (used + incoming > quota) {
    return { status: UploadStatus.UPLOAD_STOP, message: `${folder} is over its quota: ${used} + ${incoming} > ${quota} bytes` };
  }
  return { status: UploadStatus.UPLOAD_PROCEED, message: `${folder}: ${used + incoming} of ${quota} bytes` };
};
