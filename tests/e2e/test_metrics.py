"""/metrics (docs/metrics.md): Prometheus' text format, checked by promtool and by a strict parser of
our own (tests/tools/promtext.py), on cinder-all's API port and on each distributed daemon's
[metrics] listener; the counters move as requests, placements, RPC calls and backups happen; no
project, user or resource id appears in a label."""
import http.client
import os
import re
import shutil
import subprocess
import sys
import time
import uuid

import pytest

from conftest import PROJECT, ROOT, USER, start_service, stop_service
from test_backups import create_backup, new_volume, restore_new, volume_file, write_at
from test_distributed import Cluster

sys.path.insert(0, os.path.join(ROOT, "tests", "tools"))
import promtext  # noqa: E402

MiB = 1024 ** 2
PROMTOOL = shutil.which("promtool") or "/usr/bin/promtool"
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def get(host, port, path="/metrics", method="GET", headers=None):
    conn = http.client.HTTPConnection(host, port, timeout=10)
    conn.request(method, path, headers=headers or {})
    resp = conn.getresponse()
    body = resp.read().decode()
    conn.close()
    return resp.status, body, dict(resp.getheaders())


def scrape(host, port):
    """The metrics at host:port, after promtool and promtext.py accepted them: {family: Family}."""
    code, text, headers = get(host, port)
    assert code == 200, text
    assert headers["Content-Type"] == CONTENT_TYPE
    assert os.path.exists(PROMTOOL), "promtool is missing: scripts/install-deps.sh installs Debian's prometheus"
    res = subprocess.run([PROMTOOL, "check", "metrics"], input=text, capture_output=True, text=True, timeout=30)
    assert res.returncode == 0, f"promtool check metrics: {res.returncode}\n{res.stdout}{res.stderr}"
    families = promtext.parse(text)
    for f in families.values():  # labels: never a project, a user or an id
        for _, labels, _ in f.samples:
            for k, v in labels.items():
                assert PROJECT not in v and USER not in v and not UUID.search(v), (f.name, labels)
    return families


def value(families, name, **labels):
    f = families.get(name)
    if f is None:
        return 0
    return f.total(**labels)


def wait_for(predicate, timeout, what):
    deadline = time.time() + timeout
    while time.time() < deadline:
        got = predicate()
        if got:
            return got
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


# ---- the parser's own strictness (no service) ------------------------------------------------

GOOD = """# HELP a_total A \\\\ backslash, \\n newline.
# TYPE a_total counter
a_total{x="1"} 2
a_total{x="2"} 0
# HELP h_seconds H.
# TYPE h_seconds histogram
h_seconds_bucket{le="0.1"} 1
h_seconds_bucket{le="1"} 2
h_seconds_bucket{le="+Inf"} 3
h_seconds_sum 4.5
h_seconds_count 3
"""


@pytest.mark.parametrize("bad", [
    GOOD[:-1],                                                            # no final newline
    GOOD.replace("A \\\\ backslash", "A \\q"),                             # a bad escape in HELP
    GOOD.replace("# HELP a_total A \\\\ backslash, \\n newline.\n", ""),   # no HELP
    GOOD.replace("# TYPE a_total counter\n", "# TYPE a_total counter\n# TYPE a_total counter\n"),
    GOOD.replace('a_total{x="2"} 0\n', 'a_total{x="1"} 0\n'),             # the same series twice
    GOOD.replace('{x="1"}', '{x="1\\q"}'),                                # a bad escape
    GOOD.replace('{x="1"}', '{x="1}'),                                    # unterminated
    GOOD.replace('{x="1"}', '{1x="1"}'),                                  # a bad label name
    GOOD.replace('{x="1"} 2', '{x="1"} 2 3 4'),                           # extra text
    GOOD.replace('h_seconds_bucket{le="1"} 2', 'h_seconds_bucket{le="1"} 0'),      # decreasing
    GOOD.replace('le="0.1"', 'le="2"'),                                   # le not sorted
    GOOD.replace("h_seconds_count 3", "h_seconds_count 4"),               # +Inf != _count
    GOOD.replace("h_seconds_sum 4.5\n", ""),                              # no _sum
    GOOD.replace('h_seconds_bucket{le="+Inf"} 3\n', ""),                  # no +Inf
    GOOD + 'a_total{x="3"} 1\n',                                          # a family's samples apart
])
def test_promtext_refuses_what_the_format_forbids(bad):
    assert promtext.parse(GOOD)["h_seconds"].type == "histogram"
    with pytest.raises(promtext.PromTextError):
        promtext.parse(bad)


