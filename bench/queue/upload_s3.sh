#!/usr/bin/env bash
# A 1 GiB tus upload (one curl PATCH) into `cutroom serve` storing on local
# disk and storing in S3 (s3rver from tests/fakes/s3rver, started here), in
# the same run: seconds from the upload's creation until the last PATCH is
# answered (the file is then probed, hashed and stored: on disk, or in the
# bucket as a multipart upload) and until the video is listed as ready.
#
#   bench/queue/upload_s3.sh          SIZE_MIB=256 bench/queue/upload_s3.sh
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
BIN=${CUTROOM_BINARY:-$REPO/build/release/cutroom}
S3RVER=$REPO/tests/fakes/s3rver/node_modules/.bin/s3rver
SIZE_MIB=${SIZE_MIB:-1024}
[ -x "$S3RVER" ] || { echo "s3rver missing: scripts/install-deps.sh installs it" >&2; exit 1; }
work=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$work"; }
trap cleanup EXIT

# rawvideo in matroska: a real media file of the size asked for, made in seconds.
frames=$((SIZE_MIB * 1048576 / 1382400))
ffmpeg -v error -y -f lavfi -i testsrc=s=1280x720:r=25 -frames:v "$frames" -c:v rawvideo -pix_fmt yuv420p "$work/big.mkv"
size=$(stat -c %s "$work/big.mkv")
NODE_OPTIONS=--openssl-legacy-provider "$S3RVER" -d "$work/s3" -p 4591 --configure-bucket bench >"$work/s3rver.log" 2>&1 &
pids+=($!)
sleep 3

upload() {  # port -> "patch_s ready_s"
  local port=$1 start loc end patched
  start=$(date +%s.%N)
  loc=$(curl -s -i -X POST "http://127.0.0.1:$port/api/uploads/" -H 'Tus-Resumable: 1.0.0' -H "Upload-Length: $size" \
    -H "Upload-Metadata: filename $(printf big.mkv | base64)" | tr -d '\r' | sed -n 's/^[Ll]ocation: //p')
  loc="/api/uploads/${loc##*/}"
  code=$(curl -s -o /dev/null -w '%{http_code}' -X PATCH "http://127.0.0.1:$port$loc" -H 'Tus-Resumable: 1.0.0' \
    -H 'Upload-Offset: 0' -H 'Content-Type: application/offset+octet-stream' -T "$work/big.mkv")
  [ "$code" = 204 ] || { echo "PATCH answered $code" >&2; return 1; }
  patched=$(date +%s.%N)
  for _ in $(seq 1 600); do
    curl -s "http://127.0.0.1:$port/api/videos" | grep -q '"status":"ready"' && break
    sleep 0.1
  done
  end=$(date +%s.%N)
  echo "$start $patched $end"
}

printf "%-6s %10s %10s %10s\n" store MiB patch_s MB/s
for store in disk s3; do
  port=$((18700 + ${#store}))
  extra=()
  if [ "$store" = s3 ]; then
    extra=(--set storage.blob_url=s3://bench/m --set storage.s3_endpoint=http://127.0.0.1:4591 --set storage.s3_path_style=true)
  fi
  AWS_ACCESS_KEY_ID=S3RVER AWS_SECRET_ACCESS_KEY=S3RVER "$BIN" serve --listen "127.0.0.1:$port" --data-dir "$work/$store" \
    --workers 0 --set ingest.max_upload_bytes=8589934592 "${extra[@]}" >"$work/serve-$store.log" 2>&1 &
  pids+=($!)
  sleep 2
  read -r s p e < <(upload "$port")
  awk -v n="$store" -v m="$SIZE_MIB" -v s="$s" -v p="$p" -v b="$size" \
    'BEGIN { printf "%-6s %10d %10.2f %10.1f\n", n, m, p - s, b / 1e6 / (p - s) }'
done
