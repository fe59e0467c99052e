#!/usr/bin/env bash
# make bench: bench/bench.py against the built cinder-all (figures, not a test).
set -euo pipefail
cd "$(dirname "$0")/.."
exec /usr/bin/python3 bench/bench.py --bin "${1:-build}/bin" "${@:2}"
