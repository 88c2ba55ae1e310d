#!/usr/bin/env bash
# Upload throughput benchmark: cutroom's tus endpoint against dd (the disk)
# and against @tus/server + @tus/file-store (a stock tus server), with the
# same clients (tus-js-client, one chunk and CHUNK_MIB chunks; curl, one PATCH),
# all in one run on one filesystem. Also reports cutroom's peak RSS (VmHWM).
# Not a test: it prints a table and exits 0 unless something broke.
# See README.md beside this file.
#
#   bench/upload/run.sh                     # 1 GiB
#   SIZE_GIB=4 bench/upload/run.sh          # the RSS check
#   SIZE_GIB=0.1 bench/upload/run.sh        # a quick smoke run
#
# Environment:
#   SIZE_GIB=1         size of the generated media file (rawvideo 1280x720 in matroska)
#   CHUNK_MIB=64       chunk size for the chunked tus-js-client runs
#   REPEAT=3           rounds; every upload is paired with a dd run of its own and the
#                      median of the rounds is reported (odd rounds run dd first, even ones last)
#   CUTROOM_BINARY     default <repo>/build/release/cutroom
#   BENCH_TMPDIR       parent of the work dir (default $TMPDIR or /tmp); every file
#                      (source, dd output, both servers' data) is written under it
#   MEDIA=FILE         use this media file instead of generating one (it is not deleted)
#   PEER_FSYNC=0       1: @tus/server fsyncs the finished file before answering the last PATCH
#   CURL_BODY=upload-file   how curl sends the file: upload-file (-T, streamed) or
#                      data-binary (--data-binary @FILE, which curl reads into memory first)
#   VERIFY=1           check the sha256 cutroom reports for each upload
#   KEEP=0             1: keep the work dir (logs, data) after the run
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)

SIZE_GIB=${SIZE_GIB:-1}
CHUNK_MIB=${CHUNK_MIB:-64}
REPEAT=${REPEAT:-3}
CUTROOM_BINARY=${CUTROOM_BINARY:-$REPO/build/release/cutroom}
BENCH_TMPDIR=${BENCH_TMPDIR:-${TMPDIR:-/tmp}}
MEDIA=${MEDIA:-}
PEER_FSYNC=${PEER_FSYNC:-0}
CURL_BODY=${CURL_BODY:-upload-file}
VERIFY=${VERIFY:-1}
KEEP=${KEEP:-0}

log() { printf '[bench] %s\n' "$*" >&2; }
die() { printf '[bench] error: %s\n' "$*" >&2; exit 1; }
now() { date +%s.%N; }
for tool in node npm ffmpeg curl dd awk sha256sum; do
  command -v "$tool" >/dev/null || die "$tool is required"
done
[[ $CURL_BODY == upload-file || $CURL_BODY == data-binary ]] || die "CURL_BODY must be upload-file or data-binary"

