#!/usr/bin/env bash
# One render through `cutroom serve` on an indexed video, and where its time
# goes: the job's log lines (face search, layout, encode) and the server's
# CPU use each second (100% = one core). Not a test; prints and exits 0.
#
#   bench/render/phases.sh DATA_DIR VIDEO_ID START_S END_S [REFRAME]
#
# DATA_DIR holds a video the pipeline has indexed (e.g. the data dir
# bench/pipeline/run.sh leaves under its work dir); REFRAME is auto (the
# default), face, center or fit. CUTROOM=... picks the binary (default
# build/release/cutroom). Needs curl, python3 and sqlite3.
set -euo pipefail
[[ $# -ge 4 ]] || { sed -n 2,11p "$0" >&2; exit 2; }
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
DATA=$1 VIDEO=$2 START=$3 END=$4 REFRAME=${5:-auto}
BIN=${CUTROOM:-$HERE/../../build/release/cutroom}
PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
LOG=$(mktemp)
"$BIN" --data-dir "$DATA" serve --listen "127.0.0.1:$PORT" --workers 1 --log-format json >"$LOG" 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null || true; rm -f "$LOG" "$LOG.ticks"' EXIT
for _ in $(seq 200); do curl -fsS -o /dev/null "http://127.0.0.1:$PORT/healthz" 2>/dev/null && break; sleep 0.05; done
(while kill -0 $pid 2>/dev/null; do echo "$(date +%s.%N) $(awk '{ print $14 + $15 }' /proc/$pid/stat)"; sleep 1; done) >"$LOG.ticks" &
t0=$(date +%s.%N)
spec=$(printf '{"video_id": "%s", "ranges": [[%s, %s]], "aspect": "9:16", "reframe": "%s", "captions": true}' \
  "$VIDEO" "$START" "$END" "$REFRAME")
id=$(curl -fsS -X POST -H 'Content-Type: application/json' -d "$spec" "http://127.0.0.1:$PORT/api/edit-jobs" |
  python3 -c 'import json, sys; print(json.load(sys.stdin)["edit_job_id"])')
while true; do
  st=$(curl -fsS "http://127.0.0.1:$PORT/api/edit-jobs/$id" | python3 -c 'import json, sys; print(json.load(sys.stdin)["status"])')
  [[ $st == succeeded || $st == failed || $st == cancelled ]] && break
  sleep 0.2
done
t1=$(date +%s.%N)
kill $pid
wait $pid 2>/dev/null || true
echo "edit job $id: $st in $(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }') s"
job=$(sqlite3 "$DATA/cutroom.db" "SELECT job_id FROM edit_jobs WHERE edit_job_id = '$id'")
sqlite3 -separator '  ' "$DATA/cutroom.db" "SELECT substr(ts, 12, 12), message FROM processing_logs WHERE job_id = '$job' ORDER BY ts"
echo "server CPU, each second since the request:"
awk -v t0="$t0" 'NR > 1 { printf "  %5.1f s  %4.0f%%\n", $1 - t0, ($2 - p) / ($1 - pt) } { p = $2; pt = $1 }' "$LOG.ticks"
