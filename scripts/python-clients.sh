#!/usr/bin/env bash
# The real Python clients the conformance tests drive (python-gitlab and zuul-client, each library and CLI) and
# schemathesis, installed from PyPI into .venv-clients. Run by make test; idempotent. zuul-client's encrypt needs the openssl command.
set -euo pipefail
cd "$(dirname "$0")/.."
venv=.venv-clients
if ! python3 -m venv --help >/dev/null 2>&1; then
  scripts/setup.sh python3-venv
fi
if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv"
fi
if ! "$venv/bin/python" -c "import gitlab" 2>/dev/null; then
  "$venv/bin/pip" install --quiet --disable-pip-version-check "python-gitlab>=4.4,<7"
fi
if ! "$venv/bin/python" -c "import zuulclient" 2>/dev/null; then
  "$venv/bin/pip" install --quiet --disable-pip-version-check "zuul-client>=10,<15"
fi
# schemathesis checks the server against its OpenAPI document (docs/openapi.json).
if ! "$venv/bin/python" -c "import schemathesis" 2>/dev/null; then
  "$venv/bin/pip" install --quiet --disable-pip-version-check "schemathesis>=4.3,<5"
fi
if ! command -v openssl >/dev/null 2>&1; then
  scripts/setup.sh openssl
fi
"$venv/bin/python" -c "import gitlab; print('python-gitlab', gitlab.__version__)"
"$venv/bin/pip" show zuul-client 2>/dev/null | sed -n "s/^Version: /zuul-client /p"
"$venv/bin/pip" show schemathesis 2>/dev/null | sed -n "s/^Version: /schemathesis /p"