# ---- cinder-all: everything on the API's port --------------------------------------------------

@pytest.fixture(scope="module")
def svc(tmp_path_factory):
    proc, s = start_service(tmp_path_factory.mktemp("metrics"),
                            extra="report_interval = 1\n[metrics]\nrefresh_interval = 1\n")
    yield s
    stop_service(proc)


def test_api_port_answers_metrics_without_token_or_microversion(svc):
    names = ("cinder_scheduler_no_valid_backend_total", "cinder_backup_read_bytes_total",
             "cinder_rpc_client_requests_total", "cinder_service_up", "cinder_pool_free_capacity_gib",
             "cinder_metrics_database_refresh_ok")
    # The pools appear with the volume service's first report.
    wait_for(lambda: all(n in scrape(svc.host, svc.port) for n in names), 5, "every family")
    # Before any microversion negotiation: a version the API refuses does not matter here.
    code, _, _ = get(svc.host, svc.port, headers={"OpenStack-API-Version": "volume 9.99"})
    assert code == 200
    code, _, _ = get(svc.host, svc.port, method="POST")
    assert code == 405


def test_requests_are_counted_by_route_template_method_and_status(svc):
    route = "/v3/{project_id}/types/{id}"
    before = value(scrape(svc.host, svc.port), "cinder_api_requests_total", route=route, method="GET", status="200")
    for _ in range(3):
        code, _, _ = svc.request("GET", svc.url("/types/default"))
        assert code == 200
    families = scrape(svc.host, svc.port)
    assert value(families, "cinder_api_requests_total", route=route, method="GET", status="200") == before + 3
    hist = families["cinder_api_request_duration_seconds"]
    count = [v for n, l, v in hist.samples if n.endswith("_count") and l == {"route": route, "method": "GET"}]
    assert count and count[0] >= 3


def test_made_up_paths_make_no_new_series(svc):
    """No client makes up route labels: a 404 or 405, a request without a token, a path under a
    collection nobody knows all count as `unmatched`, however deep or varied the path."""
    def series():
        return {tuple(sorted(l.items())) for _, l, _ in
                scrape(svc.host, svc.port)["cinder_api_requests_total"].samples}

    for code_path in ["/volumes/x/detail/action", "/volumes/{}/metadata/k"]:
        svc.request("GET", svc.url(code_path.format(uuid.uuid4())))
    svc.request("GET", svc.url("/nothing/a/b"))
    known = series()
    words = ["detail", "action", "metadata", "restore", "extra_specs", "x"]
    for i in range(60):
        path = "/".join(words[(i + k) % len(words)] for k in range(1 + i % 5))
        code, _, _ = svc.request("GET", svc.url(f"/volumes/{uuid.uuid4()}/{path}"))
        assert code in (404, 405), path
        svc.request("PUT", svc.url(f"/{path}/{i}"))
        code, _, _ = get(svc.host, svc.port, f"/v3/{PROJECT}/snapshots/{path}", headers={"X-Auth-Token": "bogus"})
    grown = series() - known
    # At most the unmatched series of the statuses seen (404, 405, and 401 or 400 for the token).
    assert all(dict(s)["route"] == "unmatched" for s in grown), grown
    assert len(grown) <= 4, grown


