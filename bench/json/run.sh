#!/bin/sh
# The JSON measurement behind issue 10's choice (docs/development.md, "JSON"): the hand-written
# writer and parser against RapidJSON, nlohmann-json, simdjson and Poco JSON, on rendering
# volumes/detail for 1,000 volumes, parsing request bodies, and RPC messages. It builds against
# the JSON code of commit e9262fd (before the typed RPC), extracted with git show.
#   bench/json/run.sh [build|conformance|time|callgrind|compile|all]
# JSON=tree takes common/json.{h,cc} from the working tree instead (today's parse path,
# simdjson read into json::Value) and names that parser "value" instead of "hand"; its results go
# to BUILD/json-bench/tree/. Compare its create, action, rpc-parse and caps-parse rows with the
# default run's "hand" (the hand-written parser, RPC) and "poco" (request bodies before).
# Needs: rapidjson-dev nlohmann-json3-dev libsimdjson-dev libpoco-dev valgrind (not installed by
# make: apt-get install -y --no-install-recommends rapidjson-dev nlohmann-json3-dev libsimdjson-dev).
set -e
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
B=${BUILD:-$ROOT/build}/json-bench
[ "${JSON:-}" = tree ] && B=$B/tree
S=$B/snapshot
mkdir -p "$B"
for f in include/cinder/status.h include/cinder/volume.h include/cinder/context.h \
         libcinder/common/json.h libcinder/common/json.cc libcinder/common/json_writer.h \
         libcinder/common/json_writer.cc libcinder/common/util.h libcinder/common/util.cc \
         libcinder/common/status.cc libcinder/rpc/args.h libcinder/rpc/args.cc; do
  mkdir -p "$S/$(dirname "$f")"
  git -C "$ROOT" show "e9262fd:$f" > "$S/$f"
done
CXX="nice g++ -std=c++20 -O2 -g -DNDEBUG -Wall -Wextra -Wno-unused-parameter"
if [ "${JSON:-}" = tree ]; then
  cp "$ROOT/libcinder/common/json.h" "$ROOT/libcinder/common/json.cc" "$S/libcinder/common/"
  CXX="$CXX -DCINDER_BENCH_PARSER=\"value\""
fi
INC="-I$S/include -I$S/libcinder"
SRCS="$S/libcinder/common/json.cc $S/libcinder/common/json_writer.cc $S/libcinder/common/util.cc $S/libcinder/common/status.cc $S/libcinder/rpc/args.cc"
LIBS="-lsimdjson -lPocoJSON -lPocoFoundation"
what=${1:-all}
if [ "$what" = build ] || [ "$what" = all ]; then
  $CXX $INC -o "$B/json_bench" "$HERE/json_bench.cc" $SRCS $LIBS
fi
if [ "$what" = conformance ] || [ "$what" = all ]; then
  "$B/json_bench" --conformance > "$B/conformance.txt"
fi
if [ "$what" = time ] || [ "$what" = all ]; then
  nice "$B/json_bench" --reps=${REPS:-15} --ms=${MS:-60} | tee "$B/time.txt"
fi
if [ "$what" = callgrind ] || [ "$what" = all ]; then
  : > "$B/callgrind.txt"
  "$B/json_bench" --reps=1 --ms=1 | awk 'NR > 1 && NF > 0 { print $1 "/" $2 }' | sed 's|/args$|/args (today)|' |
  while read -r c; do
    case $c in render/*) n=3 ;; *) n=200 ;; esac
    ir=$(nice valgrind --tool=callgrind --collect-atstart=no --toggle-collect='*RunBatch*' \
           --callgrind-out-file=/dev/null "$B/json_bench" --only="$c" --iters=$n 2>&1 |
         sed -n 's/.*Collected : \([0-9]*\).*/\1/p')
    echo "$c $((ir / n))" | tee -a "$B/callgrind.txt"
  done
fi
if [ "$what" = compile ] || [ "$what" = all ]; then
  SNAPSHOT=$S "$HERE/compile_cost.sh" | tee "$B/compile.txt"
fi
