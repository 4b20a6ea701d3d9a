import { PlatformContext, AfterDownloadRequest, AfterDownloadResponse } from './types';

// AFTER_DOWNLOAD: reports each download to an outside endpoint (property "reportUrl", a host the server allows
// with --allow-hosts) with the bearer token in the secret "reportToken".
export default async (context: PlatformContext, data: AfterDownloadRequest): Promise<AfterDownloadResponse> => {
  const url = context.properties.get('reportUrl');
  if (!url) return { message: 'no reportUrl property: nothing reported' };
  const event = {
    artifact: data.metadata.repoPath.id,
    user: data.userContext.id,
    client: data.metadata.clientAddress,
    at: new Date().toISOString(),
  };
  const res = await context.clients.axios.post(url, event, {
    headers: { Authorization: `Bearer ${context.secrets.get('reportToken')}`, 'Content-Type': 'application/json' },
  });
  return { message: `reported ${event.artifact} (${res.status})` };
};
