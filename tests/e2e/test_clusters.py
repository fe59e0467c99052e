"""Clusters (3.7) through the stock client: cinder.conf's `cluster` groups the volume services of
a backend (NAME@backend); cluster-list, cluster-show, cluster-enable and cluster-disable; a
disabled cluster gets no new volumes whatever its services' own status."""
import pytest

from conftest import start_service, stop_service, table_rows

V37 = ("--os-volume-api-version", "3.7")


@pytest.fixture(scope="module")
def clustered(tmp_path_factory):
    proc, svc = start_service(tmp_path_factory.mktemp("clusters"), extra="cluster = rack1\n")
    yield svc
    stop_service(proc)


def test_list_show_and_services(clustered):
    rows = table_rows(clustered.cinder(*V37, "cluster-list").stdout)
    assert rows == [{"Name": "rack1@file", "Binary": "cinder-volume", "State": "up", "Status": "enabled"}]
    rows = table_rows(clustered.cinder(*V37, "cluster-list", "--detailed").stdout)
    assert len(rows) == 1 and rows[0]["Num Hosts"] == "1" and rows[0]["Num Down Hosts"] == "0"
    shown = clustered.cinder_table(*V37, "cluster-show", "rack1@file")
    assert shown["name"] == "rack1@file" and shown["binary"] == "cinder-volume"
    assert shown["state"] == "up" and shown["status"] == "enabled" and shown["num_hosts"] == "1"
    assert shown["last_heartbeat"] and shown["created_at"]

    # The services name their cluster from 3.7.
    code, body, _ = clustered.request("GET", clustered.url("/os-services?binary=cinder-volume"), version="volume 3.7")
    assert code == 200 and body["services"][0]["cluster"] == "rack1@file"
    code, body, _ = clustered.request("GET", clustered.url("/os-services?binary=cinder-volume"), version="volume 3.6")
    assert "cluster" not in body["services"][0]

    # The REST views, summary and detail, in Cinder's fields.
    code, body, _ = clustered.request("GET", clustered.url("/clusters"), version="volume 3.7")
    assert code == 200 and body == {"clusters": [
        {"name": "rack1@file", "binary": "cinder-volume", "state": "up", "status": "enabled"}]}
    code, body, _ = clustered.request("GET", clustered.url("/clusters/detail"), version="volume 3.26")
    c = body["clusters"][0]
    assert list(c) == ["name", "binary", "state", "status", "replication_status", "num_hosts", "num_down_hosts",
                       "last_heartbeat", "created_at", "updated_at", "disabled_reason", "frozen",
                       "active_backend_id"]
    assert c["replication_status"] == "disabled" and c["frozen"] is False and c["disabled_reason"] is None


def test_filters_and_errors(clustered):
    def names(query, version="volume 3.7"):
        code, body, _ = clustered.request("GET", clustered.url("/clusters" + query), version=version)
        assert code == 200, body
        return [c["name"] for c in body["clusters"]]

    assert names("?is_up=true") == ["rack1@file"]
    assert names("?is_up=false") == []
    assert names("?disabled=false&num_hosts=1") == ["rack1@file"]
    assert names("?num_down_hosts=1") == []
    assert names("?binary=cinder-backup") == []
    assert names("?frozen=false", version="volume 3.26") == ["rack1@file"]
    code, body, _ = clustered.request("GET", clustered.url("/clusters?frozen=false"), version="volume 3.7")
    assert code == 400 and body["badRequest"]["message"] == "Invalid input received: Invalid filter keys: frozen"
    code, body, _ = clustered.request("GET", clustered.url("/clusters?is_up=maybe"), version="volume 3.7")
    assert code == 400 and "is not a boolean" in body["badRequest"]["message"]

    # Below 3.7 there are no clusters; an unknown one is Cinder's ClusterNotFound.
    code, _, _ = clustered.request("GET", clustered.url("/clusters"), version="volume 3.6")
    assert code == 404
    res = clustered.cinder(*V37, "cluster-show", "nowhere@file", check=False)
    assert res.returncode != 0
    assert "Cluster {'binary': 'cinder-volume', 'name': 'nowhere@file'} could not be found. (HTTP 404)" in res.stderr
    code, body, _ = clustered.request("PUT", clustered.url("/clusters/disable"), {"binary": "cinder-volume"},
                                      version="volume 3.7")
    assert code == 400 and body["badRequest"]["message"] == "'name' is a required property"
    code, body, _ = clustered.request("PUT", clustered.url("/clusters/enable"),
                                      {"name": "rack1@file", "disabled_reason": "x"}, version="volume 3.7")
    assert code == 400 and "Additional properties are not allowed" in body["badRequest"]["message"]
    code, body, _ = clustered.request("PUT", clustered.url("/clusters/disable"), {"name": "nowhere@file"},
                                      version="volume 3.7")
    assert code == 404


