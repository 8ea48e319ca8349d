#!/usr/bin/env bash
# The event lake on S3 against a local one: a generated org corpus ingested
# into a local DIR and into `s3://lake/org` on s3lab (tools/s3lab, a --mem
# bucket) with injected latency per request; then a rerun with nothing new,
# and `report --lake` over each, cold (empty cache) and warm. Prints wall
# times, the requests each S3 step made (s3lab's request log, by operation)
# and checks that the reports' CSVs are byte-identical to the raw run's.
#
#   benches/lake_s3.sh [LATENCY_MS]      (default 20)
#
# SPEC=… overrides the corpus; BIN=… and LAB=… other builds (by default the
# release builds, made here). Loopback only.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/ctscan-target}"
LATENCY="${1:-20}"
if [ -z "${BIN:-}" ]; then
  cargo build --release --locked --quiet -p ctscan --bin ctscan -p s3lab
  BIN="$CARGO_TARGET_DIR/release/ctscan"
fi
LAB="${LAB:-$CARGO_TARGET_DIR/release/s3lab}"
SPEC="${SPEC:-accounts=4,regions=4,days=4,per_day=24,start=2026-10-01,seed=3}"
W="$(mktemp -d)"
trap 'kill "${LAB_PID:-0}" 2>/dev/null || true; rm -rf "$W"' EXIT
"$LAB" gen-org "$SPEC" --out "$W/org" >/dev/null
"$LAB" serve --mem lake --latency-ms "$LATENCY" --port-file "$W/port" \
  --request-log "$W/requests.jsonl" --max-seconds 3600 >/dev/null 2>&1 &
LAB_PID=$!
while [ ! -s "$W/port" ]; do sleep 0.05; done
EP="http://127.0.0.1:$(cat "$W/port")"
export AWS_ACCESS_KEY_ID=bench AWS_SECRET_ACCESS_KEY=bench AWS_EC2_METADATA_DISABLED=true
export CTSCAN_LAKE_CACHE="$W/cache"
ops() { # requests logged since line $1, by operation
  tail -n +"$(( $1 + 1 ))" "$W/requests.jsonl" | python3 -c '
import collections, json, sys
c = collections.Counter(json.loads(l)["op"] for l in sys.stdin)
print(", ".join(f"{k} {v}" for k, v in sorted(c.items())))'
}
step() { # label, command...
  local before; before=$(wc -l < "$W/requests.jsonl")
  local t0; t0=$(date +%s.%N)
  "${@:2}" >/dev/null
  printf '%-26s %6.2f s   %s\n' "$1" "$(echo "$(date +%s.%N) - $t0" | bc)" "$(ops "$before")"
}
echo "corpus: $(find "$W/org" -type f | wc -l) objects, $(du -sh "$W/org" | cut -f1); ${LATENCY} ms per request"
step "ingest, local"          "$BIN" ingest "$W/org" --lake "$W/local" -q
step "ingest, s3"             "$BIN" ingest "$W/org" --lake s3://lake/org --endpoint-url "$EP" -q
step "ingest again, s3"       "$BIN" ingest "$W/org" --lake s3://lake/org --endpoint-url "$EP" -q
step "report, raw"            "$BIN" report "$W/org" -q --out "$W/raw"
step "report --lake local"    "$BIN" report --lake "$W/local" -q --out "$W/local-report"
step "report --lake s3, cold" "$BIN" report --lake s3://lake/org --endpoint-url "$EP" -q --out "$W/cold"
step "report --lake s3, warm" "$BIN" report --lake s3://lake/org --endpoint-url "$EP" -q --out "$W/warm"
for f in "$W"/raw/*.csv; do
  for d in local-report cold warm; do cmp -s "$f" "$W/$d/$(basename "$f")" || { echo "DIFFERS: $d/$(basename "$f")"; exit 1; }; done
done
echo "CSVs identical to the raw run's"
