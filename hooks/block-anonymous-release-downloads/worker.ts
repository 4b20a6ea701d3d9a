import { PlatformContext, BeforeDownloadRequest, BeforeDownloadResponse, DownloadStatus } from './types';

// BEFORE_DOWNLOAD: anonymous users may not download anything under release/ folders; everyone else proceeds.
// Property "protectedFolder" (default "release") names the folder.
export default async (context: PlatformContext, data: BeforeDownloadRequest): Promise<BeforeDownloadResponse> => {
  const folder = context.properties.get('protectedFolder') || 'release';
  const path = data.repoPath.path;
  const inside = path === folder || path.startsWith(folder + '/') || path.includes('/' + folder + '/');
  if (inside && data.userContext.id === 'anonymous') {
    console.warn(`refused anonymous download of ${data.repoPath.id}`);
    return { status: DownloadStatus.DOWNLOAD_STOP, message: `Log in to download ${folder} artifacts` };
  }
  return { status: DownloadStatus.DOWNLOAD_PROCEED, message: 'Download allowed' };
};
