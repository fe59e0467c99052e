#!/usr/bin/env python3
"""The dashboard's volumes page with 10,000 volumes: time from navigation to the first page of
the list rendered, in headless Chromium (the figure the issue targets: under 300 ms).

10,000 volumes are written with SQL before cinder-all starts (bench/scale.py's helpers, noauth,
one project). The browser (tests/tools/cdp.py) opens /dashboard/ with a session already in
sessionStorage (an admin: the list asks all_tenants=1, with_count=true, limit=50, sorted by
created_at), and the page marks `volumes-first-page` once the first page is in the DOM and laid
out; performance.measure from the navigation's start is read over the DevTools protocol. The
first load is cold (the browser caches nothing); the later ones revalidate the files (304s).
Also printed: the list request's own time (Resource Timing) and the response's size, and on the
page, from a click to the rows drawn: the next page (by marker) and a name filter (name~).

Usage: bench/dashboard_first_page.py [BIN_DIR] [--runs 15] [--volumes 10000]
"""
import argparse
import json
import os
import statistics
import sys
import tempfile
import time
import uuid

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "tests", "tools"))
import cdp  # noqa: E402
import scale  # noqa: E402


def iso(t):
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(t)) + ".000000"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("bin", nargs="?", default=os.path.join(os.path.dirname(HERE), "build", "bin"))
    ap.add_argument("--runs", type=int, default=15)
    ap.add_argument("--volumes", type=int, default=10000)
    args = ap.parse_args()
    if not cdp.find_browser():
        sys.exit("chromium-headless-shell is not installed")
    tmp = tempfile.mkdtemp(prefix="bench-dashboard-")
    db = scale.Database("sqlite", tmp)
    srv = scale.Server(os.path.abspath(args.bin), db, tmp)
    try:
        type_id = db.query("SELECT id FROM volume_types WHERE name = '__DEFAULT__'")[0][0]
        base = time.time() - args.volumes - 60
        rows = [(str(uuid.uuid4()), scale.USER, scale.PROJECT, "h@file#file", 1 + i % 10, "nova",
                 "available" if i % 7 else "in-use", "detached", f"vol-{i:05d}", type_id, 0, 0, iso(base + i),
                 iso(base + i), 0) for i in range(args.volumes)]
        db.insert_volumes(rows)
        srv.start()
        url = f"http://127.0.0.1:{srv.port}/dashboard/"
        session = {"mode": "noauth", "token": f"{scale.USER}:{scale.PROJECT}", "project_id": scale.PROJECT,
                   "project_name": "bench", "user_name": scale.USER, "roles": ["admin"], "is_admin": True}
        with cdp.Browser() as b:
            b.navigate(url)
            b.wait_for("document.querySelector('#login')", what="the login page")
            b.eval(f"sessionStorage.setItem('cinder.dashboard.session', {json.dumps(json.dumps(session))})")
            first, api_ms, sizes = [], [], []
            for run in range(args.runs):
                b.navigate(f"{url}?run={run}#/volumes")
                d = b.wait_for("performance.getEntriesByName('volumes-first-page', 'measure')[0]?.duration",
                               timeout=30, what="the first page")
                rows_shown = b.eval("document.querySelectorAll('#volumes tbody tr').length")
                assert rows_shown == 50, rows_shown
                res = b.eval("(() => { const e = performance.getEntriesByType('resource')"
                             ".filter((r) => r.name.includes('/volumes/detail'))[0];"
                             " return e ? [e.duration, e.encodedBodySize] : null; })()")
                first.append(d)
                if res:
                    api_ms.append(res[0])
                    sizes.append(res[1])
            # Then, on the page: the next page (marker), and a name filter over the 10,000 (name~).
            until_range_changes = """new Promise((resolve) => {
              const sig = () => document.querySelector('nav.pager .range').textContent + ' ' +
                (document.querySelector('#volumes tbody tr') || {dataset: {}}).dataset.id;
              const before = sig();
              const t0 = performance.now();
              setTimeout(() => resolve(null), 10000);
              const obs = new MutationObserver(() => {
                if (sig() !== before) { obs.disconnect(); resolve(performance.now() - t0); } });
              obs.observe(document.querySelector('main'), {subtree: true, childList: true, characterData: true});
              (%s)(); })"""
            nexts, filters = [], []
            for _ in range(10):
                nexts.append(b.eval(until_range_changes % "() => document.querySelector('nav.pager [data-action=next]').click()"))
            for i in range(10):
                b.type("form.filters input[name=name]", f"vol-0{i}99")
                filters.append(b.eval(until_range_changes % "() => document.querySelector('form.filters button').click()"))
            assert None not in nexts + filters, "a page change was not drawn within 10 s"
            b.check()
        print(f"{args.volumes} volumes, {args.runs} loads of {url}#/volumes (50 rows, with_count, all_tenants)")
        print(f"  navigation -> first page rendered: cold {first[0]:.1f} ms; warm median "
              f"{statistics.median(first[1:]):.1f} ms, p90 {sorted(first[1:])[int(0.9 * (len(first) - 1))]:.1f} ms, "
              f"max {max(first[1:]):.1f} ms (target < 300 ms)")
        if api_ms:
            print(f"  GET volumes/detail itself: median {statistics.median(api_ms):.1f} ms, "
                  f"{sizes[0]} bytes")
        print(f"  Next page (marker): median {statistics.median(nexts):.1f} ms; a name filter (name~) over all of "
              f"them: median {statistics.median(filters):.1f} ms (click to rows drawn)")
    finally:
        srv.stop()
        db.close()


if __name__ == "__main__":
    main()
