import { PlatformContext } from './types';

// GENERIC_EVENT: deletes the files of a repository that nobody downloaded for N days (never-downloaded files count
// from their creation). Call it with {"repo": "libs", "days": 30, "dryRun": true}; dryRun (the default) only lists.
// "olderThan" takes an AQL relative time instead of days ("12h", "2w").
interface CleanupRequest { repo: string; days?: number; olderThan?: string; dryRun?: boolean; limit?: number }

export default async (context: PlatformContext, data: CleanupRequest) => {
  if (!data || typeof data.repo !== 'string') throw new Error('give the repository: {"repo": "libs", "days": 30, "dryRun": true}');
  const days = Number.isInteger(data.days) && data.days! >= 0 ? data.days! : 30;
  const dryRun = data.dryRun !== false;
  const age = typeof data.olderThan === 'string' ? data.olderThan : `${days}d`;
  const criteria = {
    repo: data.repo,
    type: 'file',
    $or: [
      { 'stat.downloaded': { $before: age } },
      { $and: [{ 'stat.downloads': { $eq: null } }, { created: { $before: age } }] },
    ],
  };
  const query = `items.find(${JSON.stringify(criteria)}).include("repo","path","name","size").sort({"$asc":["path","name"]}).limit(${data.limit ?? 1000})`;
  const res = await context.clients.platformHttp.post('/artifactory/api/search/aql', query, { 'Content-Type': 'text/plain' });
  const stale = res.data.results.map((r: any) => ({ path: r.path === '.' ? r.name : `${r.path}/${r.name}`, size: r.size }));
  let freed = 0;
  for (const item of stale) {
    if (!dryRun) await context.clients.platformHttp.delete(`/artifactory/${data.repo}/${item.path}`);
    freed += item.size;
  }
  console.log(`${dryRun ? 'would delete' : 'deleted'} ${stale.length} files, ${freed} bytes, from ${data.repo}`);
  return { dryRun, repo: data.repo, olderThanDays: days, deleted: dryRun ? [] : stale.map((s: any) => s.path), candidates: stale.map((s: any) => s.path), bytes: freed };
};
