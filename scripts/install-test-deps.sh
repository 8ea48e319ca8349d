#!/usr/bin/env bash
# Installs what the tests need beyond Rust: moto's S3-compatible server, which
# the S3 tests start on 127.0.0.1; mmdb-writer, which builds the small GeoIP
# test databases; and maxminddb-geolite2, whose GeoLite2 City database (2018,
# CC BY-SA 4.0, MaxMind) one GeoIP test reads. Does nothing when they are
# already there.
set -euo pipefail
PYTHON="${PYTHON:-python3}"
if ! "$PYTHON" -c 'import moto.server, flask, flask_cors' 2>/dev/null; then
  "$PYTHON" -m pip install --quiet 'moto[server]'
fi
if ! "$PYTHON" -c 'import mmdb_writer, netaddr' 2>/dev/null; then
  "$PYTHON" -m pip install --quiet mmdb-writer
fi
if ! "$PYTHON" -c 'import _maxminddb_geolite2' 2>/dev/null; then
  "$PYTHON" -m pip install --quiet maxminddb-geolite2
fi
