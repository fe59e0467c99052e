#!/usr/bin/env python3
"""Reads a volume's bytes through libcinder's Python module: attaches it to this host
(Volume.attach(): an attachment with this host's connector, opened by the connector as a file)
and copies a range of it to a file or shows it as a hex dump.

    read_volume.py --state-path DIR VOLUME_ID                       # a hex dump of the first 256 bytes
    read_volume.py --state-path DIR VOLUME_ID --offset 4096 --length 512
    read_volume.py --config-file /etc/cinder/cinder.conf VOLUME_ID --length 0 --output vol.img  # all of it

The attachment is read-only and removed when done. When the connector cannot open it (an iSCSI
target this host cannot reach), the volume is read through its local path instead, when its
backend has one on this host. (PYTHONPATH=build/python in the build tree; docs/python.md.)
"""
import argparse
import sys

import cinder

CHUNK = 4 << 20


def hexdump(data, base, out):
    for off in range(0, len(data), 16):
        row = data[off:off + 16]
        text = "".join(chr(b) if 32 <= b < 127 else "." for b in row)
        out.write(f"{base + off:08x}  {row.hex(' '):<47}  |{text}|\n")


def copy(src, offset, length, dst):
    """Copies `length` bytes (0: to the end) at `offset` of the file-like `src` to `dst`."""
    src.seek(offset)
    left = length or None
    done = 0
    while left is None or left > 0:
        data = src.read(CHUNK if left is None else min(CHUNK, left))
        if not data:
            break
        dst(data)
        done += len(data)
        if left is not None:
            left -= len(data)
    return done


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    where = ap.add_mutually_exclusive_group(required=True)
    where.add_argument("--state-path", help="an embedded service's state directory")
    where.add_argument("--config-file", help="a deployment's cinder.conf")
    ap.add_argument("--project", default="cinderlib", help="the volume's project (default cinderlib)")
    ap.add_argument("volume_id")
    ap.add_argument("--offset", type=int, default=0)
    ap.add_argument("--length", type=int, default=256, help="bytes to read; 0: to the end (default 256)")
    ap.add_argument("--output", help="write the bytes to this file instead of a hex dump")
    args = ap.parse_args()

    opened = (cinder.open(config_file=args.config_file, project_id=args.project) if args.config_file
              else cinder.open(state_path=args.state_path, project_id=args.project))
    with opened as svc:
        vol = svc.get_volume(args.volume_id)
        chunks = []
        sink = chunks.append
        out = open(args.output, "wb") if args.output else None
        if out:
            sink = out.write
        try:
            with vol.attach(mode="ro") as f:
                how = f.name
                n = copy(f, args.offset, args.length, sink)
        except (cinder.Unavailable, cinder.NotSupported, cinder.NotAuthenticated) as e:
            path = vol.local_path()
            if not path:
                raise
            print(f"attach failed ({e}); reading {path}", file=sys.stderr)
            how = f"local path {path}"
            with open(path, "rb") as f:
                n = copy(f, args.offset, args.length, sink)
        if out:
            out.close()
            print(f"{n} bytes of volume {vol.id} ({how}) written to {args.output}", file=sys.stderr)
        else:
            hexdump(b"".join(chunks), args.offset, sys.stdout)
            print(f"{n} bytes of volume {vol.id} ({how})", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
