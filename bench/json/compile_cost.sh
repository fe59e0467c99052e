#!/bin/sh
# Compile cost of one small file per library (read a body, write a reply), as RelWithDebInfo
# builds it: user CPU seconds (median of 3; the machine is shared, so CPU time, not wall),
# peak memory, preprocessed lines, object size. Also the hand-written code's own .cc files.
HERE=$(cd "$(dirname "$0")" && pwd)
S=${SNAPSHOT:?run through bench/json/run.sh}
CXX="g++ -std=c++20 -O2 -g -DNDEBUG -Wall -Wextra -Wno-unused-parameter -I$S/include -I$S/libcinder"
cd "$HERE/compile"
printf '%-34s %8s %8s %10s %10s\n' file "user s" "MB" "pp lines" "obj KB"
for f in base.cc hand.cc rapidjson.cc nlohmann.cc simdjson.cc poco.cc \
         "$S/libcinder/common/json.cc" "$S/libcinder/common/json_writer.cc"; do
  ts=""
  for i in 1 2 3; do
    /usr/bin/time -o /tmp/cc_time -f '%U %M' nice $CXX -c "$f" -o /tmp/cc_obj.o >/dev/null 2>&1
    t=$(tail -1 /tmp/cc_time)
    ts="$ts$t\n"
  done
  med=$(printf "$ts" | sort -n | sed -n 2p)
  lines=$($CXX -E "$f" 2>/dev/null | wc -l)
  kb=$(( $(stat -c %s /tmp/cc_obj.o) / 1024 ))
  printf '%-34s %8s %8d %10d %10d\n' "$(basename "$f")" "${med% *}" "$(( ${med#* } / 1024 ))" "$lines" "$kb"
done
