#!/usr/bin/env bash
# The lake read benchmark: report, events --pattern and alarm --rules cis
# over a raw corpus and over the lake ingested from it, in one run.
#
#   benches/lake.sh [SIZE_MB]        (default 2200, as benches/macro.sh)
#
# The corpus is benches/gen_logs.rs's (the same as macro.sh's `cloudtrail`
# corpus, generated once under $BENCH_DIR); the lake is ingested from it
# once and kept beside it. Timing runs in REPS rounds (default 3); a round
# runs every command once over the raw corpus and once over the lake, so a
# burst of load on a shared machine hits both alike. Each speed-up is the
# median over rounds of raw time / lake time within the round. Outputs are
# compared too (CSV files byte for byte), so a fast wrong answer fails.
#
# CTSCAN_BIN=PATH times that binary instead of building one (GEN_BIN=PATH
# likewise for the generator). PROFILE=profiling for perf. SMOKE=1: 20 MB, 2 rounds.
set -euo pipefail
cd "$(dirname "$0")/.."
SIZE_MB="${1:-2200}"
REPS="${REPS:-3}"
if [ "${SMOKE:-0}" = 1 ]; then SIZE_MB=20; REPS=2; fi
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/ctscan-target}"
BENCH_DIR="${BENCH_DIR:-$HOME/.cache/ctscan-bench}"
PROFILE="${PROFILE:-release}"
CTSCAN="${CTSCAN_BIN:-$CARGO_TARGET_DIR/$PROFILE/ctscan}"
GEN="${GEN_BIN:-$CARGO_TARGET_DIR/$PROFILE/examples/gen-logs}"
PATTERN='{ ($.eventSource = "secretsmanager.amazonaws.com") && ($.errorCode = "AccessDenied*") }'
mkdir -p "$BENCH_DIR"

if [ -z "${CTSCAN_BIN:-}" ] || [ -z "${GEN_BIN:-}" ]; then
  cargo build --profile "$PROFILE" --quiet --bin ctscan --example gen-logs
fi
raw="$BENCH_DIR/cloudtrail-${SIZE_MB}mb"
if [ ! -f "$raw.truth" ]; then
  rm -rf "$raw"
  "$GEN" --out "$raw" --truth "$raw.truth" --size-mb "$SIZE_MB" --days 40 \
    --seed 1 --utf8-share 970 >&2
fi
lake="$raw.lake"
if [ ! -d "$lake/_ctscan" ]; then
  start=$(date +%s.%N)
  "$CTSCAN" ingest "$raw" --lake "$lake" -q
  echo "ingest: $(echo "$(date +%s.%N) - $start" | bc) s (once; not part of the rounds)"
fi
echo "corpus $(du -sbL "$raw" | cut -f1) bytes gzip; lake $(du -sbL "$lake/events" | cut -f1) bytes"

# name=command pairs; each runs over "$raw" and over --lake "$lake".
CMDS=(
  "report=report"
  "events --pattern=events --format csv --pattern"
  "alarm --rules cis=alarm --rules cis"
)
out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT
declare -A TIMES=()
# timed SIDE NAME ARGS... : runs ctscan, records its wall time.
timed() {
  local side="$1" name="$2" start; shift 2
  start=$(date +%s.%N)
  "$CTSCAN" "$@" >"$out/$side-$name.stdout" 2>/dev/null
  TIMES["$name|$side"]+="$(echo "$(date +%s.%N) - $start" | bc) "
}
for r in $(seq "$REPS"); do
  for spec in "${CMDS[@]}"; do
    name="${spec%%=*}"; read -r -a cmd <<<"${spec#*=}"
    extra=(); [ "$name" = "events --pattern" ] && extra=("$PATTERN")
    [ "$name" = "events --pattern" ] || extra=(--out "$out/raw-${name%% *}")
    timed raw "$name" "${cmd[@]}" "${extra[@]}" "$raw" -q
    [ "$name" = "events --pattern" ] || extra=(--out "$out/lake-${name%% *}")
    timed lake "$name" "${cmd[@]}" "${extra[@]}" --lake "$lake" -q
  done
done
median() { tr ' ' '\n' | grep . | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
status=0
echo "medians of $REPS rounds (wall seconds); speed-up = median over rounds of raw/lake"
for spec in "${CMDS[@]}"; do
  name="${spec%%=*}"
  read -r -a rt <<<"${TIMES[$name|raw]}"; read -r -a lt <<<"${TIMES[$name|lake]}"
  ratios=""
  for i in "${!rt[@]}"; do ratios+="$(echo "${rt[$i]} / ${lt[$i]}" | bc -l) "; done
  printf '%-20s raw %8.2f  lake %8.2f  speed-up %6.1fx\n' "$name" \
    "$(echo "${TIMES[$name|raw]}" | median)" "$(echo "${TIMES[$name|lake]}" | median)" \
    "$(echo "$ratios" | median)"
done
cmp -s "$out/raw-events --pattern.stdout" "$out/lake-events --pattern.stdout" \
  || { echo "events --pattern: outputs differ"; status=1; }
for d in report alarm; do
  for f in "$out/raw-$d"/*.csv; do
    cmp -s "$f" "$out/lake-$d/$(basename "$f")" || { echo "$d: $(basename "$f") differs"; status=1; }
  done
done
exit "$status"
