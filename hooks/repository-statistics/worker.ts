import { PlatformContext } from './types';

// GENERIC_EVENT: a statistics report of the repositories: files, folders and bytes from the storage summary, and
// the most downloaded files (AQL). Call it with {} or {"top": 5}.
export default async (context: PlatformContext, data: { top?: number }) => {
  const top = data && Number.isInteger(data.top) ? data.top! : 3;
  const info = await context.clients.platformHttp.get('/artifactory/api/storageinfo');
  const repositories = info.data.repositoriesSummaryList.map((r: any) => ({
    key: r.repoKey, files: r.filesCount, folders: r.foldersCount, bytes: r.usedSpaceInBytes,
  }));
  const query = 'items.find({"type":"file","stat.downloads":{"$gt":0}}).include("repo","path","name","stat")';
  const res = await context.clients.platformHttp.post('/artifactory/api/search/aql', query, { 'Content-Type': 'text/plain' });
  const downloads = res.data.results
    .map((r: any) => ({ id: `${r.repo}:${r.path === '.' ? '' : r.path + '/'}${r.name}`, downloads: r.stats[0].downloads }))
    .sort((a: any, b: any) => b.downloads - a.downloads || (a.id < b.id ? -1 : 1))
    .slice(0, top);
  const totals = repositories.reduce((t: any, r: any) => ({ files: t.files + r.files, bytes: t.bytes + r.bytes }), { files: 0, bytes: 0 });
  return { repositories, totals, mostDownloaded: downloads };
};
