#!/usr/bin/env bash
# Builds the libFuzzer targets under tests/fuzz/ with clang (ASan + UBSan) and runs each for a
# bounded time each: scripts/fuzz.sh BUILD_DIR [SECONDS]. Part of `make test` (ctest "fuzz").
# A crash or a failed check leaves the input in BUILD_DIR/fuzz/ and fails the test.
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
seconds=${2:-30}
out="$build/fuzz"
mkdir -p "$out/corpus"
cxx=clang++-14
if ! command -v "$cxx" >/dev/null; then
  echo "fuzz: $cxx is missing (scripts/install-deps.sh installs clang-14 and libfuzzer-14-dev)" >&2
  exit 1
fi
# A target is rebuilt only when one of its sources (or a header) is newer than its binary.
build_target() {
  local name=$1
  shift
  if [ ! -x "$out/$name" ] || [ -n "$(find "$@" libcinder/common/*.h libcinder/rpc/*.h libcinder/api/*.h \
       libcinder/volume/volume_rpc.h libcinder/scheduler/scheduler_rpc.h -newer "$out/$name" 2>/dev/null)" ]; then
    "$cxx" -std=c++20 -O1 -g -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
      -Iinclude -Ilibcinder -o "$out/$name" "$@" -lsimdjson
  fi
}
build_target json_fuzz tests/fuzz/json_fuzz.cc libcinder/common/json.cc libcinder/common/json_writer.cc \
  libcinder/common/status.cc libcinder/common/util.cc libcinder/rpc/codec.cc libcinder/common/digest.cc -lcrypto
build_target http_parser_fuzz tests/fuzz/http_parser_fuzz.cc libcinder/api/http_parser.cc
mkdir -p "$out/corpus_http"
cp -n tests/fuzz/corpus/* "$out/corpus/" 2>/dev/null || true
cp -n tests/fuzz/corpus_http/* "$out/corpus_http/" 2>/dev/null || true
cd "$out"
# Each target gets the time given; a finding stops at once with the input saved.
./json_fuzz -max_total_time="$seconds" -rss_limit_mb=2048 -max_len=4096 -print_final_stats=1 corpus
exec ./http_parser_fuzz -max_total_time="$seconds" -rss_limit_mb=2048 -max_len=4096 -print_final_stats=1 corpus_http
