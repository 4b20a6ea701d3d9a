import { PlatformContext, BeforeUploadRequest, BeforeUploadResponse, UploadStatus } from './types';

// BEFORE_UPLOAD: released artifacts are immutable. An upload to a path that already holds a file is refused (AQL).
export default async (context: PlatformContext, data: BeforeUploadRequest): Promise<BeforeUploadResponse> => {
  const { key, path } = data.metadata.repoPath;
  const slash = path.lastIndexOf('/');
  const folder = slash < 0 ? '.' : path.slice(0, slash);
  const name = path.slice(slash + 1);
  const query = `items.find(${JSON.stringify({ repo: key, path: folder, name })}).include("name","sha256")`;
  const res = await context.clients.platformHttp.post('/artifactory/api/search/aql', query, { 'Content-Type': 'text/plain' });
  if (res.data.results.length > 0) {
    return { status: UploadStatus.UPLOAD_STOP, message: `${data.metadata.repoPath.id} already exists; overwriting is not allowed` };
  }
  return { status: UploadStatus.UPLOAD_PROCEED, message: 'new artifact' };
};