def test_a_create_counts_its_placement_rpc_calls_and_status(svc):
    before = scrape(svc.host, svc.port)
    vol = new_volume(svc, 1, "metrics-placed")
    backend = svc.cinder_table("show", vol)["os-vol-host-attr:host"].split("#")[0]
    after = scrape(svc.host, svc.port)
    key = dict(backend=backend, operation="create")
    assert value(after, "cinder_scheduler_placements_total", **key) == \
        value(before, "cinder_scheduler_placements_total", **key) + 1
    key = dict(topic="cinder-scheduler", method="create_volume", kind="cast", outcome="OK")
    assert value(after, "cinder_rpc_client_requests_total", **key) == \
        value(before, "cinder_rpc_client_requests_total", **key) + 1
    key = dict(topic="cinder-volume", method="create_volume")
    assert value(after, "cinder_rpc_server_requests_total", **key) > value(before, "cinder_rpc_server_requests_total", **key)
    # The database's counts, refreshed every second in the background.
    wait_for(lambda: value(scrape(svc.host, svc.port), "cinder_volumes", status="available") >= 1, 5,
             "cinder_volumes{status=available}")


def test_an_impossible_volume_type_counts_no_valid_backend(svc):
    before = value(scrape(svc.host, svc.port), "cinder_scheduler_no_valid_backend_total", operation="create")
    svc.cinder("type-create", "metrics-nowhere")
    svc.cinder("type-key", "metrics-nowhere", "set", "volume_backend_name=no-such-backend")
    vol = svc.cinder_table("create", "--volume-type", "metrics-nowhere", "1")["id"]
    assert svc.wait_status(vol, ["error", "available"]) == "error"
    after = value(scrape(svc.host, svc.port), "cinder_scheduler_no_valid_backend_total", operation="create")
    assert after == before + 1
    wait_for(lambda: value(scrape(svc.host, svc.port), "cinder_volumes", status="error") >= 1, 5,
             "cinder_volumes{status=error}")


def test_backup_and_restore_count_their_bytes(svc):
    before = scrape(svc.host, svc.port)
    vol = new_volume(svc, 1, "metrics-backup")
    write_at(volume_file(svc, vol), 0, os.urandom(4 * MiB))
    backup = create_backup(svc, vol)
    restore_new(svc, backup["id"], "metrics-restored")
    after = scrape(svc.host, svc.port)

    def grew(name, **labels):
        return value(after, name, **labels) - value(before, name, **labels)

    assert grew("cinder_backup_read_bytes_total") >= 4 * MiB
    assert grew("cinder_backup_stored_bytes_total") >= 4 * MiB  # random data does not compress
    assert grew("cinder_backup_restored_bytes_total") >= 4 * MiB
    assert grew("cinder_backup_operations_total", operation="backup", outcome="success") == 1
    assert grew("cinder_backup_operations_total", operation="restore", outcome="success") == 1
    count = [v for n, l, v in after["cinder_backup_duration_seconds"].samples
             if n.endswith("_count") and l == {"operation": "backup"}]
    assert count and count[0] >= 1
    wait_for(lambda: value(scrape(svc.host, svc.port), "cinder_backups", status="available") >= 1, 5,
             "cinder_backups{status=available}")


def test_pools_capacity_and_services_up(svc):
    families = scrape(svc.host, svc.port)
    pools = {l["pool"] for _, l, _ in families["cinder_pool_total_capacity_gib"].samples}
    assert pools and all("#" in p for p in pools)
    for name in ("cinder_pool_free_capacity_gib", "cinder_pool_allocated_capacity_gib",
                 "cinder_pool_provisioned_capacity_gib", "cinder_pool_volumes"):
        assert {l["pool"] for _, l, _ in families[name].samples} == pools
    up = {(l["binary"], l["host"]): v for _, l, v in families["cinder_service_up"].samples}
    assert {b for b, _ in up} == {"cinder-scheduler", "cinder-volume", "cinder-backup"}
    assert all(v == 1 for v in up.values()), up


def test_metrics_can_be_turned_off(tmp_path):
    proc, s = start_service(tmp_path, extra="[metrics]\nenabled = false\n")
    try:
        code, _, _ = get(s.host, s.port)
        assert code == 404
    finally:
        stop_service(proc)


def test_metrics_need_no_token_under_keystone(tmp_path):
    """auth_strategy keystone: the API wants a token, /metrics does not (docs/metrics.md, "Security")."""
    proc, s = start_service(tmp_path, extra="auth_strategy = keystone\n[identity]\npassword_hash_rounds = 4\n")
    try:
        assert get(s.host, s.port, f"/v3/{PROJECT}/volumes")[0] == 401
        scrape(s.host, s.port)
        families = scrape(s.host, s.port)  # the refused request, counted as unmatched (not routed)
        assert value(families, "cinder_api_requests_total", route="unmatched", method="GET", status="401") == 1
    finally:
        stop_service(proc)


