#!/usr/bin/env bash
# Runs the whole test suite. Installs what the tests need first, so it works
# on a fresh machine. Reuses a target directory outside the clone.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/ctscan-target}"
export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"
if [ ! -d ../shared/data ]; then
  echo "test.sh: ../shared/data is missing: the tests read the public samples there" >&2
  exit 2
fi
scripts/install-test-deps.sh
log="$(mktemp)"
trap 'rm -f "$log"' EXIT
cargo test --locked --lib --bins --tests "$@" 2>&1 | tee "$log"
# One closing line for the whole run, summed over every test binary.
awk '/^test result:/ { p += $4; f += $6 } END { printf "tests: %d passed, %d failed\n", p, f }' "$log"
