#!/usr/bin/env bash
# The macro benchmark: ctscan against the decompression floor, on two unlike
# corpora and an escaped variant of each, in one run.
#
#   benches/macro.sh [SIZE_MB]        (default 2200: about 3 GB of JSON per corpus)
#
# Corpora (benches/gen_logs.rs, generated once under $BENCH_DIR, default
# ~/.cache/ctscan-bench), all with non-ASCII text in ~97% of records:
#   cloudtrail      gzip level 1, raw UTF-8, as CloudTrail writes
#   cloudtrail-esc  the same records with every non-ASCII character and &<>
#                   written as \uXXXX (Python's json.dumps, Go's encoder)
#   exported        gzip level 6, more constant strings, raw UTF-8
#   exported-esc    the same, escaped
#
# Timing runs in REPS rounds (default 5); a round runs every command once on
# every corpus, one after the other, so a burst of load on a shared machine
# hits all of them alike, and ratios between corpora (escaped/raw) compare
# runs of the same rounds. Every figure is the median of its runs, the
# floor's included: the floor is `libdeflate-gunzip -c` over the same objects
# in 2 processes. Each ratio to the floor is also taken round by round (the
# median of the per-round ratios), which is steadier when the load shifts.
# Counts are checked against the generator's truth.
#
# PROFILE=profiling builds with symbols and line tables for `perf record`
# (default: release, the stripped binary users download).
# SMOKE=1 runs a 20 MB corpus with 2 rounds, as a smoke check.
# CTSCAN_BIN=PATH times that binary instead of building one (GEN_BIN=PATH
#   likewise for the generator).
# BASELINE=PATH also times another ctscan in every round (say, main's) and
#   prints current/baseline ratios.
# `hunt` runs the 57 bundled Sigma rules in every round; its ratio to
# `report` is printed with the others.
# `ingest` writes each corpus into an event lake (every event), then again
# with nothing new, and `ingest --select` writes the secret reads only; the
# lake's size is printed as a fraction of the gzip corpus.
# EXTRAS=1 adds, on the first corpus: --threads 1, --since 7d, jq, DuckDB
#   (slow) and memory when the corpus doubles.
set -euo pipefail
cd "$(dirname "$0")/.."
SIZE_MB="${1:-2200}"
REPS="${REPS:-5}"
if [ "${SMOKE:-0}" = 1 ]; then SIZE_MB=20; REPS=2; fi
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/ctscan-target}"
BENCH_DIR="${BENCH_DIR:-$HOME/.cache/ctscan-bench}"
DAYS=40
PROFILE="${PROFILE:-release}"
GEN="${GEN_BIN:-$CARGO_TARGET_DIR/$PROFILE/examples/gen-logs}"
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
  if [ "${EXTRAS:-0}" = 1 ]; then python3 -c 'import duckdb' 2>/dev/null || python3 -m pip install -q duckdb; fi
}

# generate NAME SEED GEN-ARGS... : the corpus $BENCH_DIR/NAME-${SIZE_MB}mb, once.
generate() {
  local dir="$BENCH_DIR/$1-${SIZE_MB}mb" seed="$2"; shift 2
  if [ ! -f "$dir.truth" ]; then
    rm -rf "$dir"
    "$GEN" --out "$dir" --truth "$dir.truth" --size-mb "$SIZE_MB" --days "$DAYS" \
      --seed "$seed" --utf8-share 970 "$@" >&2
  fi
  echo "$dir"
}

