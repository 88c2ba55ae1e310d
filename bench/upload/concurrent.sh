#!/usr/bin/env bash
# Many uploads at once: CLIENTS (50) curl clients upload the same generated
# media file (SIZE_MB, ~150 MB) to one `cutroom serve` at the same moment,
# over tus (one POST, then one PATCH with the whole file each) and over
# multipart (POST /api/videos/upload). Samples the server's VmRSS every
# 100 ms and reports idle RSS, peak RSS (sampled and VmHWM), the total MB/s
# and that every upload arrived intact (the sha256 the API reports and the
# sha256 of each stored blob file). Exits 1 if an upload failed or is not
# intact. See concurrent.md beside this file.
#
#   bench/upload/concurrent.sh                 # 50 x 150 MB, tus then multipart
#   MODES=tus SIZE_MB=100 bench/upload/concurrent.sh
#   CLIENTS=8 SIZE_MB=20 bench/upload/concurrent.sh   # a quick smoke run
#
# Environment:
#   CLIENTS=50           uploads at once
#   SIZE_MB=150          size of the media file (rawvideo 1280x720 in matroska), 10^6 bytes
#   MODES="tus multipart"
#   WORKERS=0            workers.count of the server: 0 keeps the thumbnails jobs every upload
#                        queues from running, so the RSS is the upload path's alone
#   VERIFY_BLOBS=1       also hash every stored blob file (reads CLIENTS x SIZE_MB again)
#   CUTROOM_BINARY       default <repo>/build/release/cutroom
#   BENCH_TMPDIR         parent of the work dir (default $TMPDIR or /tmp); the data dir is
#                        deleted between modes, so the disk needs about (CLIENTS + 1) x SIZE_MB free
#   KEEP=0               1: keep the work dir (server logs, RSS samples)
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
CLIENTS=${CLIENTS:-50}
SIZE_MB=${SIZE_MB:-150}
MODES=${MODES:-tus multipart}
WORKERS=${WORKERS:-0}
VERIFY_BLOBS=${VERIFY_BLOBS:-1}
CUTROOM_BINARY=${CUTROOM_BINARY:-$REPO/build/release/cutroom}
BENCH_TMPDIR=${BENCH_TMPDIR:-${TMPDIR:-/tmp}}
KEEP=${KEEP:-0}

log() { printf '[concurrent] %s\n' "$*" >&2; }
die() { printf '[concurrent] error: %s\n' "$*" >&2; exit 2; }
now() { date +%s.%N; }
for tool in curl ffmpeg python3 sha256sum awk; do command -v "$tool" >/dev/null || die "$tool is required"; done
[[ -x $CUTROOM_BINARY ]] || die "$CUTROOM_BINARY is missing (scripts/build.sh)"

