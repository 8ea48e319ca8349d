#!/usr/bin/env bash
# Installs what the tests need beyond Rust: moto's S3-compatible server, which
# the S3 tests start on 127.0.0.1. Does nothing when it is already there.
set -euo pipefail
PYTHON="${PYTHON:-python3}"
if ! "$PYTHON" -c 'import moto.server, flask, flask_cors' 2>/dev/null; then
  "$PYTHON" -m pip install --quiet 'moto[server]'
fi
