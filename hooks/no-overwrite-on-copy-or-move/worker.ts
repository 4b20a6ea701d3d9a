import { PlatformContext, BeforeCopyRequest, BeforeCopyResponse, ActionStatus } from './types';

// BEFORE_COPY or BEFORE_MOVE (deploy it once per action): nothing is copied or moved onto an item that exists,
// unless both are folders (their content merges). The target is looked up with AQL. Bind it to the repositories to
// protect: a copy or move is asked when its source or its target is in the filter.
export default async (context: PlatformContext, data: BeforeCopyRequest): Promise<BeforeCopyResponse> => {
  const target = data.targetRepoPath;
  const slash = target.path.lastIndexOf('/');
  const query = { repo: target.key, path: slash < 0 ? '.' : target.path.slice(0, slash), name: target.path.slice(slash + 1) };
  const res = await context.clients.platformHttp.post(
    '/artifactory/api/search/aql', `items.find(${JSON.stringify(query)}).include("type").limit(1)`, { 'Content-Type': 'text/plain' });
  const found = res.data.results[0];
  if (found && !(found.type === 'folder' && data.metadata.repoPath.isFolder)) {
    return { status: ActionStatus.STOP, message: `${target.id} already exists` };
  }
  return { status: ActionStatus.PROCEED, message: `${data.metadata.repoPath.id} -> ${target.id}` };
};
