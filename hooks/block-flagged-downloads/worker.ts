import { PlatformContext, BeforeDownloadRequest, BeforeDownloadResponse, DownloadStatus } from './types';

// BEFORE_DOWNLOAD: stops the download of an artifact that carries a blocking property, e.g. one a scanner set with
//   curl -X PUT "$URL/artifactory/api/storage/libs/app.jar?properties=quarantine=true"
// Properties: "blockProperty" (default "quarantine") and "blockValue" (default "true").
export default async (context: PlatformContext, data: BeforeDownloadRequest): Promise<BeforeDownloadResponse> => {
  const name = context.properties.get('blockProperty') || 'quarantine';
  const blocked = context.properties.get('blockValue') || 'true';
  const { key, path } = data.repoPath;
  let values: string[] = [];
  try {
    const res = await context.clients.platformHttp.get(`/artifactory/api/storage/${key}/${path}?properties=${encodeURIComponent(name)}`);
    values = res.data.properties?.[name] ?? [];
  } catch (error: any) {
    if (error.status !== 404) throw error; // 404: the artifact has no such property
  }
  if (values.includes(blocked)) {
    console.warn(`blocked ${data.repoPath.id} for ${data.userContext.id}: ${name}=${blocked}`);
    return { status: DownloadStatus.DOWNLOAD_STOP, message: `${data.repoPath.id} is blocked: ${name}=${blocked}` };
  }
  return { status: DownloadStatus.DOWNLOAD_PROCEED, message: 'not flagged' };
};
