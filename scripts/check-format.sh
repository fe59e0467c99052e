#!/usr/bin/env bash
# Checks that the C++ sources are formatted as .clang-format says (ctest "format");
# --fix reformats them in place.
set -euo pipefail
cd "$(dirname "$0")/.."
cf=$(command -v clang-format-14 || command -v clang-format || true)
if [ -z "$cf" ]; then
  echo "check-format: clang-format is missing (scripts/install-deps.sh installs clang-format)" >&2
  exit 1
fi
mapfile -t files < <(git ls-files '*.cc' '*.h' 2>/dev/null | grep -v '^bench/json/' ||
                     find include libcinder daemons tests bench examples -name '*.cc' -o -name '*.h')
if [ "${1:-}" = --fix ]; then
  exec "$cf" -i "${files[@]}"
fi
exec "$cf" --dry-run --Werror "${files[@]}"