def test_a_disabled_cluster_gets_no_new_volumes(clustered):
    out = clustered.cinder_table(*V37, "cluster-disable", "--reason", "  rack maintenance ", "rack1@file")
    assert out["status"] == "disabled" and out["disabled_reason"] == "rack maintenance"
    shown = clustered.cinder_table(*V37, "cluster-show", "rack1@file")
    assert shown["status"] == "disabled" and shown["disabled_reason"] == "rack maintenance"
    # The service's own status is unchanged; the cluster's decides.
    rows = table_rows(clustered.cinder(*V37, "service-list", "--binary", "cinder-volume").stdout)
    assert rows[0]["Status"] == "enabled" and rows[0]["Cluster"] == "rack1@file"
    vol = clustered.cinder_table("create", "1")
    assert clustered.wait_status(vol["id"], ["available", "error"]) == "error"

    out = clustered.cinder_table(*V37, "cluster-enable", "rack1@file")
    assert out["status"] == "enabled"
    vol2 = clustered.cinder_table("create", "1")
    assert clustered.wait_status(vol2["id"], ["available", "error"]) == "available"
    for v in (vol, vol2):
        clustered.cinder("delete", v["id"])
        clustered.wait_status(v["id"], ["deleted"])

    # The service's own flag does not count while it is in a cluster (Cinder's service query).
    code, body, _ = clustered.request("GET", clustered.url("/os-services?binary=cinder-volume"))
    host = body["services"][0]["host"]
    clustered.cinder("service-disable", host, "cinder-volume")
    vol3 = clustered.cinder_table("create", "1")
    assert clustered.wait_status(vol3["id"], ["available", "error"]) == "available"
    clustered.cinder("service-enable", host, "cinder-volume")
    clustered.cinder("delete", vol3["id"])
    clustered.wait_status(vol3["id"], ["deleted"])


def test_freezing_a_cluster_freezes_its_services(clustered):
    """os-services/freeze with a cluster (3.26), or with a host of a cluster: the cluster's row
    and every service of it are frozen; frozen is a cluster filter from 3.26."""
    svc = clustered
    vol = svc.cinder_table("create", "1")["id"]
    assert svc.wait_status(vol, ["available", "error"]) == "available"
    code, body, _ = svc.request("PUT", svc.url("/os-services/freeze"), {"cluster": "rack1@file"}, version="volume 3.26")
    assert code == 200 and body is None
    code, body, _ = svc.request("GET", svc.url("/clusters/detail?frozen=true"), version="volume 3.26")
    assert [c["name"] for c in body["clusters"]] == ["rack1@file"] and body["clusters"][0]["frozen"] is True
    code, body, _ = svc.request("GET", svc.url("/os-services?binary=cinder-volume"))
    assert body["services"][0]["frozen"] is True
    host = body["services"][0]["host"]
    res = svc.cinder("delete", vol, check=False)
    assert "Modification operations are not allowed on frozen storage backends." in res.stdout + res.stderr
    # The cluster is frozen already: a second freeze, by a host of it, changes nothing.
    code, body, _ = svc.request("PUT", svc.url("/os-services/freeze"), {"host": host})
    assert code == 400 and body["badRequest"]["message"] == (
        "Invalid input received: frozen in rack1@file must be False to failover.")
    code, body, _ = svc.request("PUT", svc.url("/os-services/thaw"), {"cluster": "nope"}, version="volume 3.26")
    assert code == 400 and body["badRequest"]["message"] == "Invalid input received: No service found with cluster=nope"
    svc.cinder("thaw-host", host)  # by a host: its cluster
    code, body, _ = svc.request("GET", svc.url("/clusters/detail?frozen=false"), version="volume 3.26")
    assert [c["name"] for c in body["clusters"]] == ["rack1@file"]
    svc.cinder("delete", vol)
    svc.wait_status(vol, ["deleted"])


