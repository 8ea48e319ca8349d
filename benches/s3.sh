#!/usr/bin/env bash
# S3 throughput against a local S3-compatible server vs. the same files read
# locally, in one run.
#
#   benches/s3.sh [SIZE_MB] [DAYS]      (release build; PROFILE=profiling for symbols)
#
# The server is s3s-fs (a Rust S3 server over a directory, installed with
# `cargo install s3s-fs@0.14.1 --features binary --locked`, the last version
# that builds with Rust 1.95); it serves a copy of the generated corpus as the
# bucket `bench`, so nothing is uploaded. SERVER=moto uses moto instead
# (uploads with boto3; much slower, it is single-threaded Python). Prints wall
# and CPU time of both runs, the server's CPU time, and the ratio.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/ctscan-target}"
SIZE_MB="${1:-300}"; DAYS="${2:-5}"
CORPUS="${CORPUS:-/tmp/ctscan-s3corpus-$SIZE_MB}"
SERVER="${SERVER:-s3s-fs}"
PROFILE="${PROFILE:-release}"
cargo build --profile "$PROFILE" --quiet --bin ctscan --example gen-logs
BIN="$CARGO_TARGET_DIR/$PROFILE/ctscan"
[ -d "$CORPUS" ] || "$CARGO_TARGET_DIR/$PROFILE/examples/gen-logs" --out "$CORPUS" --truth "$CORPUS.truth" --size-mb "$SIZE_MB" --days "$DAYS"
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
export AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing AWS_EC2_METADATA_DISABLED=true AWS_DEFAULT_REGION=us-east-1
ROOT="$(mktemp -d)"
if [ "$SERVER" = s3s-fs ]; then
  command -v s3s-fs >/dev/null || cargo install --quiet s3s-fs@0.14.1 --features binary --locked
  # Only the CloudTrail log objects: the S3 listing reads no digests.
  mkdir -p "$ROOT/bench"
  (cd "$CORPUS" && find . -path '*/CloudTrail/*' -name '*.json.gz' | cpio -pdm --quiet "$ROOT/bench")
  s3s-fs --host 127.0.0.1 --port "$PORT" --access-key testing --secret-key testing "$ROOT" >/dev/null 2>&1 &
else
  scripts/install-test-deps.sh
  python3 -m moto.server -p "$PORT" -H 127.0.0.1 >/dev/null 2>&1 &
fi
SRV=$!
trap 'kill $SRV; rm -rf "$ROOT"' EXIT
until python3 -c "import socket; socket.create_connection(('127.0.0.1',$PORT))" 2>/dev/null; do sleep 0.2; done
if [ "$SERVER" != s3s-fs ]; then
  mkdir -p "$ROOT/bench"
  (cd "$CORPUS" && find . -path '*/CloudTrail/*' -name '*.json.gz' | cpio -pdm --quiet "$ROOT/bench")
  python3 - "$PORT" "$ROOT/bench" <<'PY'
import os, sys, boto3, concurrent.futures as cf
port, root = sys.argv[1], sys.argv[2]
s3 = boto3.client("s3", endpoint_url=f"http://127.0.0.1:{port}", region_name="us-east-1")
s3.create_bucket(Bucket="bench")
files = [os.path.join(d, f) for d, _, fs in os.walk(root) for f in fs]
def put(p): s3.upload_file(p, "bench", os.path.relpath(p, root))
with cf.ThreadPoolExecutor(16) as ex: list(ex.map(put, files))
PY
fi

# best WALL CPU of three runs of "$@".
best() {
  local bw= bc=
  for _ in 1 2 3; do
    local tf; tf="$(mktemp)"
    /usr/bin/time -f '%e %U %S' -o "$tf" "$@" >/dev/null
    read -r w u s < <(tail -n 1 "$tf"); rm -f "$tf"
    if [ -z "$bw" ] || awk "BEGIN{exit !($w < $bw)}"; then bw=$w; bc=$(awk "BEGIN{print $u + $s}"); fi
  done
  echo "$bw $bc"
}
server_cpu() { awk '{print ($14 + $15) / 100}' "/proc/$SRV/stat"; }

BYTES=$(du -sb "$ROOT/bench" | cut -f1)
read -r LW LC < <(best "$BIN" report "$ROOT/bench" -q)
S0=$(server_cpu)
read -r SW SC < <(best "$BIN" report s3://bench --endpoint-url "http://127.0.0.1:$PORT" -q)
S1=$(server_cpu)
echo "corpus: $BYTES bytes of gzip, $(find "$ROOT/bench" -type f | wc -l) objects; server $SERVER"
echo "local: ${LW} s wall, ${LC} s CPU"
echo "s3:    ${SW} s wall, ${SC} s CPU (server: $(awk "BEGIN{printf \"%.2f\", ($S1 - $S0) / 3}") s CPU per run)"
echo "s3 throughput: $(awk "BEGIN{printf \"%.0f\", 100 * $LW / $SW}")% of local (wall)"
