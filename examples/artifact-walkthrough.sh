#!/usr/bin/env bash
# The README's five-minute walk, end to end: starts a warden server on a free port with a scratch data folder,
# creates a repository, deploys a BEFORE_DOWNLOAD worker, uploads with curl -T, shows the stopped download and the
# run in the execution history, then stops the server.
# Usage: examples/artifact-walkthrough.sh [path/to/warden]
set -euo pipefail
cd "$(dirname "$0")/.."
warden=${1:-.build/debug/warden}
data=$(mktemp -d)
log="$data/server.log"
WARDEN_ADMIN_TOKEN=walkthrough-token "$warden" serve --port 0 --data "$data" >"$log" 2>&1 &
server=$!
trap 'kill $server 2>/dev/null; wait $server 2>/dev/null; rm -rf "$data"' EXIT
for _ in $(seq 100); do grep -q "serving" "$log" && break; sleep 0.1; done
URL=$(grep -o 'http://127.0.0.1:[0-9]*' "$log" | head -1)
AUTH="Authorization: Bearer walkthrough-token"

echo "== create the repository libs"
curl -s -X PUT "$URL/artifactory/api/repositories/libs" -H "$AUTH" -d '{"rclass":"local","packageType":"generic"}'; echo
echo "== deploy a BEFORE_DOWNLOAD worker: nothing under internal/ leaves the server"
curl -s -o /dev/null -w "%{http_code}\n" -X POST "$URL/worker/api/v1/workers" -H "$AUTH" -d '{
  "key": "no-internal", "action": "BEFORE_DOWNLOAD", "enabled": true,
  "filterCriteria": {"artifactFilterCriteria": {"repoKeys": ["libs"]}},
  "sourceCode": "export default async (context, data) => data.repoPath.path.startsWith(\"internal/\") ? { status: DownloadStatus.DOWNLOAD_STOP, message: `${data.repoPath.id} is internal` } : { status: DownloadStatus.DOWNLOAD_PROCEED, message: \"ok\" };"}'
echo "== upload with curl -T"
echo 'secret plans' >"$data/plans.txt"
curl -s -H "$AUTH" -T "$data/plans.txt" "$URL/artifactory/libs/internal/plans.txt"; echo
echo "== download: stopped by the worker"
curl -s -H "$AUTH" "$URL/artifactory/libs/internal/plans.txt"; echo
echo "== the run in the execution history"
curl -s -H "$AUTH" "$URL/worker/api/v1/execution_history?workerKey=no-internal" | head -c 400; echo
