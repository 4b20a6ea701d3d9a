import { PlatformContext, BeforeUploadRequest, BeforeUploadResponse, UploadStatus } from './types';

// BEFORE_UPLOAD: accepts uploads only under the allowed patterns (Ant style: * within a folder, ** across folders).
// Property "allowedPatterns": comma-separated, default "releases/**,snapshots/**".
const toRegExp = (pattern: string): RegExp => {
  let source = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i];
    if (c === '*' && pattern[i + 1] === '*') {
      source += '.*';
      i++;
      if (pattern[i + 1] === '/') i++;
    } else if (c === '*') source += '[^/]*';
    else if (c === '?') source += '[^/]';
    else source += c.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp('^' + source + '$');
};

export default async (context: PlatformContext, data: BeforeUploadRequest): Promise<BeforeUploadResponse> => {
  const patterns = (context.properties.get('allowedPatterns') || 'releases/**,snapshots/**').split(',').map((p) => p.trim()).filter((p) => p);
  const path = data.metadata.repoPath.path;
  if (patterns.some((p) => toRegExp(p).test(path))) {
    return { status: UploadStatus.UPLOAD_PROCEED, message: `${path} is under an allowed pattern` };
  }
  return { status: UploadStatus.UPLOAD_STOP, message: `${path} is not under ${patterns.join(' or ')}` };
};