RESULTS=() # "corpus|command|wall|cpu|rss"
declare -A RUNS=() # "corpus|command" -> one wall time per round, in order
# rounds CORPUS|NAME=CMD... : REPS rounds, each running every command once;
# records each command's median wall time, the CPU time of that run and the
# median peak RSS.
rounds() {
  local tf keys=() cmds=() i r
  tf="$(mktemp)"
  for spec in "$@"; do keys+=("${spec%%=*}"); cmds+=("${spec#*=}"); done
  declare -A runs=()
  for r in $(seq "$REPS"); do
    for i in "${!cmds[@]}"; do
      /usr/bin/time -f '%e %U %S %M' -o "$tf" sh -c "${cmds[$i]}" >/dev/null
      read -r wall user sys rss < <(tail -n 1 "$tf")
      runs[$i]+="$wall $(awk "BEGIN{print $user + $sys}") $((rss / 1024))"$'\n'
      RUNS[${keys[$i]}]+="$wall "
    done
    echo "  round $r done: $(uptime)" >&2
  done
  rm -f "$tf"
  local mid=$(((REPS + 1) / 2))
  for i in "${!cmds[@]}"; do
    read -r wall cpu _ < <(printf '%s' "${runs[$i]}" | sort -n | sed -n "${mid}p")
    rss="$(printf '%s' "${runs[$i]}" | awk '{print $3}' | sort -n | sed -n "${mid}p")"
    RESULTS+=("${keys[$i]}|$wall|$cpu|$rss")
    printf '  %-44s %7.2f s (runs: %s) %4d MiB\n' "${keys[$i]}" "$wall" "${RUNS[${keys[$i]}]}" "$rss" >&2
  done
}
# per_round A B : the median over rounds of A's time / B's time (keys "corpus|command").
per_round() {
  [ -n "${RUNS[$1]:-}" ] && [ -n "${RUNS[$2]:-}" ] || { echo n/a; return; }
  paste -d' ' <(tr ' ' '\n' <<<"${RUNS[$1]}" | sed '/^$/d') <(tr ' ' '\n' <<<"${RUNS[$2]}" | sed '/^$/d') |
    awk '{printf "%.4f\n", $1 / $2}' | sort -n | sed -n "$(((REPS + 1) / 2))p" | awk '{printf "%.2f", $1}'
}
get() { # CORPUS COMMAND FIELD(3=wall,4=cpu,5=rss)
  for r in "${RESULTS[@]}"; do IFS='|' read -r c n w u m <<<"$r"
    [ "$c" = "$1" ] && [ "$n" = "$2" ] && case "$3" in 3) echo "$w" ;; 4) echo "$u" ;; 5) echo "$m" ;; esac
  done; true
}
ratio() { if [ -n "$1" ] && [ -n "$2" ]; then awk "BEGIN{printf \"%.2f\", $1 / $2}"; else echo n/a; fi; }

check_counts() { # DIR SUMMARY
  python3 - "$2" "$1.truth" <<'PY'
import json, sys
s = json.load(open(sys.argv[1])); head = json.loads(open(sys.argv[2]).readline())
ok = s["records"]["read"] == head["records"] and s["records"]["matched"] == head["selected"] and s["files"]["failed"] == 0
print(f"  counts: read {s['records']['read']} (expected {head['records']}), matched {s['records']['matched']} "
      f"(expected {head['selected']}), {s['bytes_decompressed']/1e9:.2f} GB JSON: {'OK' if ok else 'MISMATCH'}", file=sys.stderr)
sys.exit(0 if ok else 1)
PY
}

install_tools
if [ -n "${CTSCAN_BIN:-}" ]; then
  CTSCAN="$CTSCAN_BIN"
  [ -n "${GEN_BIN:-}" ] || cargo build --profile "$PROFILE" --quiet --example gen-logs
else
  cargo build --profile "$PROFILE" --quiet --bin ctscan --example gen-logs
  CTSCAN="$CARGO_TARGET_DIR/$PROFILE/ctscan"