# --- work dir, cleanup --------------------------------------------------------
mkdir -p "$BENCH_TMPDIR"
WORK=$(mktemp -d "$BENCH_TMPDIR/cutroom-bench-upload.XXXXXX")
SERVER_PID=""
cleanup() {
  local rc=$?
  if [[ -n $SERVER_PID ]] && kill -0 "$SERVER_PID" 2>/dev/null; then
    kill -TERM "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
  fi
  if [[ $KEEP == 1 ]]; then
    log "kept $WORK"
  else
    rm -rf "$WORK"
  fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# --- dependencies -------------------------------------------------------------
log "npm install in $HERE"
(cd "$HERE" && npm install --no-audit --no-fund --loglevel=error >/dev/null)

# --- the media file -----------------------------------------------------------
FRAME_BYTES=$((1280 * 720 * 3 / 2)) # yuv420p
if [[ -n $MEDIA ]]; then
  [[ -f $MEDIA ]] || die "MEDIA=$MEDIA does not exist"
  SRC=$MEDIA
else
  SRC=$WORK/source.mkv
  frames=$(awk -v g="$SIZE_GIB" -v f="$FRAME_BYTES" 'BEGIN { n = g * 1073741824 / f; printf "%d", (n == int(n)) ? n : int(n) + 1 }')
  need_kib=$(awk -v g="$SIZE_GIB" 'BEGIN { printf "%d", g * 1048576 * 2.5 + 1048576 }')
  avail_kib=$(df -Pk "$WORK" | awk 'NR == 2 { print $4 }')
  ((avail_kib > need_kib)) || die "need about $((need_kib / 1048576)) GiB free under $BENCH_TMPDIR, have $((avail_kib / 1048576)) GiB"
  log "generating $SIZE_GIB GiB of media ($frames frames of rawvideo 1280x720 yuv420p in matroska)"
  ffmpeg -hide_banner -loglevel error -nostdin -y \
    -f lavfi -i testsrc2=size=1280x720:rate=30 -frames:v "$frames" \
    -c:v rawvideo -pix_fmt yuv420p -f matroska "$WORK/source.tmp.mkv"
  mv "$WORK/source.tmp.mkv" "$SRC"
fi
SIZE=$(stat -c %s "$SRC")
SRC_SHA=""
if [[ $VERIFY == 1 ]]; then
  log "sha256 of the source"
  SRC_SHA=$(sha256sum "$SRC" | awk '{ print $1 }')
fi
cat "$SRC" >/dev/null # same page-cache state for every run: the source is read from memory

# --- helpers ------------------------------------------------------------------
free_port() {
  node -e 'const s = require("net").createServer(); s.listen(0, "127.0.0.1", () => { console.log(s.address().port); s.close(); })'
}

# The server must not see the caller's CUTROOM_* settings (database url, data dir, ...).
CLEAN_ENV=(env)
while IFS= read -r var; do
  [[ $var == CUTROOM_* ]] && CLEAN_ENV+=(-u "$var")
done < <(compgen -e)

wait_healthy() { # url pid
  local i
  for ((i = 0; i < 400; i++)); do
    curl -fsS -o /dev/null "$1/healthz" 2>/dev/null && return 0
    kill -0 "$2" 2>/dev/null || return 1
    sleep 0.05
  done
  return 1
}

fstype() { df -PT "$WORK" | awk 'NR == 2 { print $2 }'; }

hwm_kib() { awk '/^VmHWM:/ { print $2 }' "/proc/$1/status" 2>/dev/null || echo 0; }

stop_server() {
  [[ -n $SERVER_PID ]] || return 0
  kill -TERM "$SERVER_PID" 2>/dev/null || true
  wait "$SERVER_PID" 2>/dev/null || true
  SERVER_PID=""
}

# Sets SERVER_PID, SERVER_BASE, SERVER_DIR, ENDPOINT. $1: cutroom|peer, $2: tag.
start_server() {
  local kind=$1 tag=$2 port
  SERVER_DIR=$WORK/$kind-$tag
  mkdir -p "$SERVER_DIR/data"
  port=$(free_port)
  SERVER_BASE=http://127.0.0.1:$port
  if [[ $kind == cutroom ]]; then
    (cd "$SERVER_DIR" && exec "${CLEAN_ENV[@]}" "$CUTROOM_BINARY" serve --workers 0 --listen "127.0.0.1:$port" \
      --data-dir "$SERVER_DIR/data" --log-format json) >"$SERVER_DIR/server.log" 2>&1 &
    ENDPOINT=$SERVER_BASE/api/uploads/
  else
    local fsync_flag=()
    [[ $PEER_FSYNC == 1 ]] && fsync_flag=(--fsync)
    (cd "$HERE" && exec node peer-server.mjs --port "$port" --dir "$SERVER_DIR/data" "${fsync_flag[@]}") \
      >"$SERVER_DIR/server.log" 2>&1 &
    ENDPOINT=$SERVER_BASE/files/
  fi
  SERVER_PID=$!
  if ! wait_healthy "$SERVER_BASE" "$SERVER_PID"; then
    tail -n 30 "$SERVER_DIR/server.log" >&2 || true
    die "$kind did not become healthy"
  fi
}

# One upload with curl: POST to create, then one PATCH with the whole file.
# Sets RUN_SECS and RUN_VID.
curl_upload() {
  local hdr=$SERVER_DIR/curl.hdr loc url code t0 t1 origin body
  origin=$(sed -E 's#^(https?://[^/]+).*#\1#' <<<"$ENDPOINT")
  if [[ $CURL_BODY == data-binary ]]; then body=(--data-binary "@$SRC"); else body=(-T "$SRC"); fi
  t0=$(now)
  curl -sS -o /dev/null -D "$hdr" -X POST -H 'Tus-Resumable: 1.0.0' -H "Upload-Length: $SIZE" \
    -H "Upload-Metadata: filename $(printf 'source.mkv' | base64)" "$ENDPOINT"
  loc=$(tr -d '\r' <"$hdr" | awk 'tolower($1) == "location:" { print $2; exit }')
  [[ -n $loc ]] || { cat "$hdr" >&2; die "POST $ENDPOINT gave no Location"; }
  if [[ $loc == http://* || $loc == https://* ]]; then url=$loc; else url=$origin$loc; fi
  code=$(curl -sS -o "$SERVER_DIR/curl.body" -D "$hdr" -w '%{http_code}' -X PATCH \
    -H 'Content-Type: application/offset+octet-stream' -H 'Upload-Offset: 0' -H 'Tus-Resumable: 1.0.0' \
    -H 'Expect:' "${body[@]}" "$url")
  t1=$(now)
  [[ $code == 204 ]] || { cat "$hdr" "$SERVER_DIR/curl.body" >&2; die "PATCH $url answered $code"; }
  RUN_VID=$(tr -d '\r' <"$hdr" | awk 'tolower($1) == "cutroom-video-id:" { print $2; exit }')
  RUN_SECS=$(awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }')
}

# One upload with tus-js-client ($1: chunk MiB, 0 = one chunk). Sets RUN_SECS and RUN_VID.
tusjs_upload() {
  local out
  out=$(cd "$HERE" && node client.mjs --endpoint "$ENDPOINT" --file "$SRC" --chunk-mib "$1") ||
    { tail -n 30 "$SERVER_DIR/server.log" >&2; die "tus-js-client upload to $ENDPOINT failed"; }
  RUN_SECS=$(node -e 'console.log(JSON.parse(process.argv[1]).seconds)' "$out")
  RUN_VID=$(node -e 'console.log(JSON.parse(process.argv[1]).video_id ?? "")' "$out")
}

verify_cutroom_video() { # video id
  [[ $VERIFY == 1 ]] || return 0
  [[ -n $1 ]] || die "cutroom's last PATCH carried no Cutroom-Video-Id"
  local json sha
  json=$(curl -fsS "$SERVER_BASE/api/videos/$1") || die "GET /api/videos/$1 failed"
  sha=$(node -e 'console.log(JSON.parse(process.argv[1]).sha256)' "$json")
  [[ $sha == "$SRC_SHA" ]] || die "cutroom stored sha256 $sha, the source has $SRC_SHA"
}

RESULTS=$WORK/results.tsv
: >"$RESULTS"
record() { # name round seconds hwm_kib
  local mbps
  mbps=$(awk -v b="$SIZE" -v s="$3" 'BEGIN { printf "%.1f", b / 1e6 / s }')
  printf '%s\t%s\t%s\t%s\n' "$1" "$2" "$mbps" "$4" >>"$RESULTS"
  log "$(printf 'round %s  %-34s %8s MB/s  %6.1f s  peak RSS %s MiB' "$2" "$1" "$mbps" "$3" "$(awk -v k="$4" 'BEGIN { printf "%.1f", k / 1024 }')")"
}

# The disk alone, as dd writes the source: in one go with one fdatasync at
# the end (what "vs dd" compares with), or in CHUNK_MIB pieces with an
# fdatasync after each (what any server that makes each chunk durable
# before it answers can reach at best). Sets RUN_SECS.
dd_whole() {
  local t0 t1
  sync
  t0=$(now)
  dd if="$SRC" of="$WORK/dd.out" bs=4M conv=fdatasync status=none
  t1=$(now)
  rm -f "$WORK/dd.out"
  RUN_SECS=$(awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }')
}
dd_pieces() {
  local t0 t1 i n
  n=$(((SIZE + CHUNK_MIB * 1048576 - 1) / (CHUNK_MIB * 1048576)))
  sync
  t0=$(now)
  for ((i = 0; i < n; i++)); do
    dd if="$SRC" of="$WORK/dd.out" bs=1M count="$CHUNK_MIB" skip=$((CHUNK_MIB * i)) seek=$((CHUNK_MIB * i)) \
      conv=notrunc,fdatasync status=none
  done
  t1=$(now)
  rm -f "$WORK/dd.out"
  RUN_SECS=$(awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }')
}

# --- does cutroom speak tus? --------------------------------------------------
CUTROOM_OK=0
if [[ -x $CUTROOM_BINARY ]]; then
  start_server cutroom probe
  if curl -sS -o /dev/null -D - -X OPTIONS "$ENDPOINT" | tr -d '\r' | grep -qi '^tus-resumable:'; then
    CUTROOM_OK=1
    CUTROOM_IDLE_KIB=$(hwm_kib "$SERVER_PID")
  fi
  stop_server
  rm -rf "$WORK/cutroom-probe"
fi
((CUTROOM_OK)) || log "WARNING: $CUTROOM_BINARY is missing or does not answer OPTIONS /api/uploads/ with Tus-Resumable; skipping cutroom"

# --- measurements -------------------------------------------------------------
log "source: $SIZE bytes; work dir $WORK ($(fstype))"
# Every upload is paired with a dd run of its own, just before it in odd
# rounds and just after it in even ones: this disk's rate can swing by 2x
# from one minute to the next (a cloud volume), so each upload is compared
# with the disk as it was at that moment, and neither side always goes first.
server_run() { # kind client round
  local kind=$1 client=$2 rep=$3 hwm
  start_server "$kind" "$client-$rep"
  case $client in
    tusjs-1) tusjs_upload 0 ;;
    tusjs-chunked) tusjs_upload "$CHUNK_MIB" ;;
    curl) curl_upload ;;
  esac
  hwm=$(hwm_kib "$SERVER_PID")
  if [[ $kind == cutroom ]]; then
    verify_cutroom_video "$RUN_VID"
  elif (($(find "$SERVER_DIR/data" -maxdepth 1 -type f -size "${SIZE}c" | wc -l) < 1)); then
    die "@tus/server did not store a file of $SIZE bytes"
  fi
  record "$kind:$client" "$rep" "$RUN_SECS" "$hwm"
  stop_server
  rm -rf "$SERVER_DIR/data"
}
for ((rep = 1; rep <= REPEAT; rep++)); do
  for kind in cutroom peer; do
    [[ $kind == cutroom ]] && ((!CUTROOM_OK)) && continue
    for client in tusjs-1 tusjs-chunked curl; do
      if ((rep % 2 == 0)); then server_run "$kind" "$client" "$rep"; fi
      dd_whole
      record "dd@$kind:$client" "$rep" "$RUN_SECS" 0
      if [[ $client == tusjs-chunked ]]; then
        dd_pieces
        record "ddpieces@$kind:$client" "$rep" "$RUN_SECS" 0
      fi
      if ((rep % 2 == 1)); then server_run "$kind" "$client" "$rep"; fi
    done
  done
