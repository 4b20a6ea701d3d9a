#!/usr/bin/env bash
# Runs each ready-made worker of hooks/ locally with its sample payload and prints the test-run envelope.
# Usage: examples/run-hooks.sh [path/to/warden]
set -uo pipefail
cd "$(dirname "$0")/.."
warden=${1:-.build/debug/warden}

run() {
  echo "== warden worker run $*"
  "$warden" worker run "$@"
  echo "   exit status $?"
  echo
}

run hooks/block-anonymous-release-downloads/worker.ts --action BEFORE_DOWNLOAD --data @hooks/block-anonymous-release-downloads/payload.json
run hooks/audit-downloads/worker.ts --action AFTER_DOWNLOAD --data @hooks/audit-downloads/payload.json
run hooks/upload-naming-policy/worker.ts --action BEFORE_UPLOAD --data @hooks/upload-naming-policy/payload.json
run hooks/sign-new-artifacts/worker.ts --action AFTER_CREATE --data @hooks/sign-new-artifacts/payload.json --secret signingKey=k3y-for-signing