mkdir -p "$BENCH_TMPDIR"
WORK=$(mktemp -d "$BENCH_TMPDIR/cutroom-concurrent.XXXXXX")
SERVER_PID=""
SAMPLER_PID=""
cleanup() {
  local rc=$?
  [[ -n $SAMPLER_PID ]] && kill "$SAMPLER_PID" 2>/dev/null || true
  if [[ -n $SERVER_PID ]] && kill -0 "$SERVER_PID" 2>/dev/null; then
    kill -TERM "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
  fi
  if [[ $KEEP == 1 ]]; then log "kept $WORK"; else rm -rf "$WORK"; fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

need_mib=$(((CLIENTS + 2) * SIZE_MB * 1000000 / 1048576 + 1024))
avail_mib=$(df -Pm "$WORK" | awk 'NR == 2 { print $4 }')
((avail_mib > need_mib)) || die "need about $need_mib MiB free under $BENCH_TMPDIR, have $avail_mib MiB"

# --- the media file: real media (cutroom refuses anything else) --------------
FRAME_BYTES=$((1280 * 720 * 3 / 2))
frames=$(((SIZE_MB * 1000000 + FRAME_BYTES - 1) / FRAME_BYTES))
SRC=$WORK/source.mkv
log "generating $frames frames of rawvideo 1280x720 in matroska (~$SIZE_MB MB)"
ffmpeg -hide_banner -loglevel error -nostdin -y -f lavfi -i testsrc2=size=1280x720:rate=30 -frames:v "$frames" \
  -c:v rawvideo -pix_fmt yuv420p -f matroska "$SRC"
SIZE=$(stat -c %s "$SRC")
SRC_SHA=$(sha256sum "$SRC" | awk '{ print $1 }')
cat "$SRC" >/dev/null # every client reads it from the page cache

CLEAN_ENV=(env)
while IFS= read -r var; do [[ $var == CUTROOM_* ]] && CLEAN_ENV+=(-u "$var"); done < <(compgen -e)
PY=$(python3 -c 'import sys; print(sys.executable)') # the interpreter itself, not a shim: starts fast
free_port() { "$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
status_kib() { # pid field -> kB
  local k v _
  while read -r k v _; do [[ $k == "$2:" ]] && { echo "$v"; return; }; done <"/proc/$1/status"
  echo 0
}

# VmRSS every 100 ms into $2 ("seconds kB" lines) until $1 exits or the
# sampler is killed: one python process (no fork per sample), at a higher
# priority where allowed, so 50 busy clients on 2 cores do not starve it.
sample_rss() { # pid out
  local nice_cmd=()
  nice -n -10 true 2>/dev/null && nice_cmd=(nice -n -10)
  : >"$2"
  exec "${nice_cmd[@]}" "$PY" -c '
import sys, time
pid, out = sys.argv[1], open(sys.argv[2], "w", buffering=1)
nxt = time.monotonic()
while True:
    try:
        with open(f"/proc/{pid}/status") as f:
            kb = next(l.split()[1] for l in f if l.startswith("VmRSS:"))
    except (OSError, StopIteration):
        break
    out.write(f"{time.monotonic():.3f} {kb}\n")
    nxt += 0.1
    time.sleep(max(0.0, nxt - time.monotonic()))
' "$1" "$2"
}

start_server() { # mode
  DIR=$WORK/$1
  mkdir -p "$DIR/data"
  PORT=$(free_port)
  BASE=http://127.0.0.1:$PORT
  (cd "$DIR" && exec "${CLEAN_ENV[@]}" "$CUTROOM_BINARY" serve --listen "127.0.0.1:$PORT" --data-dir "$DIR/data" \
    --log-format json --workers "$WORKERS") >"$DIR/server.log" 2>&1 &
  SERVER_PID=$!
  local i
  for ((i = 0; i < 400; i++)); do
    curl -fsS -o /dev/null "$BASE/healthz" 2>/dev/null && return 0
    kill -0 "$SERVER_PID" 2>/dev/null || break
    sleep 0.05
  done
  tail -n 20 "$DIR/server.log" >&2
  die "cutroom did not become healthy"
}

stop_server() {
  kill -TERM "$SERVER_PID" 2>/dev/null || true
  wait "$SERVER_PID" 2>/dev/null || true
  SERVER_PID=""
}

# One client: writes "seconds http_code" to $DIR/client-N.out (and the
# answer's head or body beside it, read after the clock stops).
tus_client() { # n url
  curl -sS -o /dev/null -D "$DIR/client-$1.hdr" -w '%{time_total} %{http_code}\n' -X PATCH \
    -H 'Content-Type: application/offset+octet-stream' -H 'Upload-Offset: 0' -H 'Tus-Resumable: 1.0.0' \
    -H 'Expect:' -T "$SRC" "$2" >"$DIR/client-$1.out" 2>>"$DIR/client-$1.err" || echo "0 000" >"$DIR/client-$1.out"
}
multipart_client() { # n
  curl -sS -o "$DIR/client-$1.body" -w '%{time_total} %{http_code}\n' -H 'Expect:' \
    -F "file=@$SRC;type=video/x-matroska" -F "title=concurrent $1" "$BASE/api/videos/upload" \
    >"$DIR/client-$1.out" 2>>"$DIR/client-$1.err" || echo "0 000" >"$DIR/client-$1.out"
}
video_id_of() { # n
  if [[ -f $DIR/client-$1.hdr ]]; then
    tr -d '\r' <"$DIR/client-$1.hdr" | awk 'tolower($1) == "cutroom-video-id:" { print $2 }'
  else
    "$PY" -c 'import json, sys; print(json.load(open(sys.argv[1])).get("video_id", ""))' "$DIR/client-$1.body" \
      2>/dev/null || true
  fi
}

RESULTS=$WORK/results.txt
: >"$RESULTS"
FAILED=0
for mode in $MODES; do
  [[ $mode == tus || $mode == multipart ]] || die "unknown mode $mode"
  sync
  start_server "$mode"
  sleep 2 # let start-up settle
  IDLE_KIB=$(status_kib "$SERVER_PID" VmRSS)
  sample_rss "$SERVER_PID" "$DIR/rss.txt" &
  SAMPLER_PID=$!
  urls=()
  if [[ $mode == tus ]]; then
    for ((n = 0; n < CLIENTS; n++)); do
      loc=$(curl -sS -o /dev/null -D - -X POST -H 'Tus-Resumable: 1.0.0' -H "Upload-Length: $SIZE" \
        -H "Upload-Metadata: filename $(printf 'concurrent-%d.mkv' "$n" | base64)" "$BASE/api/uploads/" |
        tr -d '\r' | awk 'tolower($1) == "location:" { print $2 }')
      [[ -n $loc ]] || die "tus POST $n gave no Location"
      urls+=("$BASE$loc")
    done
  fi
  log "$mode: $CLIENTS uploads of $SIZE bytes at once (idle VmRSS $((IDLE_KIB / 1024)) MiB)"
  t0=$(now)
  pids=()
  for ((n = 0; n < CLIENTS; n++)); do
    if [[ $mode == tus ]]; then tus_client "$n" "${urls[n]}" & else multipart_client "$n" & fi
    pids+=($!)
  done
  for p in "${pids[@]}"; do wait "$p" || true; done
  t1=$(now)
  HWM_KIB=$(status_kib "$SERVER_PID" VmHWM)
  AFTER_KIB=$(status_kib "$SERVER_PID" VmRSS)
  kill "$SAMPLER_PID" 2>/dev/null || true
  wait "$SAMPLER_PID" 2>/dev/null || true
  SAMPLER_PID=""

  # Every upload: 204/201, a video id, the right sha256 from the API and on disk.
  ok=0 bad=0 ids=()
  for ((n = 0; n < CLIENTS; n++)); do
    read -r secs code <"$DIR/client-$n.out" || true
    vid=$(video_id_of "$n")
    want=$([[ $mode == tus ]] && echo 204 || echo 201)
    if [[ $code != "$want" || -z ${vid:-} ]]; then
      log "client $n: HTTP $code, video '${vid:-}' $(head -c 300 "$DIR/client-$n.body" 2>/dev/null) $(cat "$DIR/client-$n.err")"
      bad=$((bad + 1))
      continue
    fi
    sha=$(curl -fsS "$BASE/api/videos/$vid" | "$PY" -c 'import json, sys; print(json.load(sys.stdin)["sha256"])')
    if [[ $sha != "$SRC_SHA" ]]; then
      log "client $n: $vid reports sha256 $sha"
      bad=$((bad + 1))
      continue
    fi
    ids+=("$vid")
    ok=$((ok + 1))
  done
  distinct=$(printf '%s\n' "${ids[@]}" | sort -u | grep -c . || true)
  ((distinct == ok)) || { log "only $distinct distinct video ids for $ok uploads"; bad=$((bad + 1)); }
  stop_server
  blobs_ok="-"
  if [[ $VERIFY_BLOBS == 1 ]]; then
    log "$mode: hashing the $ok stored blob files"
    nblob=0
    while read -r h _; do
      [[ $h == "$SRC_SHA" ]] && nblob=$((nblob + 1))
    done < <(find "$DIR/data/blobs/media" -name source -type f -print0 | xargs -0 -r -n 8 -P 2 sha256sum)
    blobs_ok=$nblob
    ((nblob == ok)) || { log "$mode: $nblob blob files hash right, $ok uploads answered"; bad=$((bad + 1)); }
  fi
  ((bad == 0)) || FAILED=1
  peak_sampled=$(awk 'BEGIN { m = 0 } $2 > m { m = $2 } END { print m }' "$DIR/rss.txt")
  samples=$(awk 'NR > 1 && $1 - t > g { g = $1 - t } { t = $1 } END { printf "%d (gap<=%.2fs)", NR, g }' "$DIR/rss.txt")
  secs=$(awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }')
  per=$(awk '{ print $1 }' "$DIR"/client-*.out | sort -n | awk '{ v[NR] = $1 } END { printf "%.1f/%.1f/%.1f", v[1], v[int((NR + 1) / 2)], v[NR] }')
  printf '%s\t%d\t%d\t%s\t%.1f\t%.1f\t%.1f\t%.1f\t%.1f\t%s\t%s\t%s\t%d\n' "$mode" "$ok" "$CLIENTS" "$blobs_ok" \
    "$(awk -v b="$SIZE" -v n="$ok" -v s="$secs" 'BEGIN { print b * n / 1e6 / s }')" "$secs" \
    "$(awk -v k="$IDLE_KIB" 'BEGIN { print k / 1024 }')" "$(awk -v k="$peak_sampled" 'BEGIN { print k / 1024 }')" \
    "$(awk -v k="$HWM_KIB" 'BEGIN { print k / 1024 }')" "$per" "$samples" \
    "$(awk -v k="$AFTER_KIB" 'BEGIN { printf "%.1f", k / 1024 }')" "$bad" >>"$RESULTS"
  [[ $KEEP == 1 ]] || rm -rf "$DIR/data" # keep the disk in check between modes
done

echo
printf 'Concurrent uploads: %d clients x %d bytes (%.0f MB) each, rawvideo/matroska, curl %s, %s, %d cores, workers %s\n' \
  "$CLIENTS" "$SIZE" "$(awk -v b="$SIZE" 'BEGIN { print b / 1e6 }')" "$(curl --version | awk 'NR == 1 { print $2 }')" \
  "$(df -PT "$WORK" | awk 'NR == 2 { print $2 }')" "$(nproc)" "$WORKERS"
printf '%-10s %9s %8s %9s %8s %9s %10s %10s %10s %19s %21s\n' mode intact blobs "MB/s" seconds "idle RSS" \
  "peak RSS" "VmHWM" "RSS after" "samples" "client s min/med/max"
while IFS=$'\t' read -r mode ok n blobs mbps secs idle peak hwm per samples after bad; do
  printf '%-10s %9s %8s %9s %8s %8s M %8s M %8s M %8s M %19s %21s\n' "$mode" "$ok/$n" "$blobs" "$mbps" "$secs" "$idle" \
    "$peak" "$hwm" "$after" "$samples" "$per"
done <"$RESULTS"
echo "(RSS in MiB: idle = VmRSS 2 s after start; peak = highest VmRSS sampled every 100 ms while the uploads ran;"
echo " VmHWM and RSS after = read when the last upload was answered;"
echo " MB/s = all bytes / time from the first PATCH or POST to the last answer, which comes once the upload is durable and registered)"
exit "$FAILED"
