#!/usr/bin/env python3
"""cinderlib's figures beside bench/python_embedded.py's (docs/python.md, "Figures"): create and
delete latency with Cinder's no-op FakeLoggingVolumeDriver, and listing N volumes
(Backend.volumes), with cinderlib's "memory" or "db" (SQLite) persistence.

cinderlib is not installable here (no PyPI), so it runs from its last source on Debian's Cinder,
unpacked beside the system (nothing installed):

    mkdir -p /tmp/cl/debs /tmp/cl/root /tmp/cl/src && cd /tmp/cl/debs
    apt-get download $(apt-get install -s --no-install-recommends python3-cinder python3-os-brick |
        awk '/^Inst/ {print $2}' | grep -E '^python3-|^alembic$|^pycadf-common$|^os-brick-common$')
    for d in *.deb; do dpkg -x "$d" /tmp/cl/root; done
    git --git-dir=<a clone of openstack/cinderlib> archive ee1d86c cinderlib | tar -x -C /tmp/cl/src
    # its persistence plugins are entry points: a dist-info naming them
    mkdir /tmp/cl/src/cinderlib-5.2.0.dist-info && cd /tmp/cl/src/cinderlib-5.2.0.dist-info
    printf 'Metadata-Version: 2.1\nName: cinderlib\nVersion: 5.2.0\n' > METADATA
    printf '[cinderlib.persistence.storage]\nmemory = cinderlib.persistence.memory:MemoryPersistence\n%s\n' \
        'db = cinderlib.persistence.dbms:DBPersistence' > entry_points.txt

    PYTHONPATH=/tmp/cl/src:/tmp/cl/root/usr/lib/python3/dist-packages \
        /usr/bin/python3 bench/cinderlib_compare.py 10000 memory    # or: db
    # import time:
    PYTHONPATH=... /usr/bin/python3 -c 'import time; t = time.perf_counter(); import cinderlib; print(time.perf_counter() - t)'
"""
import statistics
import sys
import tempfile
import time

import cinderlib as cl


def main():
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 10000
    persistence = sys.argv[2] if len(sys.argv) > 2 else "memory"
    tmp = tempfile.mkdtemp()
    if persistence == "memory":
        pc = {"storage": "memory"}
    else:
        pc = {"storage": "db", "connection": f"sqlite:///{tmp}/cl.sqlite"}
    cl.setup(persistence_config=pc, disable_logs=True, state_path=tmp)
    b = cl.Backend(volume_driver="cinder.tests.fake_driver.FakeLoggingVolumeDriver", volume_backend_name="fake")
    for _ in range(20):  # warm up
        b.create_volume(1)
    creates, deletes = [], []
    for _ in range(200):
        t = time.perf_counter()
        v = b.create_volume(1)
        creates.append(time.perf_counter() - t)
        t = time.perf_counter()
        v.delete()
        deletes.append(time.perf_counter() - t)
    for _ in range(n - 20):
        b.create_volume(1)
    lists = []
    for _ in range(5):
        t = time.perf_counter()
        vols = list(b.volumes)
        lists.append(time.perf_counter() - t)

    def ms(xs):
        return statistics.median(xs) * 1000

    print(f"cinderlib[{persistence}]: create median {ms(creates):.3f} ms, delete median {ms(deletes):.3f} ms; "
          f"list {len(vols)} volumes median {ms(lists):.1f} ms (the first: {lists[0] * 1000:.1f} ms)")


if __name__ == "__main__":
    main()
