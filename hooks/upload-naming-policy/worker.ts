import { PlatformContext, BeforeUploadRequest, BeforeUploadResponse, UploadStatus } from './types';

// BEFORE_UPLOAD: paths must be lower-case letters, digits, '.', '_', '-' and '/'; executables are refused.
// A path that is only wrong in case is accepted under its lower-case name (modifiedRepoPath).
const allowed = /^[a-z0-9._\/-]+$/;
const refusedExtensions = ['.exe', '.dll', '.msi', '.bat'];

export default async (context: PlatformContext, data: BeforeUploadRequest): Promise<BeforeUploadResponse> => {
  const { repoPath } = data.metadata;
  const lower = repoPath.path.toLowerCase();
  const extension = refusedExtensions.find((ext) => lower.endsWith(ext));
  if (extension) {
    return { status: UploadStatus.UPLOAD_STOP, message: `${extension} files may not be uploaded to ${repoPath.key}` };
  }
  if (!allowed.test(lower)) {
    return { status: UploadStatus.UPLOAD_STOP, message: `'${repoPath.path}' has characters outside [a-z0-9._/-]` };
  }
  if (lower !== repoPath.path) {
    console.info(`renaming ${repoPath.path} to ${lower}`);
    return {
      status: UploadStatus.UPLOAD_PROCEED,
      message: 'stored under its lower-case name',
      modifiedRepoPath: { ...repoPath, path: lower, id: `${repoPath.key}:${lower}` },
    };
  }
  return { status: UploadStatus.UPLOAD_PROCEED, message: 'name accepted' };
};
