#!/usr/bin/env bash
# Compares the hooked 1 KiB download of two warden builds side by side on this machine: both servers run at once
# (fresh data folders, loopback ports), wrk loads them in turn (-t2 -c32, 5 s, three rounds each, alternating), and
# each round prints the requests and the CPU per request of every thread kind of the server and its executors, read
# from /proc before and after (no profiler in the way). On a shared, noisy machine only such side-by-side ratios
# say whether a change helped.
#   scripts/compare-builds.sh OLD_BINARY NEW_BINARY [PATH]
# e.g. a worktree of the base commit built with `swift build -c release --product warden` against .build/release.
set -euo pipefail

old=${1:?usage: compare-builds.sh OLD_BINARY NEW_BINARY [PATH]}
new=${2:?usage: compare-builds.sh OLD_BINARY NEW_BINARY [PATH]}
path=${3:-/artifactory/hooked/file.bin}
command -v wrk >/dev/null || { echo "compare-builds: needs wrk (apt-get install wrk)" >&2; exit 1; }
token="compare-$$"
work=$(mktemp -d)
pids=()
trap 'kill "${pids[@]}" 2>/dev/null || true; rm -rf "$work"' EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# Starts a server of binary $1 on port $2 with a plain and a hooked repository holding file.bin.
start() {
  local binary=$1 port=$2 auth="Authorization: Bearer $token" url="http://127.0.0.1:$2"
  mkdir -p "$work/$port"
  WARDEN_ADMIN_TOKEN=$token "$binary" serve --port "$port" --data "$work/$port" >"$work/$port.log" 2>&1 &
  pids+=($!)
  echo $! >"$work/$port.pid"
  for _ in $(seq 100); do curl -sf -o /dev/null "$url/worker/api/v1/system/liveness" && break; sleep 0.1; done
  for repo in plain hooked; do
    curl -sf -o /dev/null -X PUT "$url/artifactory/api/repositories/$repo" -H "$auth" -d '{"rclass":"local","packageType":"generic"}'
    head -c 1024 /dev/zero | tr '\0' x | curl -sf -o /dev/null -X PUT -H "$auth" --data-binary @- "$url/artifactory/$repo/file.bin"
  done
  curl -sf -o /dev/null -X POST "$url/worker/api/v1/workers" -H "$auth" -d '{"key":"compare","action":"BEFORE_DOWNLOAD","enabled":true,
    "sourceCode":"export default async () => ({ status: 1, message: \"ok\" });",
    "filterCriteria":{"artifactFilterCriteria":{"repoKeys":["hooked"],"includePatterns":["file.bin"]}}}'
  wrk -t2 -c32 -d1s -H "$auth" "$url$path" >/dev/null
}

# CPU ticks of every thread of the server $1 and its children, summed by thread name.
ticks() {
  local server=$1
  for pid in "$server" $(pgrep -P "$server"); do
    for task in /proc/"$pid"/task/*; do
      local kind=executor
      [ "$pid" = "$server" ] && kind=server
      echo "$kind:$(cat "$task/comm" 2>/dev/null) $(awk '{print $14 + $15}' "$task/stat" 2>/dev/null || echo 0)"
    done
  done | awk '{sum[$1] += $2} END {for (k in sum) print k, sum[k]}' | sort
}

round() {
  local name=$1 port=$2 server before after requests
  server=$(cat "$work/$port.pid")
  before=$(ticks "$server")
  requests=$(wrk -t2 -c32 -d5s -H "Authorization: Bearer $token" "http://127.0.0.1:$port$path" | awk '/requests in/ {print $1}')
  after=$(ticks "$server")
  local hz
  hz=$(getconf CLK_TCK)
  join <(echo "$before") <(echo "$after") | awk -v n="$requests" -v hz="$hz" -v name="$name" '
    { d = $3 - $2; total += d; if (d > 0) parts = parts sprintf(" %s %.0f", $1, d * 1e6 / hz / n) }
    END { printf "%-4s %6d requests in 5 s, %4.0f µs CPU per request:%s\n", name, n, total * 1e6 / hz / n, parts }'
}

old_port=$(free_port)
start "$old" "$old_port"
new_port=$(free_port)
start "$new" "$new_port"
for _ in 1 2 3; do
  round old "$old_port"
  round new "$new_port"
done
