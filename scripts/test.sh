#!/usr/bin/env bash
# make test: every test (unit tests against SQLite and a throwaway PostgreSQL, and the
# end-to-end tests with the stock cinder client), through ctest.
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
cd "$build"
exec ctest --output-on-failure --timeout 1200 "${@:2}"