def test_manage_and_cleanup_by_cluster(clustered):
    path = clustered.volume_dir + "/adopt-me.raw"
    with open(path, "wb") as f:
        f.truncate(1 << 30)
    code, body, _ = clustered.request("POST", clustered.url("/manageable_volumes"),
                                      {"volume": {"cluster": "rack1@file", "ref": {"source-name": "adopt-me.raw"}}},
                                      version="volume 3.16")
    assert code == 202, body
    vol = body["volume"]["id"]
    assert clustered.wait_status(vol, ["available", "error"]) == "available"
    code, body, _ = clustered.request("POST", clustered.url("/manageable_volumes"),
                                      {"volume": {"cluster": "other@file", "ref": {"source-name": "x"}}},
                                      version="volume 3.16")
    assert code == 400 and body["badRequest"]["message"] == "Cluster 'other@file' not found"
    clustered.cinder("delete", vol)
    clustered.wait_status(vol, ["deleted"])

    # workers/cleanup picks the cluster's services and names their cluster.
    code, body, _ = clustered.request("POST", clustered.url("/workers/cleanup"),
                                      {"cluster_name": "rack1@file", "is_up": True}, version="volume 3.24")
    assert code == 202 and [s["cluster_name"] for s in body["cleaning"]] == ["rack1@file"]
    code, body, _ = clustered.request("POST", clustered.url("/workers/cleanup"),
                                      {"cluster_name": "other@file", "is_up": True}, version="volume 3.24")
    assert code == 202 and body == {"cleaning": [], "unavailable": []}


def test_volumes_show_their_cluster_from_3_61(clustered, tmp_path_factory):
    """A volume placed on a clustered service carries the cluster (admin, 3.61), a managed one
    too; a service that joins a cluster at restart takes its volumes in, as Cinder's
    include_in_cluster."""
    vol = clustered.cinder_table("create", "1")["id"]
    assert clustered.wait_status(vol, ["available", "error"]) == "available"
    assert clustered.cinder_table("--os-volume-api-version", "3.61", "show", vol)["cluster_name"] == "rack1@file"
    code, body, _ = clustered.request("GET", clustered.url(f"/volumes/{vol}"), version="volume 3.60")
    assert code == 200 and "cluster_name" not in body["volume"]
    code, body, _ = clustered.request("GET", clustered.url("/volumes/detail"), version="volume 3.61")
    assert {v["id"]: v["cluster_name"] for v in body["volumes"]}[vol] == "rack1@file"
    clustered.cinder("delete", vol)
    clustered.wait_status(vol, ["deleted"])

    state = tmp_path_factory.mktemp("joins-cluster")
    proc, svc = start_service(state)
    try:
        vol = svc.cinder_table("create", "1")["id"]
        assert svc.wait_status(vol, ["available", "error"]) == "available"
        assert svc.cinder_table("--os-volume-api-version", "3.61", "show", vol)["cluster_name"] == "None"
    finally:
        stop_service(proc)
    proc, svc = start_service(state, extra="cluster = rack2\n")
    try:
        assert svc.cinder_table("--os-volume-api-version", "3.61", "show", vol)["cluster_name"] == "rack2@file"
    finally:
        stop_service(proc)
