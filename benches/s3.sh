#!/usr/bin/env bash
# S3 throughput against a local moto server vs. the same files read locally.
# Usage: benches/s3.sh [SIZE_MB] [DAYS]   (release build; needs moto[server])
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/ctscan-target}"
SIZE_MB="${1:-200}"; DAYS="${2:-5}"
CORPUS="${CORPUS:-/tmp/ctscan-s3corpus-$SIZE_MB}"
cargo build --release --quiet --bin ctscan --example gen-logs
BIN="$CARGO_TARGET_DIR/release/ctscan"
[ -d "$CORPUS" ] || "$CARGO_TARGET_DIR/release/examples/gen-logs" --out "$CORPUS" --truth "$CORPUS.truth" --size-mb "$SIZE_MB" --days "$DAYS"
scripts/install-test-deps.sh
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
python3 -m moto.server -p "$PORT" -H 127.0.0.1 >/dev/null 2>&1 &
MOTO=$!
trap 'kill $MOTO' EXIT
export AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing AWS_EC2_METADATA_DISABLED=true AWS_DEFAULT_REGION=us-east-1
until python3 -c "import socket; socket.create_connection(('127.0.0.1',$PORT))" 2>/dev/null; do sleep 0.2; done
python3 - "$PORT" "$CORPUS" <<'PY'
import os, sys, boto3, concurrent.futures as cf
port, root = sys.argv[1], sys.argv[2]
s3 = boto3.client("s3", endpoint_url=f"http://127.0.0.1:{port}", region_name="us-east-1")
s3.create_bucket(Bucket="bench")
files = [os.path.join(d, f) for d, _, fs in os.walk(root) for f in fs]
def put(p): s3.upload_file(p, "bench", os.path.relpath(p, root))
with cf.ThreadPoolExecutor(16) as ex: list(ex.map(put, files))
print(f"uploaded {len(files)} objects")
PY
best() { local b=; for _ in 1 2 3; do local s e; s=$(date +%s.%N); "$@" >/dev/null; e=$(date +%s.%N); local t; t=$(echo "$e - $s" | bc); if [ -z "$b" ] || (( $(echo "$t < $b" | bc) )); then b=$t; fi; done; echo "$b"; }
BYTES=$(du -sb "$CORPUS" | cut -f1)
LOCAL=$(best "$BIN" report "$CORPUS" -q)
S3=$(best "$BIN" report s3://bench --endpoint-url "http://127.0.0.1:$PORT" -q)
echo "corpus: $BYTES bytes, $(find "$CORPUS" -type f | wc -l) files"
echo "local:  ${LOCAL}s  $(echo "$BYTES / $LOCAL / 1048576" | bc) MiB/s"
echo "s3:     ${S3}s  $(echo "$BYTES / $S3 / 1048576" | bc) MiB/s  ($(echo "100 * $LOCAL / $S3" | bc)% of local)"