fi
declare -A DIRS=(
  [cloudtrail]="$(generate cloudtrail 1)"
  [cloudtrail-esc]="$(generate cloudtrail-esc 1 --escape)"
  [exported]="$(generate exported 3 --mode exported)"
  [exported-esc]="$(generate exported-esc 3 --mode exported --escape)"
)
CORPORA=(cloudtrail cloudtrail-esc exported exported-esc)
OUT="$(mktemp -d)"
echo "load before timing: $(uptime)" >&2
ALL=()
for c in "${CORPORA[@]}"; do
  dir="${DIRS[$c]}"
  list="$OUT/$c.list"
  find "$dir" -name '*.json.gz' -path '*/CloudTrail/*' -print0 | sort -z >"$list"
  echo "$c: $dir: $(tr -cd '\0' <"$list" | wc -c) log objects, $(du -sh "$dir" | cut -f1) on disk" >&2
  xargs -0 cat <"$list" >/dev/null # warm the page cache
  ALL+=(
    "$c|floor=xargs -0 -P2 -n 64 libdeflate-gunzip -c <'$list'"
    "$c|report=$CTSCAN report '$dir' -q"
    "$c|report --out=rm -rf '$OUT/o-$c'; $CTSCAN report '$dir' --out '$OUT/o-$c' -q"
    "$c|alarm --rules cis=$CTSCAN alarm --rules cis '$dir' -q"
    "$c|hunt=$CTSCAN hunt '$dir' -q"
    "$c|ingest=rm -rf '$OUT/lake-$c'; $CTSCAN ingest '$dir' --lake '$OUT/lake-$c' -q"
    "$c|ingest (nothing new)=$CTSCAN ingest '$dir' --lake '$OUT/lake-$c' -q"
    "$c|ingest --select=rm -rf '$OUT/lake-sel'; $CTSCAN ingest '$dir' --lake '$OUT/lake-sel' --select -q"
  )
  if [ -n "${BASELINE:-}" ]; then
    ALL+=("$c|baseline report=$BASELINE report '$dir' -q"
      "$c|baseline report --out=rm -rf '$OUT/b'; $BASELINE report '$dir' --out '$OUT/b' -q"
      "$c|baseline alarm=$BASELINE alarm --rules cis '$dir' -q")
  fi
done
rounds "${ALL[@]}"
for c in "${CORPORA[@]}"; do check_counts "${DIRS[$c]}" "$OUT/o-$c/summary.json"; done
echo "load after timing: $(uptime)" >&2

if [ "${EXTRAS:-0}" = 1 ]; then
  dir="${DIRS[cloudtrail]}"; list="$OUT/cloudtrail.list"
  SINCE="$(python3 -c "import json,datetime;t=[json.loads(l)['time'] for l in open('$dir.truth') if l.startswith('{\"time')];print(datetime.datetime.fromtimestamp(max(t)-7*86400,datetime.UTC).strftime('%Y-%m-%dT%H:%M:%SZ'))")"
  JQ="$OUT/q.jq"
  echo '.Records[] | select(.eventSource == "secretsmanager.amazonaws.com" and (.eventName == "GetSecretValue" or .eventName == "BatchGetSecretValue")) | [.userIdentity.arn, .eventName]' >"$JQ"
  REPS_SAVED="$REPS"
  rounds "cloudtrail|report --threads 1=$CTSCAN report '$dir' --threads 1 -q" \
    "cloudtrail|report --since 7d=$CTSCAN report '$dir' --since $SINCE -q"
  REPS=1 rounds "cloudtrail|jq (2 processes)=xargs -0 -P2 -n 64 sh -c 'for f; do gzip -dc \"\$f\" | jq -c -f $JQ; done' _ <'$list'" \
    "cloudtrail|duckdb (2 threads)=python3 benches/duckdb_query.py '$list'"
  dir2="$(generate cloudtrail-b 2)"
  rounds "cloudtrail|report (2x corpus)=$CTSCAN report '$dir' '$dir2' -q" \
    "cloudtrail|report --out (2x)=rm -rf '$OUT/o2'; $CTSCAN report '$dir' '$dir2' --out '$OUT/o2' -q" \
    "cloudtrail|alarm --rules cis (2x)=$CTSCAN alarm --rules cis '$dir' '$dir2' -q"
  REPS="$REPS_SAVED"
fi

