#!/usr/bin/env python3
"""Provisions volumes for a list of projects through libcinder's Python module, with a progress
bar on a terminal (a line per project otherwise).

    # an embedded service (SQLite and a file backend under DIR):
    provision_projects.py --state-path DIR --count 5 --size 1 alpha beta gamma
    # a running deployment, joined through its cinder.conf:
    provision_projects.py --config-file /etc/cinder/cinder.conf --count 5 alpha beta

Each project gets --count volumes named <project>-<n> of --size GiB (its volumes quota raised to
fit when it is lower); the script waits until all are available, then prints each project's
volumes and usage. Exit status 1 if any volume failed.
(PYTHONPATH=build/python in the build tree; docs/python.md.)
"""
import argparse
import shutil
import sys
import time

import cinder


class Bar:
    """A one-line progress bar redrawn in place on a terminal; nothing otherwise."""

    def __init__(self, total, stream=sys.stdout):
        self.total, self.done, self.stream = total, 0, stream
        self.tty = stream.isatty()
        self.started = time.monotonic()

    def advance(self, label):
        self.done += 1
        if not self.tty:
            return
        width = max(10, min(50, shutil.get_terminal_size().columns - 40))
        filled = width * self.done // self.total
        rate = self.done / max(time.monotonic() - self.started, 1e-6)
        self.stream.write(f"\r[{'#' * filled}{'.' * (width - filled)}] {self.done}/{self.total} "
                          f"{rate:6.0f}/s {label[:20]:<20}")
        self.stream.flush()

    def finish(self):
        if self.tty:
            self.stream.write("\n")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    where = ap.add_mutually_exclusive_group(required=True)
    where.add_argument("--state-path", help="an embedded service's state directory")
    where.add_argument("--config-file", help="a deployment's cinder.conf")
    ap.add_argument("--count", type=int, default=3, help="volumes per project (default 3)")
    ap.add_argument("--size", type=int, default=1, help="GiB each (default 1)")
    ap.add_argument("--volume-type", help="their volume type (default: the default type)")
    ap.add_argument("projects", nargs="+", help="project ids")
    args = ap.parse_args()

    opened = (cinder.open(config_file=args.config_file) if args.config_file
              else cinder.open(state_path=args.state_path))
    failed = 0
    with opened as svc:
        bar = Bar(len(args.projects) * args.count)
        for project in args.projects:
            p = svc.for_project(project)
            quota = p.quotas()["volumes"]
            if quota.limit != -1 and quota.limit < quota.in_use + args.count:
                p.set_quotas(volumes=quota.in_use + args.count)
            # Every create is accepted at once; then each is waited for as it finishes.
            volumes = [p.create_volume(args.size, name=f"{project}-{i}", volume_type=args.volume_type)
                       for i in range(args.count)]
            for vol in volumes:
                try:
                    vol.wait(timeout=300)
                except cinder.Error as e:
                    failed += 1
                    print(f"\n{project}: {e}", file=sys.stderr)
                bar.advance(f"{project} {vol.name}")
            if not bar.tty:
                print(f"{project}: {sum(v.status == 'available' for v in volumes)}/{args.count} available")
        bar.finish()
        for project in args.projects:
            p = svc.for_project(project)
            q = p.quotas()
            names = sorted(v.name for v in p.volumes())
            print(f"{project}: {len(names)} volumes, {q['gigabytes'].in_use} GiB: {' '.join(names)}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
