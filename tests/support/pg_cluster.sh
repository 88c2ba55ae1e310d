#!/usr/bin/env bash
# A throw-away PostgreSQL 15 cluster for the tests (Debian's server
# binaries): initdb into a fresh directory, a loopback port, trust auth for
# one user, no fsync (the data dies with the run), started and stopped with
# pg_ctl. PostgreSQL refuses to run as root, so as root the cluster runs as
# the postgres user the Debian package creates.
#
#   pg_cluster.sh start DIR [PORT]   prints the URL: postgresql://cutroom@127.0.0.1:PORT/postgres
#   pg_cluster.sh stop DIR
set -euo pipefail
bin="${PG_BIN:-/usr/lib/postgresql/15/bin}"
cmd="${1:?start|stop}"
dir="${2:?directory}"
as_owner() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}
case "$cmd" in
  start)
    port="${3:-55432}"
    if [ ! -x "$bin/initdb" ]; then
      echo "pg_cluster.sh: no PostgreSQL server in $bin (scripts/install-deps.sh installs postgresql)" >&2
      exit 1
    fi
    # Always a fresh cluster: one left by a run that was killed is stopped first.
    if [ -f "$dir/data/postmaster.pid" ]; then as_owner "$bin/pg_ctl" -D "$dir/data" -m immediate -w stop >/dev/null 2>&1 || true; fi
    rm -rf "$dir"
    mkdir -p "$dir"
    if [ "$(id -u)" = 0 ]; then chown postgres: "$dir"; fi
    as_owner "$bin/initdb" -D "$dir/data" -U cutroom -A trust --no-sync -E UTF8 --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 ||
      { cat "$dir/initdb.log" >&2; exit 1; }
    as_owner "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 start \
      -o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off \
          -c full_page_writes=off -c max_connections=300 -c shared_buffers=64MB" >/dev/null ||
      { cat "$dir/server.log" >&2; exit 1; }
    echo "postgresql://cutroom@127.0.0.1:$port/postgres"
    ;;
  stop)
    if [ -f "$dir/data/postmaster.pid" ]; then as_owner "$bin/pg_ctl" -D "$dir/data" -m immediate -w stop >/dev/null || true; fi
    rm -rf "$dir"
    ;;
  *)
    echo "usage: pg_cluster.sh start DIR [PORT] | stop DIR" >&2
    exit 2
    ;;
esac
