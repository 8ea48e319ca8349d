#!/usr/bin/env bash
# Installs what the tests need beyond the root package: s3lab, the workspace's
# loopback S3 server (tools/s3lab), which the S3-at-scale tests start on
# 127.0.0.1 (built here because `cargo test` holds the target directory while
# tests run, so they cannot build it); moto's S3-compatible server, which the
# other S3 tests start on 127.0.0.1 (it takes uploads, deletes and ACLs); mmdb-writer, which builds the small GeoIP
# test databases; maxminddb-geolite2, whose GeoLite2 City database (2018,
# CC BY-SA 4.0, MaxMind) one GeoIP test reads; and Debian's Chromium, which
# the HTML tests load the dashboard in (headless); pySigma with its SQLite
# backend, the independent Sigma implementation hunt's tests compare with. Does nothing for what is
# already there.
set -euo pipefail
PYTHON="${PYTHON:-python3}"
cd "$(dirname "$0")/.."
cargo build --locked --quiet -p s3lab
if ! "$PYTHON" -c 'import moto.server, flask, flask_cors' 2>/dev/null; then
  "$PYTHON" -m pip install --quiet 'moto[server]'
fi
if ! "$PYTHON" -c 'import mmdb_writer, netaddr' 2>/dev/null; then
  "$PYTHON" -m pip install --quiet mmdb-writer
fi
if ! "$PYTHON" -c 'import sigma.backends.sqlite, sigma.collection, yaml' 2>/dev/null; then
  "$PYTHON" -m pip install --quiet pysigma pysigma-backend-sqlite
fi
# DuckDB and Spark (local mode, on the machine's Java 17) read the event lake
# in the lake tests, as users' engines would.
if ! "$PYTHON" -c 'import duckdb' 2>/dev/null; then
  "$PYTHON" -m pip install --quiet duckdb
fi
if ! "$PYTHON" -c 'import pyspark' 2>/dev/null; then
  "$PYTHON" -m pip install --quiet pyspark
fi
if ! "$PYTHON" -c 'import _maxminddb_geolite2' 2>/dev/null; then
  "$PYTHON" -m pip install --quiet maxminddb-geolite2
fi
if [ ! -x /usr/bin/chromium ]; then
  SUDO=""
  if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
  export DEBIAN_FRONTEND=noninteractive
  # Refresh the package lists only when the install fails with stale ones.
  if ! $SUDO apt-get install -y --no-install-recommends chromium; then
    $SUDO apt-get update
    $SUDO apt-get install -y --no-install-recommends chromium
  fi
fi
