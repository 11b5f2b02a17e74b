#!/usr/bin/env bash
# Start a throwaway PostgreSQL cluster on loopback for the storage tests, and print the URL of its
# `postgres` database. Installs PostgreSQL from Debian's packages when it is missing.
#
#   export MUSTER_TEST_POSTGRES_URL="$(scripts/postgres.sh)"
#
# The cluster lives in $MUSTER_PG_DIR (default /tmp/muster-pg), listens on 127.0.0.1 only, port
# $MUSTER_PG_PORT (default 54329), with trust authentication for loopback: it holds synthetic test
# data only and is reused by later runs. `scripts/postgres.sh stop` stops it.
set -euo pipefail

PG_DIR="${MUSTER_PG_DIR:-/tmp/muster-pg}"
# The server runs as another account, which may not be allowed into the caller's directory.
cd /
PG_PORT="${MUSTER_PG_PORT:-54329}"

say() { printf '== %s\n' "$*" >&2; }

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

pg_bin() {
  local found
  found="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)"
  printf '%s' "$found"
}

if [ -z "$(pg_bin)" ] || [ ! -x "$(pg_bin)/initdb" ]; then
  say "installing PostgreSQL from Debian's packages"
  as_root apt-get update -qq
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq postgresql >&2
fi
BIN="$(pg_bin)"

# PostgreSQL refuses to run as root: the cluster belongs to the `postgres` account Debian's package
# creates (or to the calling user when that is not root).
if [ "$(id -u)" -eq 0 ]; then
  run_pg() { runuser -u postgres -- "$@"; }
  OWNER=postgres
else
  run_pg() { "$@"; }
  OWNER="$(id -un)"
fi

if [ "${1:-}" = "stop" ]; then
  if [ -f "$PG_DIR/PG_VERSION" ]; then run_pg "$BIN/pg_ctl" -D "$PG_DIR" -m fast stop >&2 || true; fi
  exit 0
fi

if [ ! -f "$PG_DIR/PG_VERSION" ]; then
  say "creating a PostgreSQL cluster in $PG_DIR"
  mkdir -p "$PG_DIR"
  chown "$OWNER" "$PG_DIR"
  chmod 700 "$PG_DIR"
  run_pg "$BIN/initdb" -D "$PG_DIR" -U postgres --auth=trust --encoding=UTF8 --locale=C.UTF-8 >/dev/null
  {
    echo "listen_addresses = '127.0.0.1'"
    echo "port = $PG_PORT"
    echo "unix_socket_directories = '$PG_DIR'"
    # Each test makes its own database, and several test binaries run at once.
    echo "max_connections = 300"
    echo "shared_buffers = 128MB"
  } >>"$PG_DIR/postgresql.conf"
fi

if ! run_pg "$BIN/pg_ctl" -D "$PG_DIR" status >/dev/null 2>&1; then
  say "starting PostgreSQL on 127.0.0.1:$PG_PORT"
  run_pg "$BIN/pg_ctl" -D "$PG_DIR" -l "$PG_DIR/server.log" -w -t 60 start >/dev/null
fi

for _ in $(seq 1 60); do
  if "$BIN/pg_isready" -q -h 127.0.0.1 -p "$PG_PORT"; then
    printf 'postgres://postgres@127.0.0.1:%s/postgres\n' "$PG_PORT"
    exit 0
  fi
  sleep 1
done
echo "PostgreSQL did not become ready on 127.0.0.1:$PG_PORT (see $PG_DIR/server.log)" >&2
exit 1