done

# --- report -------------------------------------------------------------------
echo
printf 'Upload benchmark: %s bytes (%.2f GiB) rawvideo/matroska, chunked runs %s MiB, median of %s round(s)\n' \
  "$SIZE" "$(awk -v b="$SIZE" 'BEGIN { print b / 1073741824 }')" "$CHUNK_MIB" "$REPEAT"
printf 'disk: %s (%s); %s; node %s; @tus/server %s (fsync at finish: %s); curl body: %s\n' \
  "$BENCH_TMPDIR" "$(fstype)" "$(uname -sr)" "$(node -v)" \
  "$(node -p 'require(process.argv[1]).version' "$HERE/node_modules/@tus/server/package.json" 2>/dev/null || echo '?')" \
  "$PEER_FSYNC" "$CURL_BODY"
[[ -n ${CUTROOM_IDLE_KIB:-} ]] && printf 'cutroom idle peak RSS after start: %.1f MiB\n' "$(awk -v k="$CUTROOM_IDLE_KIB" 'BEGIN { print k / 1024 }')"
echo
awk -F'\t' -v chunk="$CHUNK_MIB" -v gib="$SIZE_GIB" '
  function median(list,   a, n, i, j, t) {
    n = split(list, a, " ")
    for (i = 2; i <= n; i++) for (j = i; j > 1 && a[j - 1] + 0 > a[j] + 0; j--) { t = a[j]; a[j] = a[j - 1]; a[j - 1] = t }
    return n % 2 ? a[(n + 1) / 2] + 0 : (a[n / 2] + a[n / 2 + 1]) / 2
  }
  function label(c) { return c == "tusjs-1" ? "tus-js-client, 1 chunk" : c == "tusjs-chunked" ? "tus-js-client, " chunk " MiB chunks" : "curl, 1 PATCH" }
  function pct(x) { return sprintf("%.1f%%", int(x * 1000) / 10) } # truncated, so 89.96% never shows as 90%
  { mbps[$1, $2] = $3; runs[$1] = runs[$1] " " $3; if ($4 + 0 > hwm[$1] + 0) hwm[$1] = $4; rounds[$2] = 1
    if ($1 ~ /^dd@/) { alldd = alldd " " $3; if (ddmin == "" || $3 + 0 < ddmin) ddmin = $3 + 0; if ($3 + 0 > ddmax) ddmax = $3 + 0 } }
  END {
    printf "%-44s %9s %10s %12s %14s %16s\n", "run (median of rounds)", "MB/s", "vs dd", "vs dd pieces", "vs @tus/server", "server peak RSS"
    printf "%-44s %9.1f %10s %12s %14s %16s\n", "dd bs=4M conv=fdatasync (paired runs)", median(alldd), "100%", "", "", ""
    n = split("tusjs-1 tusjs-chunked curl", clients, " ")
    fails = 0
    for (k = 1; k <= 2; k++) {
      kind = k == 1 ? "cutroom" : "peer"
      for (i = 1; i <= n; i++) {
        key = kind ":" clients[i]
        if (!(key in runs)) continue
        r_dd = ""; r_pieces = ""; r_peer = ""
        for (rep in rounds) {
          if (!((key, rep) in mbps)) continue
          v = mbps[key, rep]
          r_dd = r_dd " " v / mbps["dd@" key, rep]
          if (("ddpieces@" key, rep) in mbps) r_pieces = r_pieces " " v / mbps["ddpieces@" key, rep]
          if (kind == "cutroom" && (("peer:" clients[i]), rep) in mbps) r_peer = r_peer " " v / mbps["peer:" clients[i], rep]
        }
        vs_dd = pct(median(r_dd))
        need = clients[i] == "tusjs-chunked" ? 0.9 : 0.95
        if (kind == "cutroom" && median(r_dd) < need) { vs_dd = vs_dd "*"; fails++ }
        vs_pieces = r_pieces == "" ? "" : pct(median(r_pieces))
        vs_peer = ""
        if (r_peer != "") {
          vs_peer = sprintf("%.2fx", median(r_peer))
          if (median(r_peer) < 1) { vs_peer = vs_peer "*"; fails++ }
        }
        rss = sprintf("%.1f MiB", hwm[key] / 1024)
        if (kind == "cutroom" && gib >= 4 && hwm[key] / 1024 >= 64) { rss = rss "*"; fails++ }
        if (kind == "cutroom" && clients[i] == "tusjs-chunked") {
          printf "%-44s %9.1f %10s %12s %14s %16s\n", "dd, " chunk " MiB pieces, fdatasync each (paired)", median(runs["ddpieces@" key]), pct(median(runs["ddpieces@" key]) / median(runs["dd@" key])), "100%", "", ""
        }
        name = (kind == "cutroom" ? "cutroom" : "@tus/server") ", " label(clients[i])
        printf "%-44s %9.1f %10s %12s %14s %16s\n", name, median(runs[key]), vs_dd, vs_pieces, vs_peer, rss
      }
    }
    printf "\ndd over all %d paired runs: %.1f to %.1f MB/s (how much this disk moves)\n", split(alldd, tmp, " "), ddmin, ddmax
    printf "targets for cutroom: >= 95%% of dd with one PATCH or one chunk, >= 90%% with %s MiB chunks, never below @tus/server, peak RSS < 64 MiB (for a 4 GiB upload)\n", chunk
    if (("cutroom:tusjs-1") in runs) printf "%d target(s) missed (marked *)\n", fails
  }' "$RESULTS"
