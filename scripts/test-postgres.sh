#!/usr/bin/env bash
# A throwaway PostgreSQL server for the tests: Debian's server, a new cluster in a temporary folder, password
# authentication, loopback only, on a free port. Run by the tests themselves (never left running):
#
#   scripts/test-postgres.sh        prints one line, postgres://warden:PASSWORD@127.0.0.1:PORT/postgres, when the
#                                   server takes connections, then reads commands from standard input:
#                                   `new` (a new empty database, answered with its URL), `stop` (a fast
#                                   shutdown; the folder stays), `start` (the same cluster again, on the same
#                                   port), the last two answered with a line `ok`.
#   end of input (the test process exited, however it ended): the server stops and the folder is removed.
#
# PostgreSQL refuses to run as root, and CI runs as root: then the cluster belongs to Debian's `postgres` user (or
# `nobody`). fsync is off: the tests stop the server, they never cut the machine's power.
set -euo pipefail

bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
if [ -z "$bin" ] || [ ! -x "$bin/initdb" ]; then
  echo "test-postgres: Debian's PostgreSQL server is not installed (apt-get install postgresql; make test does it)" >&2
  exit 1
fi

folder=$(mktemp -d /tmp/warden-postgres.XXXXXX)
chmod 755 "$folder"
as=()
if [ "$(id -u)" -eq 0 ]; then
  user=postgres
  id -u "$user" >/dev/null 2>&1 || user=nobody
  chown "$user" "$folder"
  as=(setpriv --reuid="$user" --regid="$(id -g "$user")" --clear-groups --)
fi

password=$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
printf '%s\n' "$password" >"$folder/password"
chmod 644 "$folder/password"

"${as[@]}" "$bin/initdb" -D "$folder/data" -U warden --pwfile="$folder/password" --auth=scram-sha-256 -E UTF8 --locale=C.UTF-8 \
  >"$folder/initdb.log" 2>&1 || {
  cat "$folder/initdb.log" >&2
  rm -rf "$folder"
  exit 1
}
rm -f "$folder/password"

pid=
start() {
  "${as[@]}" "$bin/postgres" -D "$folder/data" -p "$port" -k "$folder" -c listen_addresses=127.0.0.1 -c fsync=off \
    -c max_connections=400 -c shared_buffers=32MB >>"$folder/server.log" 2>&1 &
  pid=$!
  for _ in $(seq 1 200); do
    if "$bin/pg_isready" -q -h 127.0.0.1 -p "$port"; then return 0; fi
    if ! kill -0 "$pid" 2>/dev/null; then break; fi
    sleep 0.05
  done
  echo "test-postgres: the server did not start; its log:" >&2
  cat "$folder/server.log" >&2
  return 1
}
stop() {
  if [ -n "$pid" ]; then
    kill -INT "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
    pid=
  fi
}
finish() {
  stop
  rm -rf "$folder"
}
trap finish EXIT
trap 'exit 1' TERM INT HUP

start
echo "postgres://warden:$password@127.0.0.1:$port/postgres"
databases=0
while read -r command; do
  case "$command" in
    new)
      databases=$((databases + 1))
      PGPASSWORD=$password "$bin/createdb" -h 127.0.0.1 -p "$port" -U warden "warden$databases"
      echo "postgres://warden:$password@127.0.0.1:$port/warden$databases"
      ;;
    stop) stop && echo ok ;;
    start) start && echo ok ;;
    *) echo "test-postgres: unknown command '$command' (new, stop, start)" >&2 ;;
  esac
done
