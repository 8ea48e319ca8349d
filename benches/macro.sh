#!/usr/bin/env bash
# The macro benchmark: ctscan `report` against the decompression floor and the
# peers (jq, DuckDB) over the same generated mirror, in one run.
#
#   benches/macro.sh [SIZE_MB]        (default 2200: about 2.1 GB of JSON)
#
# `hunt` runs the 57 bundled Sigma rules in the same run; its ratio to
# `report` is printed with the other targets.
#
# Installs what it needs (Debian: libdeflate-tools jq time; PyPI: duckdb),
# generates the corpus once under $BENCH_DIR (default ~/.cache/ctscan-bench),
# checks ctscan's counts against the generator's record, and prints wall time,
# CPU time and peak RSS for each command, with ratios. SKIP_PEERS=1 skips jq
# and DuckDB (slow); SMOKE=1 runs a tiny corpus as a smoke check; REPS=N
# runs each command but the peers N times (default 3). PROFILE=profiling
# builds with symbols and line tables for `perf record` (default: release,
# the stripped binary users download). BASELINE=BIN also times another
# ctscan binary (say, main's) on the same commands, each run right after the
# current one, and prints current/baseline ratios.
set -euo pipefail
cd "$(dirname "$0")/.."
SIZE_MB="${1:-2200}"
[ "${SMOKE:-0}" = 1 ] && SIZE_MB=20
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/ctscan-target}"
BENCH_DIR="${BENCH_DIR:-$HOME/.cache/ctscan-bench}"
PROFILE="${PROFILE:-release}"
DAYS=40
CORPUS="$BENCH_DIR/corpus-${SIZE_MB}mb"
CORPUS2="$BENCH_DIR/corpus-${SIZE_MB}mb-b"
mkdir -p "$BENCH_DIR"

