#!/usr/bin/env bash
# The README's CI walk, end to end: starts a warden server (with a tenant JWT secret) and a warden runner on free
# ports with scratch folders, sets up a tenant, a project and a two-stage pipeline with `warden ci`, triggers it with
# curl, shows the log and the archived file, lists runners and jobs through the runners API v4, then enqueues a change
# through the tenant API and lists its builds (with zuul-client when it is installed, else with curl). Stops both.
# Usage: examples/ci-walkthrough.sh [path/to/warden]
set -euo pipefail
cd "$(dirname "$0")/.."
warden=$(realpath "${1:-.build/debug/warden}")
data=$(mktemp -d)
export WARDEN_TENANT_AUTH_SECRET=walkthrough-secret-of-at-least-32-bytes
WARDEN_ADMIN_TOKEN=walkthrough-token "$warden" serve --port 0 --data "$data/server" >"$data/server.log" 2>&1 &
server=$!
runner=
trap 'kill $server $runner 2>/dev/null; wait $server $runner 2>/dev/null; rm -rf "$data"' EXIT
for _ in $(seq 100); do grep -q "serving" "$data/server.log" && break; sleep 0.1; done
URL=$(grep -o 'http://127.0.0.1:[0-9]*' "$data/server.log" | head -1)
export WARDEN_URL=$URL WARDEN_TOKEN=walkthrough-token

echo "== a tenant, a group and a project in both"
"$warden" ci tenant create example
"$warden" ci group create acme
"$warden" ci project create app --group acme --tenant example
echo "== a runner, registered with the project's registration token"
"$warden" runner --server "$URL" --registration-token "$("$warden" ci registration-token --project acme/app)" \
    --tags linux --port 0 --work "$data/runner" >"$data/runner.log" 2>&1 &
runner=$!
for _ in $(seq 100); do grep -qs "registered" "$data/runner.log" && break; sleep 0.1; done
"$warden" ci runners
echo "== a two-stage pipeline whose second stage writes a file to archive"
cat >"$data/pipeline.json" <<'JSON'
{"project": "acme/app", "name": "check", "tags": ["linux"], "parameters": ["who"],
 "plan": {"stages": [
   {"name": "compile", "image": "debian:12", "script": ["echo compiling for %who%", "mkdir -p out"]},
   {"name": "package", "image": "debian:12", "script": ["echo built for %who% > out/result.txt"]}],
  "archive": ["out/result.txt"]}}
JSON
trigger=$("$warden" ci pipeline create "@$data/pipeline.json" | sed 's/.*(shown once): //')
echo "== trigger it with curl, then read the log and the archived file"
curl -s -X POST "$URL/trigger/$trigger?who=ada"; echo
for _ in $(seq 100); do curl -s -H "Authorization: Bearer $WARDEN_TOKEN" "$URL/api/pipelines/1" | grep -q '"Running"' || break; sleep 0.1; done
curl -s -H "Authorization: Bearer $WARDEN_TOKEN" "$URL/api/runs/1/last/log"
curl -s -H "Authorization: Bearer $WARDEN_TOKEN" "$URL/api/runs/1/last/archive?file=out%2Fresult.txt&mode=file"
echo "== the runner's jobs through the runners API v4"
curl -s -H "PRIVATE-TOKEN: $WARDEN_TOKEN" "$URL/api/v4/runners/1/jobs" | head -c 300; echo
echo "== the tenant API: enqueue change 42 and list the builds"
JWT=$(python3 - "$WARDEN_TENANT_AUTH_SECRET" <<'PY'
import base64, hashlib, hmac, json, sys, time
b64 = lambda b: base64.urlsafe_b64encode(b).rstrip(b"=").decode()
head = b64(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
body = b64(json.dumps({"sub": "ada", "iss": "warden", "aud": "warden", "exp": int(time.time()) + 3600,
                       "zuul": {"admin": ["example"]}}).encode())
print(f"{head}.{body}." + b64(hmac.new(sys.argv[1].encode(), f"{head}.{body}".encode(), hashlib.sha256).digest()))
PY
)
zuul=$(command -v zuul-client || ls .venv-clients/bin/zuul-client 2>/dev/null || true)
if [ -n "$zuul" ]; then
  "$zuul" --zuul-url "$URL" --auth-token "$JWT" enqueue --tenant example --pipeline check --project acme/app --change 42,1
  for _ in $(seq 100); do curl -s -H "Authorization: Bearer $JWT" "$URL/api/tenant/example/buildsets?complete=true" | grep -q '"change":42' && break; sleep 0.1; done
  "$zuul" --zuul-url "$URL" --auth-token "$JWT" builds --tenant example
else
  curl -s -X POST "$URL/api/tenant/example/project/acme/app/enqueue" -H "Authorization: Bearer $JWT" -d '{"pipeline": "check", "change": "42,1"}'; echo
  for _ in $(seq 100); do curl -s -H "Authorization: Bearer $JWT" "$URL/api/tenant/example/buildsets?complete=true" | grep -q '"change":42' && break; sleep 0.1; done
  curl -s -H "Authorization: Bearer $JWT" "$URL/api/tenant/example/builds" | head -c 600; echo
fi
