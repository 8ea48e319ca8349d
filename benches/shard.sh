#!/usr/bin/env bash
# An organization sweep as an array job, simulated: N worker processes, each
# started with only the index its engine sets (JOB_COMPLETION_INDEX for a
# Kubernetes Indexed Job, AWS_BATCH_JOB_ARRAY_INDEX with ENGINE=batch), run
# `report s3://org --shard auto/N` at once against s3lab (tools/s3lab, the
# loopback S3 server) with injected latency, then `ctscan merge` joins their
# partials; the merged CSVs are compared with the N = 1 run's, byte for byte.
#
#   benches/shard.sh [LATENCY_MS]      (default 30; release builds of ctscan and s3lab)
#
# For N = 1, 2, 4, 8 it prints the sweep's wall time (first start to last
# exit), the merge's, LISTs and GETs summed over workers and for the busiest
# worker, the most requests in flight at the server at once (s3lab's own
# count across all workers) and the sum of the workers' own maxima. On a
# machine with few cores the workers share the CPU: what must scale with N
# is the requests in flight and each worker's share of the listing, which is
# what an array job on N machines turns into wall time.
# SPEC=… overrides the bucket; BIN=… another ctscan build. Loopback only.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/ctscan-target}"
LATENCY="${1:-30}"
if [ -z "${BIN:-}" ]; then
  cargo build --release --locked --quiet -p ctscan --bin ctscan -p s3lab
  BIN="$CARGO_TARGET_DIR/release/ctscan"
fi
LAB="${LAB:-$CARGO_TARGET_DIR/release/s3lab}"
ENGINE_VAR=JOB_COMPLETION_INDEX
[ "${ENGINE:-kubernetes}" = batch ] && ENGINE_VAR=AWS_BATCH_JOB_ARRAY_INDEX
# An org trail's cadence (one object per account-region every 5 minutes):
# every region is large (1,152 keys), so shards split it by day. The
# issue's sparse bucket (SPEC=accounts=40,regions=17,days=30,per_day=1,…)
# has only small regions, each listed by every shard (one LIST page).
SPEC="${SPEC:-accounts=4,regions=17,days=4,per_day=288,size=800,skew=0.5,start=2026-10-01,seed=1}"
# The bucket's days: a sharded listing goes day by day up to the window's
# end (or to today without one), so a window past the data lists empty days.
read -r -a WINDOW <<< "${WINDOW:---since 2026-10-01T00:00:00Z --until 2026-10-05T00:00:00Z}"
WORK="$(mktemp -d)"; SRV=""
cleanup() { [ -n "$SRV" ] && kill "$SRV" 2>/dev/null; rm -rf "$WORK"; }
trap cleanup EXIT
export AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing AWS_EC2_METADATA_DISABLED=true
unset JOB_COMPLETION_INDEX AWS_BATCH_JOB_ARRAY_INDEX CTSCAN_SOURCE

"$LAB" serve --org "org=$SPEC" --latency-ms "$LATENCY" \
  --port-file "$WORK/port" --max-seconds 3600 >/dev/null 2>&1 &
SRV=$!
until [ -s "$WORK/port" ]; do sleep 0.1; done
EP="http://127.0.0.1:$(cat "$WORK/port")"

echo "bucket: $SPEC; ${LATENCY} ms per request; $ENGINE_VAR; $(nproc) cores; load before: $(cut -d' ' -f1-3 /proc/loadavg)"
echo
echo "| N | sweep wall s | merge s | LISTs (busiest worker) | GETs (busiest worker) | in flight at the server | sum of workers' max in flight | objects per worker max/mean | merged = N=1 |"
echo "|---|---|---|---|---|---|---|---|---|"
for N in 1 2 4 8; do
  curl -s -X POST "$EP/__s3lab/reset" >/dev/null
  rm -rf "$WORK/run"; mkdir -p "$WORK/run"
  start=$(date +%s.%N)
  pids=()
  for ((i = 0; i < N; i++)); do
    env "$ENGINE_VAR=$i" "$BIN" report s3://org --endpoint-url "$EP" "${WINDOW[@]}" \
      --shard "auto/$N" --out "$WORK/run/shard-$i" -q >/dev/null 2>"$WORK/run/err-$i" &
    pids+=($!)
  done
  for p in "${pids[@]}"; do wait "$p" || { echo "worker failed: $(head -3 "$WORK"/run/err-*)" >&2; exit 1; }; done
  end=$(date +%s.%N)
  curl -s "$EP/__s3lab/stats" > "$WORK/run/stats.json"
  m0=$(date +%s.%N)
  "$BIN" merge "$WORK"/run/shard-* --out "$WORK/run/merged" -q
  m1=$(date +%s.%N)
  if [ "$N" = 1 ]; then cp -r "$WORK/run/merged" "$WORK/reference"; fi
  same=yes
  for f in "$WORK"/reference/*.csv; do
    cmp -s "$f" "$WORK/run/merged/$(basename "$f")" || same="NO: $(basename "$f")"
  done
  python3 - "$N" "$start" "$end" "$m0" "$m1" "$WORK/run" "$same" <<'PY'
import glob, json, sys
n, start, end, m0, m1, run, same = sys.argv[1:]
parts = [json.load(open(p)) for p in sorted(glob.glob(f"{run}/shard-*/summary.json"))]
s3 = [p.get("s3") or {} for p in parts]
lists = [x.get("list_requests", 0) for x in s3]
gets = [x.get("get_requests", 0) for x in s3]
scanned = [p["files"]["scanned"] for p in parts]
server = json.load(open(f"{run}/stats.json"))
mean = sum(scanned) / len(scanned)
print(f"| {n} | {float(end) - float(start):.2f} | {float(m1) - float(m0):.2f} | "
      f"{sum(lists)} ({max(lists)}) | {sum(gets)} ({max(gets)}) | {server['max_in_flight']} | "
      f"{sum(x.get('max_in_flight', 0) for x in s3)} | {max(scanned) / mean:.2f} | {same} |")
PY
done
echo
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