# ---- the distributed daemons: each its own listener --------------------------------------------

class MetricsCluster(Cluster):
    def conf(self, name, host, backend, backend_extra=""):
        path = super().conf(name, host, backend, backend_extra)
        with open(path, "a") as f:
            if name == "api":  # the API's counts from PostgreSQL, every second
                f.write("[metrics]\nrefresh_interval = 1\n")
            elif name != "manage":
                f.write("[metrics]\nlisten = 127.0.0.1:0\n")
        return path

    def metrics_port(self, name):
        """The port of the daemon's listener, from the line it printed."""
        def found():
            for line in open(os.path.join(self.tmp, f"{name}.log")):
                m = re.search(r"metrics at http://127\.0\.0\.1:(\d+)/metrics", line)
                if m:
                    return int(m.group(1))
            return None
        return wait_for(found, 10, f"{name}'s metrics listener")


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    c = MetricsCluster(str(tmp_path_factory.mktemp("metrics-dist")))
    try:
        c.db_sync()
        c.start("s1", "cinder-scheduler", "sched1")
        c.start("v1", "cinder-volume", "vol1", "fast")
        c.start("b1", "cinder-backup", "backuphost")
        c.start("api", "cinder-api", "apihost")
        yield c
        codes = c.stop_all()
        assert all(code == 0 for code in codes.values()), codes
    finally:
        c.stop_all()


def test_each_daemon_exposes_its_own_metrics(cluster):
    ports = {name: cluster.metrics_port(name) for name in ("s1", "v1", "b1")}
    for name, port in ports.items():
        scrape("127.0.0.1", port)
        assert get("127.0.0.1", port, "/v3")[0] == 404  # only /metrics there
    code, body = cluster.request("POST", "/volumes", {"volume": {"size": 1}})
    assert code == 202, body
    vol = body["volume"]["id"]
    cluster.wait(lambda: (cluster.volume(vol) or {}).get("status") == "available", 20, "the volume")

    api = scrape("127.0.0.1", cluster.port)
    assert value(api, "cinder_rpc_client_requests_total", topic="cinder-scheduler", method="create_volume",
                 kind="cast", outcome="OK") == 1
    assert value(api, "cinder_api_requests_total", route="/v3/{project_id}/volumes", method="POST",
                 status="202") == 1
    sched = scrape("127.0.0.1", ports["s1"])
    assert value(sched, "cinder_scheduler_placements_total", backend="vol1@fast", operation="create") == 1
    assert value(sched, "cinder_rpc_server_requests_total", topic="cinder-scheduler", method="create_volume") == 1
    # The pools' section: rendered on reports (throttled) and at each reload, every report_interval (1 s).
    wait_for(lambda: any(l["backend"] == "vol1@fast" for _, l, _ in
                         scrape("127.0.0.1", ports["s1"]).get("cinder_pool_total_capacity_gib",
                                                             promtext.Family("x")).samples),
             3, "the pool's capacity on the scheduler")
    assert "cinder_api_requests_total" not in sched  # a scheduler answers no API
    volume = scrape("127.0.0.1", ports["v1"])
    assert value(volume, "cinder_rpc_server_requests_total", topic="cinder-volume", method="create_volume",
                 outcome="OK") == 1
    # The API's counts from the database (PostgreSQL here), and every daemon up.
    wait_for(lambda: value(scrape("127.0.0.1", cluster.port), "cinder_volumes", status="available") == 1, 5,
             "cinder_volumes{status=available} on the API")
    up = {(l["binary"], l["host"]): v for _, l, v in scrape("127.0.0.1", cluster.port)["cinder_service_up"].samples}
    assert up == {("cinder-scheduler", "sched1"): 1, ("cinder-volume", "vol1@fast"): 1,
                  ("cinder-backup", "backuphost"): 1}, up
    backup = scrape("127.0.0.1", ports["b1"])
    assert "cinder_backup_read_bytes_total" in backup
    assert "cinder_scheduler_placements_total" not in backup