echo
echo "medians of $REPS rounds; last column: the median to the floor of the same corpus"
printf '| %-16s | %-24s | %8s | %8s | %9s | %8s |\n' corpus command "wall (s)" "cpu (s)" "RSS (MiB)" "/ floor"
printf '|%s|%s|%s|%s|%s|%s|\n' ------------------ -------------------------- ---------- ---------- ----------- ----------
for r in "${RESULTS[@]}"; do
  IFS='|' read -r c n w u m <<<"$r"
  printf '| %-16s | %-24s | %8.2f | %8.2f | %9d | %8s |\n' "$c" "$n" "$w" "$u" "$m" "$(ratio "$w" "$(get "$c" floor 3)")"
done
echo
echo "ratios, each the median over rounds of the ratio within a round:"
for c in "${CORPORA[@]}"; do
  line="$c: report/floor $(per_round "$c|report" "$c|floor")"
  line+=", --out/floor $(per_round "$c|report --out" "$c|floor") (<= 1.5, aim 1.3)"
  line+=", alarm/report $(per_round "$c|alarm --rules cis" "$c|report") (<= 1.2)"
  line+=", hunt/report $(per_round "$c|hunt" "$c|report") (<= 1.5)"
  line+=", RSS --out $(get "$c" 'report --out' 5) MiB (<= 128)"
  line+=", ingest/floor $(per_round "$c|ingest" "$c|floor") (<= 3)"
  line+=", ingest --select/floor $(per_round "$c|ingest --select" "$c|floor") (<= 1.3)"
  line+=", ingest again/ingest $(per_round "$c|ingest (nothing new)" "$c|ingest") (<= 0.02)"
  line+=", RSS ingest $(get "$c" ingest 5) / --select $(get "$c" 'ingest --select' 5) MiB (<= 256)"
  line+=", lake/gzip size $(ratio "$(du -sk "$OUT/lake-$c" | cut -f1)" "$(du -sk "${DIRS[$c]}" | cut -f1)")"
  case "$c" in *-esc)
    raw="${c%-esc}"
    line+=", escaped/raw: report $(per_round "$c|report" "$raw|report") (<= 1.2)"
    line+=", --out $(per_round "$c|report --out" "$raw|report --out")"
    line+=", alarm $(per_round "$c|alarm --rules cis" "$raw|alarm --rules cis")"
    line+=", floor $(per_round "$c|floor" "$raw|floor")" ;;
  esac
  if [ -n "${BASELINE:-}" ]; then
    line+="; current/baseline: report $(per_round "$c|report" "$c|baseline report")"
    line+=", --out $(per_round "$c|report --out" "$c|baseline report --out")"
    line+=", alarm $(per_round "$c|alarm --rules cis" "$c|baseline alarm")"
  fi
  echo "$line"
done
if [ "${EXTRAS:-0}" = 1 ]; then
  rep="$(get cloudtrail report 3)"
  echo "extras (cloudtrail): 1 thread / 2 threads $(ratio "$(get cloudtrail 'report --threads 1' 3)" "$rep") (<= 2.1);" \
    "--since 7d / full $(ratio "$(get cloudtrail 'report --since 7d' 3)" "$rep") (<= 0.25);" \
    "jq / ctscan $(ratio "$(get cloudtrail 'jq (2 processes)' 3)" "$rep"); DuckDB / ctscan $(ratio "$(get cloudtrail 'duckdb (2 threads)' 3)" "$rep");" \
    "RSS 2x corpus / 1x: $(ratio "$(get cloudtrail 'report (2x corpus)' 5)" "$(get cloudtrail report 5)")," \
    "--out $(ratio "$(get cloudtrail 'report --out (2x)' 5)" "$(get cloudtrail 'report --out' 5)")," \
    "CIS alarm $(ratio "$(get cloudtrail 'alarm --rules cis (2x)' 5)" "$(get cloudtrail 'alarm --rules cis' 5)") (< 1.10)"
fi
rm -rf "$OUT"
