#!/usr/bin/env bash
# tests/install/run.sh BUILD_DIR (ctest "install"): installs the build into a temporary prefix,
# then builds this directory's consumer.cc (create, attach and write through the connector,
# snapshot, clone and read the bytes back, extend, delete) against it twice and runs each: with CMake
# (find_package(cinder) -> cinder::cinder, the shared library) and with pkg-config against the
# static archive (pkg-config --static), and the example out-of-tree volume driver with CMake.
# None of them sees the build tree or libcinder's sources.
set -euo pipefail
build=$(realpath "$1")
src=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d /tmp/cinder-install-XXXXXX)
trap 'rm -rf "$tmp"' EXIT
prefix=$tmp/prefix

cmake --install "$build" --prefix "$prefix" > "$tmp/install.log"
for f in include/cinder/volume_manager.h include/cinder/version.h lib/libcinder.a lib/libcinder.so.0 \
         lib/libcinder_ldap.so lib/cmake/cinder/cinderConfig.cmake lib/pkgconfig/cinder.pc bin/cinder-all; do
  [ -e "$prefix/$f" ] || { echo "install: $f is missing from the prefix" >&2; exit 1; }
done
# The public headers name no dependency of the library's.
if grep -lE '#include [<"](Poco|soci|zmq|boost|spdlog|simdjson|yaml-cpp|iscsi)' "$prefix"/include/cinder/*.h; then
  echo "install: a public header includes a dependency" >&2
  exit 1
fi

echo "== CMake: find_package(cinder), the shared library"
cmake -S "$src" -B "$tmp/cmake" -G Ninja -DCMAKE_PREFIX_PATH="$prefix" -DCMAKE_BUILD_TYPE=Release > "$tmp/configure.log" ||
  { cat "$tmp/configure.log"; exit 1; }
cmake --build "$tmp/cmake" > "$tmp/build.log" || { cat "$tmp/build.log"; exit 1; }
ldd "$tmp/cmake/consumer" > "$tmp/ldd.txt"
grep -q "$prefix/lib/libcinder.so.0" "$tmp/ldd.txt" ||
  { echo "install: the consumer does not run the installed libcinder.so" >&2; cat "$tmp/ldd.txt"; exit 1; }
"$tmp/cmake/consumer" "$tmp/state-shared"
echo "== an out-of-tree volume driver through the installed conformance suite"
"$tmp/cmake/custom_driver" "$tmp/state-driver"

echo "== pkg-config --static: libcinder.a"
export PKG_CONFIG_PATH=$prefix/lib/pkgconfig
libs=$(pkg-config --static --libs cinder | sed -e 's/ -lcinder / /')
# shellcheck disable=SC2086
c++ -O1 $(pkg-config --cflags cinder) "$src/consumer.cc" -o "$tmp/consumer-static" "$prefix/lib/libcinder.a" $libs
ldd "$tmp/consumer-static" > "$tmp/ldd.txt"
if grep -q libcinder "$tmp/ldd.txt"; then
  echo "install: the static consumer loads a libcinder.so" >&2
  exit 1
fi
"$tmp/consumer-static" "$tmp/state-static"
echo "install: both consumers passed"

# The Python package (bindings/python), when it was built: importable by Debian's python3 from
# the prefix's dist-packages alone, running the installed libcinder.so.
ext=$(find "$prefix" -name '_cinder*.so' | head -1)
if [ -n "$ext" ]; then
  echo "== python3: import cinder from $(dirname "$(dirname "$ext")")"
  loaded=$(ldd "$ext" | awk '/libcinder\.so\.0/ {print $3}')
  [ -n "$loaded" ] && [ "$(realpath "$loaded")" = "$(realpath "$prefix/lib/libcinder.so.0")" ] ||
    { echo "install: the Python module does not load the installed libcinder.so" >&2; ldd "$ext"; exit 1; }
  (cd "$tmp" && PYTHONPATH=$(dirname "$(dirname "$ext")") /usr/bin/python3 -c "
import cinder, sys
assert cinder.__file__.startswith('$prefix'), cinder.__file__
with cinder.open(state_path='$tmp/state-python') as svc:
    vol = svc.create_volume(1, name='installed').wait(timeout=30)
    assert vol.status == 'available', vol
    with vol.attach() as f:
        f.seek(4096)
        f.write(b'through the attachment')
    with vol.attach(mode='ro') as f:
        f.seek(4096)
        assert f.read(22) == b'through the attachment'
print('python: created', vol)
")
fi
