import { PlatformContext, AfterDownloadRequest, AfterDownloadResponse } from './types';

// AFTER_DOWNLOAD: one audit line per download (who, what, from where), and a running count kept in the worker's state.
export default async (context: PlatformContext, data: AfterDownloadRequest): Promise<AfterDownloadResponse> => {
  const count = Number(context.state.get('downloads') || 0) + 1;
  context.state.set('downloads', count);
  const agent = data.headers['User-Agent']?.value?.[0] ?? 'unknown agent';
  console.log(`download #${count}: ${data.metadata.repoPath.id} by ${data.userContext.id} from ${data.metadata.clientAddress} (${agent})`);
  return { message: `audited download #${count}` };
};
