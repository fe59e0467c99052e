#!/usr/bin/env bash
# Builds the libFuzzer targets under tests/fuzz/ with clang (ASan + UBSan) and runs each for a
# bounded time: scripts/fuzz.sh BUILD_DIR [SECONDS]. Part of `make test` (ctest "fuzz_json").
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
sources=(tests/fuzz/json_fuzz.cc libcinder/common/json.cc libcinder/common/json_writer.cc
         libcinder/common/status.cc libcinder/common/util.cc libcinder/rpc/codec.cc)
# Rebuilt only when a source is newer than the binary.
if [ ! -x "$out/json_fuzz" ] || [ -n "$(find "${sources[@]}" libcinder/common/*.h libcinder/rpc/*.h \
     libcinder/volume/volume_rpc.h libcinder/scheduler/scheduler_rpc.h -newer "$out/json_fuzz" 2>/dev/null)" ]; then
  "$cxx" -std=c++20 -O1 -g -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
    -Iinclude -Ilibcinder -o "$out/json_fuzz" "${sources[@]}" -lsimdjson
fi
cp -n tests/fuzz/corpus/* "$out/corpus/" 2>/dev/null || true
cd "$out"
exec ./json_fuzz -max_total_time="$seconds" -rss_limit_mb=2048 -max_len=4096 -print_final_stats=1 corpus
