#!/usr/bin/env bash
# Queue throughput: no-op jobs claimed and completed per second by 1, 2 and
# 4 worker processes, on PostgreSQL (a throw-away local cluster,
# tests/support/pg_cluster.sh) and on SQLite for reference, in the same run.
# Each run queues JOBS jobs into a fresh database, starts the processes at
# once and times until every job succeeded (wall time of the slowest).
# Not a test: it prints a table and exits 0 unless something broke.
#
#   bench/queue/run.sh
#   JOBS=5000 bench/queue/run.sh
#
# Environment:
#   QUEUE_BENCH  the queue_bench binary (default: build/*/bench/queue/queue_bench;
#                build with -DCUTROOM_BUILD_BENCH=ON)
#   JOBS=2000    jobs per run
#   PORT=55499   the PostgreSQL cluster's loopback port
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
JOBS=${JOBS:-2000}
PORT=${PORT:-55499}
BIN=${QUEUE_BENCH:-$(ls "$REPO"/build/*/bench/queue/queue_bench 2>/dev/null | head -1)}
[ -x "$BIN" ] || { echo "no queue_bench: cmake -DCUTROOM_BUILD_BENCH=ON and build target queue_bench" >&2; exit 1; }
work=$(mktemp -d)
pgdir=/tmp/cutroom-bench-pg-$PORT
cleanup() { "$REPO/tests/support/pg_cluster.sh" stop "$pgdir" >/dev/null 2>&1 || true; rm -rf "$work"; }
trap cleanup EXIT
admin=$("$REPO/tests/support/pg_cluster.sh" start "$pgdir" "$PORT")
base=${admin%/*}

printf "%-10s %-8s %8s %10s %10s\n" backend workers jobs seconds jobs/s
n=0
for backend in postgresql sqlite; do
  for procs in 1 2 4; do
    n=$((n + 1))
    if [ "$backend" = postgresql ]; then
      psql -q "$admin" -c "CREATE DATABASE bench_$n" >/dev/null
      url="$base/bench_$n"
    else
      url="sqlite://$work/bench_$n.db"
    fi
    "$BIN" --database "$url" --enqueue "$JOBS"
    start=$(date +%s.%N)
    pids=()
    for ((p = 0; p < procs; p++)); do "$BIN" --database "$url" --drain >"$work/out-$n-$p" & pids+=($!); done
    for pid in "${pids[@]}"; do wait "$pid"; done
    end=$(date +%s.%N)
    done_jobs=$(cat "$work"/out-$n-* | sed 's/.*"done": \([0-9]*\).*/\1/' | awk '{s += $1} END {print s}')
    [ "$done_jobs" = "$JOBS" ] || { echo "$backend x$procs: $done_jobs of $JOBS jobs done" >&2; exit 1; }
    awk -v b="$backend" -v p="$procs" -v j="$JOBS" -v s="$start" -v e="$end" \
      'BEGIN { printf "%-10s %-8s %8s %10.2f %10.0f\n", b, p, j, e - s, j / (e - s) }'
  done
done
