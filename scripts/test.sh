#!/usr/bin/env bash
# make test: every test (unit tests against SQLite and a throwaway PostgreSQL, and the
# end-to-end tests with the stock cinder client), through ctest; then one line of totals over
# every suite. The exit status is ctest's.
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
cd "$build"
log=$PWD/test.log   # ctest's console output; each test's full output is in Testing/Temporary/LastTest.log
set +e
ctest --output-on-failure --timeout 1200 "${@:2}" 2>&1 | tee "$log"
rc=${PIPESTATUS[0]}
set -e

# The totals: the doctest binaries' and pytest's own counts of their test cases (read from the
# end of their output), and every other ctest test as one. A suite that failed without its
# summary (a crash, a timeout) counts one failure; so does a ctest test that failed although its
# summary counts none.
/usr/bin/python3 - "$log" Testing/Temporary/LastTest.log <<'PY' || echo "make test: no totals (see $log)"
import re
import sys

console, last_test = sys.argv[1], sys.argv[2]

# "  3/5 Test  #3: unit .......................   Passed   41.20 sec"
results = []
for line in open(console, errors="replace"):
    m = re.match(r"\s*\d+/\d+ Test\s+#\d+: (\S+) \.*\s*(?:\*\*\*)?(.*?)\s+[\d.]+ sec$", line.rstrip())
    if m:
        results.append((m.group(1), m.group(2)))

outputs, name, lines = {}, None, None
try:
    for line in open(last_test, errors="replace"):
        line = line.rstrip("\n")
        m = re.match(r"\d+/\d+ Test: (.+)$", line)
        if m:
            name = m.group(1)
        elif line == "Output:" and name is not None:
            lines = []
        elif line == "<end of output>" and lines is not None:
            outputs[name] = lines[1:]  # after the dashes under "Output:"
            lines = None
        elif lines is not None:
            lines.append(line)
except OSError:
    pass


def suite_counts(out):
    """(passed, failed, skipped) from a doctest or pytest summary at the end of `out`, or None."""
    for line in reversed(out):
        m = re.search(r"\[doctest\] test cases:\s*\d+ \|\s*(\d+) passed \|\s*(\d+) failed \|\s*(\d+) skipped", line)
        if m:
            return tuple(int(g) for g in m.groups())
        if re.match(r"^=*\s*(no tests ran|\d+ \w+(, \d+ \w+)*) in [\d.]+s\b", line):
            n = {k: int(v) for v, k in re.findall(r"(\d+) (\w+)", line.split(" in ")[0])}
            return (n.get("passed", 0) + n.get("xpassed", 0),
                    n.get("failed", 0) + n.get("error", 0) + n.get("errors", 0),
                    n.get("skipped", 0) + n.get("xfailed", 0))
    return None


passed = failed = skipped = 0
for name, status in results:
    ok = status == "Passed"
    if status == "Skipped" or status.startswith("Not Run (Disabled)"):
        skipped += 1
        continue
    counts = suite_counts(outputs.get(name, []))
    if counts is None:
        counts = (1, 0, 0) if ok else (0, 1, 0)
    elif not ok and counts[1] == 0:
        counts = (counts[0], 1, counts[2])
    passed, failed, skipped = passed + counts[0], failed + counts[1], skipped + counts[2]

line = f"make test: {passed} passed, {failed} failed"
if skipped:
    line += f", {skipped} skipped"
print(line)
PY
exit "$rc"
