#!/usr/bin/env bash
# S3 at organization scale: ctscan against s3lab (tools/s3lab, the workspace's
# loopback S3 server) serving a virtual org trail bucket, beside the same
# bucket written locally by `s3lab gen-org`, in one run.
#
#   benches/s3.sh [REPEAT]          (release builds of ctscan and s3lab)
#
# Cases: the local mirror; the whole bucket and `--since 7d` at 0, 30 and
# 100 ms per request; the whole bucket at 30 ms with 20% of requests answered
# 503 SlowDown. With BIG=1 also peak RSS over 204,000 objects (full scan) and
# over 2,040,000 (listing only, --s3-list-only, then a full scan). Each case runs REPEAT times
# (default 3) and shows medians: wall time, ctscan's own CPU (user+sys of the
# ctscan process; the server is another process), peak RSS, the requests
# from summary.json, and the ideal wall (LIST + GET) x latency / max in flight.
# Loopback only; every server exits by itself after --max-seconds.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/ctscan-target}"
REPEAT="${1:-3}"
cargo build --release --locked --quiet -p ctscan --bin ctscan -p s3lab
BIN="$CARGO_TARGET_DIR/release/ctscan"; LAB="$CARGO_TARGET_DIR/release/s3lab"
# The bucket ends today, so that --since 7d means what it says.
START="$(date -u -d '-29 days' +%F)"
SPEC="${SPEC:-accounts=40,regions=17,days=30,per_day=1,size=800,start=$START,seed=1}"
WORK="$(mktemp -d)"; SRV=""
cleanup() { [ -n "$SRV" ] && kill "$SRV" 2>/dev/null; rm -rf "$WORK"; }
trap cleanup EXIT
export AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing AWS_EC2_METADATA_DISABLED=true

serve() { # SPEC LATENCY_MS SLOWDOWN_RATE
  [ -n "$SRV" ] && kill "$SRV" 2>/dev/null && wait "$SRV" 2>/dev/null || true
  rm -f "$WORK/port"
  "$LAB" serve --org "org=$1" --latency-ms "$2" --slowdown-rate "$3" \
    --port-file "$WORK/port" --max-seconds 1800 >/dev/null 2>&1 &
  SRV=$!
  until [ -s "$WORK/port" ]; do sleep 0.1; done
  EP="http://127.0.0.1:$(cat "$WORK/port")"
}

# One run: prints "wall cpu rss_mb lists gets retries throttled max_in_flight".
once() {
  rm -rf "$WORK/out"
  /usr/bin/time -f '%e %U %S %M' -o "$WORK/time" "$BIN" "$@" --out "$WORK/out" -q >/dev/null 2>"$WORK/err" \
    || { echo "ctscan failed: $(head -3 "$WORK/err")" >&2; }
  read -r w u s m < <(tail -n 1 "$WORK/time")
  python3 - "$WORK/out/summary.json" "$w" "$u" "$s" "$m" <<'PY'
import json, sys
p, w, u, s, m = sys.argv[1], *map(float, sys.argv[2:])
try: s3 = json.load(open(p)).get("s3") or {}
except Exception: s3 = {}
g = lambda k: s3.get(k, 0)
print(f"{w:.2f} {u+s:.2f} {m/1024:.0f} {g('list_requests')} {g('get_requests')} {g('retries')} {g('throttled')} {g('max_in_flight')} {g('keys_listed')}")
PY
}

# CASE LATENCY ARGS...: the median of REPEAT runs, as a table row.
case_row() {
  local name="$1" lat="$2"; shift 2
  for _ in $(seq "$REPEAT"); do once "$@"; done > "$WORK/runs"
  python3 - "$name" "$lat" "$WORK/runs" <<'PY'
import sys, statistics as st
name, lat, path = sys.argv[1], float(sys.argv[2]), sys.argv[3]
rows = [list(map(float, l.split())) for l in open(path) if l.strip()]
med = lambda i: st.median(r[i] for r in rows)
walls = "/".join(f"{r[0]:.2f}" for r in rows)
lists, gets, inflight = med(3), med(4), max(med(7), 1)
ideal = (lists + gets) * lat / 1000 / inflight
print(f"| {name} | {med(0):.2f} ({walls}) | {med(1):.2f} | {med(2):.0f} | {lists:.0f} | {gets:.0f} | {med(5):.0f} | {med(6):.0f} | {med(7):.0f} | {ideal:.2f} |")
PY
}

echo "bucket: $SPEC; $(nproc) cores; load before: $(cut -d' ' -f1-3 /proc/loadavg)"
echo
echo "| case | wall s, median (runs) | ctscan CPU s | peak RSS MiB | LISTs | GETs | retries | throttled | max in flight | ideal wall s |"
echo "|---|---|---|---|---|---|---|---|---|---|"
"$LAB" gen-org "$SPEC" --out "$WORK/mirror" >/dev/null
case_row "local mirror, whole" 0 "$WORK/mirror"
case_row "local mirror, --since 7d" 0 "$WORK/mirror" --since 7d
for lat in 0 30 100; do
  serve "$SPEC" "$lat" 0
  case_row "S3 ${lat} ms, whole" "$lat" s3://org --endpoint-url "$EP"
  case_row "S3 ${lat} ms, --since 7d" "$lat" s3://org --endpoint-url "$EP" --since 7d
done
serve "$SPEC" 30 0.2
case_row "S3 30 ms, 20% SlowDown, whole" 30 s3://org --endpoint-url "$EP"
if [ "${BIG:-0}" = 1 ]; then
  BIGSPEC="accounts=400,regions=17,days=30,per_day=1,size=800,start=$START,seed=2"
  serve "$BIGSPEC" 0 0
  REPEAT=1 case_row "S3 0 ms, 204,000 objects, whole" 0 s3://org --endpoint-url "$EP"
  HUGE="accounts=4000,regions=17,days=30,per_day=1,size=800,start=$START,seed=3"
  serve "$HUGE" 0 0
  REPEAT=1 case_row "S3 0 ms, 2,040,000 objects, listing only" 0 s3://org --endpoint-url "$EP" --s3-list-only
  REPEAT=1 case_row "S3 0 ms, 2,040,000 objects, whole" 0 s3://org --endpoint-url "$EP"
fi
echo
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