need() { command -v "$1" >/dev/null 2>&1; }
install_tools() {
  local pkgs=()
  need libdeflate-gunzip || pkgs+=(libdeflate-tools)
  need jq || pkgs+=(jq)
  [ -x /usr/bin/time ] || pkgs+=(time)
  if [ ${#pkgs[@]} -gt 0 ]; then
    (apt-get update -qq && apt-get install -y -qq "${pkgs[@]}") >/dev/null
  fi
  python3 -c 'import duckdb' 2>/dev/null || python3 -m pip install -q duckdb
}

generate() { # DIR SEED
  if [ ! -f "$1.truth" ]; then
    rm -rf "$1"
    "$CARGO_TARGET_DIR/$PROFILE/examples/gen-logs" --out "$1" --truth "$1.truth" \
      --size-mb "$SIZE_MB" --days "$DAYS" --seed "$2" >&2
  fi
}

RESULTS=()
# measure NAME CMD... : runs CMD under GNU time $REPS times (default 3; the
# slow peers once); records the fastest run's wall and CPU time and the median
# peak RSS, so one noisy run on a shared machine does not decide a ratio.
measure() {
  local name="$1"; shift
  local reps="${REPS:-3}" tf runs=() rsses=()
  case "$name" in jq*|duckdb*) reps=1 ;; esac
  tf="$(mktemp)"
  for _ in $(seq "$reps"); do
    /usr/bin/time -f '%e %U %S %M' -o "$tf" "$@" >/dev/null
    read -r wall user sys rss < <(tail -n 1 "$tf")
    runs+=("$wall $(awk "BEGIN{print $user + $sys}")")
    rsses+=("$((rss / 1024))")
  done
  rm -f "$tf"
  read -r wall cpu < <(printf '%s\n' "${runs[@]}" | sort -n | head -n 1)
  rss="$(printf '%s\n' "${rsses[@]}" | sort -n | sed -n "$(((reps + 1) / 2))p")"
  RESULTS+=("$name|$wall|$cpu|$rss")
  printf '  %-34s %8.2f s wall, %4d MiB (%d runs)\n' "$name" "$wall" "$rss" "$reps" >&2
}
wall_of() { for r in "${RESULTS[@]}"; do IFS='|' read -r n w _ _ <<<"$r"; [ "$n" = "$1" ] && echo "$w"; done; true; }
rss_of() { for r in "${RESULTS[@]}"; do IFS='|' read -r n _ _ m <<<"$r"; [ "$n" = "$1" ] && echo "$m"; done; true; }

install_tools
# CTSCAN_BIN=PATH times a binary built elsewhere (say, one commit's) instead
# of building this tree's.
if [ -z "${CTSCAN_BIN:-}" ] || [ ! -x "$CARGO_TARGET_DIR/$PROFILE/examples/gen-logs" ]; then
  cargo build --profile "$PROFILE" --quiet --bin ctscan --example gen-logs
fi
generate "$CORPUS" 1
CTSCAN="${CTSCAN_BIN:-$CARGO_TARGET_DIR/$PROFILE/ctscan}"
mapfile -t GZ < <(find "$CORPUS" -name '*.json.gz' -path '*/CloudTrail/*' | sort)
echo "corpus: $CORPUS: ${#GZ[@]} log objects, $(du -sh "$CORPUS" | cut -f1) on disk" >&2
cat "${GZ[@]}" >/dev/null # warm the page cache

OUT="$(mktemp -d)"
LIST="$(mktemp)"; printf '%s\0' "${GZ[@]}" >"$LIST"
JQ="$(mktemp)"
cat >"$JQ" <<'JQF'
.Records[] | select(.eventSource == "secretsmanager.amazonaws.com" and (.eventName == "GetSecretValue" or .eventName == "BatchGetSecretValue")) | [.userIdentity.arn, .eventName]
JQF

echo "timing:" >&2
measure "ctscan report" "$CTSCAN" report "$CORPUS" -q
measure "ctscan report --out DIR" "$CTSCAN" report "$CORPUS" --out "$OUT/full" -q
measure "floor: libdeflate-gunzip x2" sh -c "xargs -0 -P2 -n 64 libdeflate-gunzip -c <'$LIST' >/dev/null"
measure "ctscan report --threads 1" "$CTSCAN" report "$CORPUS" --threads 1 -q
SINCE="$(python3 -c "import json,datetime;t=[json.loads(l)['time'] for l in open('$CORPUS.truth') if l.startswith('{\"time')];print(datetime.datetime.fromtimestamp(max(t)-7*86400,datetime.UTC).strftime('%Y-%m-%dT%H:%M:%SZ'))")"
measure "ctscan report --since 7d" "$CTSCAN" report "$CORPUS" --since "$SINCE" -q
measure "ctscan alarm --rules cis" "$CTSCAN" alarm --rules cis "$CORPUS" -q
measure "ctscan hunt (57 Sigma rules)" "$CTSCAN" hunt "$CORPUS" -q
measure "ctscan hunt --out DIR" "$CTSCAN" hunt "$CORPUS" --out "$OUT/hunt" -q
if [ -n "${BASELINE:-}" ]; then
  measure "baseline report" "$BASELINE" report "$CORPUS" -q
  measure "baseline report --out DIR" "$BASELINE" report "$CORPUS" --out "$OUT/base" -q
  measure "baseline alarm --rules cis" "$BASELINE" alarm --rules cis "$CORPUS" -q
  measure "again: ctscan report" "$CTSCAN" report "$CORPUS" -q
  measure "again: floor" sh -c "xargs -0 -P2 -n 64 libdeflate-gunzip -c <'$LIST' >/dev/null"
fi
if [ "${SKIP_PEERS:-0}" != 1 ]; then
  measure "jq (2 processes)" sh -c "xargs -0 -P2 -n 64 sh -c 'for f; do gzip -dc \"\$f\" | jq -c -f $JQ; done' _ <'$LIST' >/dev/null"
  measure "duckdb (2 threads)" python3 benches/duckdb_query.py "$LIST"
fi

# Memory as the corpus doubles: a second corpus of the same size, scanned with the first.
generate "$CORPUS2" 2
cat $(find "$CORPUS2" -name '*.json.gz') >/dev/null
measure "ctscan report (2x corpus)" "$CTSCAN" report "$CORPUS" "$CORPUS2" -q
measure "ctscan report --out DIR (2x)" "$CTSCAN" report "$CORPUS" "$CORPUS2" --out "$OUT/full2" -q
measure "ctscan alarm --rules cis (2x)" "$CTSCAN" alarm --rules cis "$CORPUS" "$CORPUS2" -q

# Check the answers against the generator's record.
python3 - "$OUT/full/summary.json" "$CORPUS.truth" <<'PY'
import json, sys
s = json.load(open(sys.argv[1])); head = json.loads(open(sys.argv[2]).readline())
ok = s["records"]["read"] == head["records"] and s["records"]["matched"] == head["selected"] and s["files"]["failed"] == 0
print(f"counts: read {s['records']['read']} (expected {head['records']}), matched {s['records']['matched']} (expected {head['selected']}), "
      f"{s['bytes_decompressed']/1e9:.2f} GB JSON: {'OK' if ok else 'MISMATCH'}")
sys.exit(0 if ok else 1)
PY

echo
printf '| %-30s | %9s | %9s | %9s | %-12s |\n' command "wall (s)" "cpu (s)" "RSS (MiB)" "ctscan / it"
printf '|%s|%s|%s|%s|%s|\n' "--------------------------------" "-----------" "-----------" "-----------" "--------------"
CT="$(wall_of "ctscan report")"
for r in "${RESULTS[@]}"; do
  IFS='|' read -r n w c m <<<"$r"
  printf '| %-30s | %9.2f | %9.2f | %9d | %12s |\n' "$n" "$w" "$c" "$m" "$(awk "BEGIN{printf \"%.3f\", $CT / $w}")"
done
echo
ratio() { if [ -n "$1" ] && [ -n "$2" ]; then awk "BEGIN{printf \"%.2f\", $1 / $2}"; else echo n/a; fi; }
FLOOR="$(wall_of 'floor: libdeflate-gunzip x2')"
echo "targets: floor ratio $(ratio "$CT" "$FLOOR") (<= 1.5), with --out $(ratio "$(wall_of 'ctscan report --out DIR')" "$FLOOR");" \
  "1 thread / 2 threads $(ratio "$(wall_of 'ctscan report --threads 1')" "$CT") (<= 2.1);" \
  "--since 7d / full $(ratio "$(wall_of 'ctscan report --since 7d')" "$CT") (<= 0.25);" \
  "jq / ctscan $(ratio "$(wall_of 'jq (2 processes)')" "$CT") (>= 30); DuckDB / ctscan $(ratio "$(wall_of 'duckdb (2 threads)')" "$CT") (>= 80);" \
  "CIS alarm / report $(ratio "$(wall_of 'ctscan alarm --rules cis')" "$CT") (<= 1.5);" \
  "hunt / report $(ratio "$(wall_of 'ctscan hunt (57 Sigma rules)')" "$CT") (<= 1.5), hunt --out / report $(ratio "$(wall_of 'ctscan hunt --out DIR')" "$CT")"
echo "memory: RSS $(rss_of 'ctscan report') MiB, --out $(rss_of 'ctscan report --out DIR') MiB (<= 128);" \
  "2x corpus: $(ratio "$(rss_of 'ctscan report (2x corpus)')" "$(rss_of 'ctscan report')")x," \
  "--out $(ratio "$(rss_of 'ctscan report --out DIR (2x)')" "$(rss_of 'ctscan report --out DIR')")x," \
  "CIS alarm $(ratio "$(rss_of 'ctscan alarm --rules cis (2x)')" "$(rss_of 'ctscan alarm --rules cis')")x (< 1.10)"
if [ -n "${BASELINE:-}" ]; then
  echo "baseline: report $(ratio "$CT" "$(wall_of 'baseline report')")x," \
    "--out $(ratio "$(wall_of 'ctscan report --out DIR')" "$(wall_of 'baseline report --out DIR')")x," \
    "CIS alarm $(ratio "$(wall_of 'ctscan alarm --rules cis')" "$(wall_of 'baseline alarm --rules cis')")x" \
    "(current / baseline); floor ratio again $(ratio "$(wall_of 'again: ctscan report')" "$(wall_of 'again: floor')")," \
    "baseline's $(ratio "$(wall_of 'baseline report')" "$(wall_of 'again: floor')")"
fi
rm -rf "$OUT" "$LIST" "$JQ"
