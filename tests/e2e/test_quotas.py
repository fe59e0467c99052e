"""Quotas through the stock client: quota-show, quota-defaults, quota-update (per volume type
too), quota-usage, quota-delete, quota-class-show, quota-class-update and absolute-limits; bad
input refused with Cinder's messages and nothing changed; creates over quota refused with 413."""
import sqlite3
import time
import uuid

from conftest import USER, run_cinder, table_rows

DEFAULTS = {"volumes": "10", "snapshots": "10", "gigabytes": "1000", "backups": "10",
            "backup_gigabytes": "1000", "groups": "10", "per_volume_gigabytes": "-1",
            "volumes___DEFAULT__": "-1", "gigabytes___DEFAULT__": "-1", "snapshots___DEFAULT__": "-1"}


def new_project():
    return uuid.uuid4().hex


def quota_tables(service):
    """The rows of the quota tables: what a refused change must leave as it was."""
    con = sqlite3.connect(service.db_path)
    try:
        return {t: con.execute(f"SELECT * FROM {t} ORDER BY 1").fetchall()
                for t in ("quotas", "quota_classes", "quota_usages", "reservations")}
    finally:
        con.close()


def fault(body):
    (name, inner), = body.items()
    return name, inner["code"], inner["message"]


def subset(table, keys):
    return {k: table.get(k) for k in keys}


def test_quota_show_defaults_update_and_delete(service):
    project = new_project()
    shown = service.cinder_table("quota-show", project)
    assert subset(shown, DEFAULTS) == DEFAULTS
    assert subset(service.cinder_table("quota-defaults", project), DEFAULTS) == DEFAULTS

    updated = service.cinder_table("quota-update", project, "--volumes", "5", "--gigabytes", "50",
                                   "--per-volume-gigabytes", "20")
    assert (updated["volumes"], updated["gigabytes"], updated["per_volume_gigabytes"]) == ("5", "50", "20")
    shown = service.cinder_table("quota-show", project)
    assert (shown["volumes"], shown["gigabytes"], shown["snapshots"]) == ("5", "50", "10")
    # The defaults and other projects keep theirs.
    assert subset(service.cinder_table("quota-defaults", project), DEFAULTS) == DEFAULTS
    assert service.cinder_table("quota-show", new_project())["volumes"] == "10"

    # Per volume type: every type has its three resources, unlimited until set.
    service.cinder("type-create", "quota-gold")
    shown = service.cinder_table("quota-show", project)
    assert (shown["volumes_quota-gold"], shown["gigabytes_quota-gold"], shown["snapshots_quota-gold"]) == \
        ("-1", "-1", "-1")
    updated = service.cinder_table("quota-update", project, "--volume-type", "quota-gold", "--volumes", "2",
                                   "--snapshots", "3")
    assert (updated["volumes_quota-gold"], updated["snapshots_quota-gold"]) == ("2", "3")
    assert updated["volumes"] == "5"
    code, body, _ = service.request("GET", service.url(f"/os-quota-sets/{project}"))
    assert code == 200 and body["quota_set"]["id"] == project
    assert body["quota_set"]["volumes_quota-gold"] == 2 and body["quota_set"]["gigabytes_quota-gold"] == -1

    service.cinder("quota-delete", project)
    shown = service.cinder_table("quota-show", project)
    assert subset(shown, DEFAULTS) == DEFAULTS
    assert shown["volumes_quota-gold"] == "-1"


def test_quota_usage_lists_every_resource(service):
    project = new_project()
    rows = table_rows(service.cinder("quota-usage", project).stdout)
    by_type = {r["Type"]: r for r in rows}
    assert set(DEFAULTS) <= set(by_type)
    assert (by_type["volumes"]["In_use"], by_type["volumes"]["Reserved"], by_type["volumes"]["Limit"]) == \
        ("0", "0", "10")
    code, body, _ = service.request("GET", service.url(f"/os-quota-sets/{project}?usage=True"))
    assert code == 200
    assert body["quota_set"]["gigabytes"] == {"limit": 1000, "in_use": 0, "reserved": 0}
    assert body["quota_set"]["id"] == project


def test_quota_classes(service):
    shown = service.cinder_table("quota-class-show", "default")
    assert subset(shown, DEFAULTS) == DEFAULTS
    project = new_project()
    try:
        updated = service.cinder_table("quota-class-update", "default", "--volumes", "12", "--backups", "0")
        assert (updated["volumes"], updated["backups"]) == ("12", "0")
        # The class "default" is every project's defaults, below their own limits.
        assert service.cinder_table("quota-defaults", project)["volumes"] == "12"
        assert service.cinder_table("quota-show", project)["backups"] == "0"
        service.cinder("quota-update", project, "--volumes", "4")
        assert service.cinder_table("quota-show", project)["volumes"] == "4"
        # Another class falls back on "default".
        service.cinder("quota-class-update", "silver", "--gigabytes", "77")
        silver = service.cinder_table("quota-class-show", "silver")
        assert (silver["gigabytes"], silver["volumes"]) == ("77", "12")
        code, body, _ = service.request("GET", service.url("/os-quota-class-sets/silver"))
        assert body["quota_class_set"]["id"] == "silver"
    finally:
        service.cinder("quota-class-update", "default", "--volumes", "10", "--backups", "10")
        service.cinder("quota-delete", project)
    assert subset(service.cinder_table("quota-class-show", "default"), DEFAULTS) == DEFAULTS


QUOTA_SET_CASES = [
    ({"quota_set": {"volumes": 1, "bogus": 2}}, "Invalid input received: Bad key(s) in quota set: bogus"),
    ({"quota_set": {"volumes": -2}}, "volumes must be >= -1"),
    ({"quota_set": {"volumes": "ten"}}, "volumes must be an integer"),
    ({"quota_set": {"gigabytes": 1.5}}, "gigabytes must be an integer"),
    ({"quota_set": {"gigabytes": 2147483648}}, "gigabytes must be <= 2147483647"),
    ({"quota_set": {}}, "Invalid input for field/attribute quota_set. Value: {}. {} does not have enough properties"),
    ({"volumes": 1}, "'quota_set' is a required property"),
]

QUOTA_CLASS_CASES = [
    ({"quota_class_set": {"nope": 1}}, "Invalid input received: Bad key(s) in quota class set: nope"),
    ({"quota_class_set": {"volumes": -2}},
     "Invalid input for field/attribute volumes. Value: -2. -2 is less than the minimum of -1"),
    ({"quota_class_set": {"volumes": "ten"}},
     "Invalid input for field/attribute volumes. Value: ten. 'ten' does not match '^[0-9]*$'"),
]


def test_bad_quota_input_is_refused_and_changes_nothing(service):
    project = new_project()
    before = quota_tables(service)
    for body, message in QUOTA_SET_CASES:
        code, reply, _ = service.request("PUT", service.url(f"/os-quota-sets/{project}"), body)
        assert (code, fault(reply)) == (400, ("badRequest", 400, message)), body
    for body, message in QUOTA_CLASS_CASES:
        code, reply, _ = service.request("PUT", service.url("/os-quota-class-sets/default"), body)
        assert (code, fault(reply)) == (400, ("badRequest", 400, message)), body
    # Through the client: a value below -1, and what argparse refuses before sending.
    res = service.cinder("quota-update", project, "--volumes", "-2", check=False)
    assert res.returncode != 0 and "volumes must be >= -1" in res.stderr
    res = service.cinder("quota-update", project, "--volumes", "ten", check=False)
    assert res.returncode != 0
    res = service.cinder("quota-class-update", "default", "--volumes", "-5", check=False)
    assert res.returncode != 0 and "-5 is less than the minimum of -1" in res.stderr
    code, reply, _ = service.request("GET", service.url("/os-quota-sets"))
    assert code == 404
    code, reply, _ = service.request("GET", service.url(f"/os-quota-sets/{project}?usage=perhaps"))
    assert (code, fault(reply)) == (400, ("badRequest", 400, "Value 'perhaps' for 'usage' is not a boolean."))
    assert quota_tables(service) == before
    assert subset(service.cinder_table("quota-show", project), DEFAULTS) == DEFAULTS


def test_absolute_limits(service):
    rows = {r["Name"]: r["Value"] for r in table_rows(service.cinder("absolute-limits").stdout)}
    assert rows["maxTotalVolumes"] == "10" and rows["maxTotalVolumeGigabytes"] == "1000"
    assert rows["maxTotalSnapshots"] == "10" and rows["maxTotalBackups"] == "10"
    assert rows["maxTotalBackupGigabytes"] == "1000"
    for used in ("totalVolumesUsed", "totalGigabytesUsed", "totalSnapshotsUsed", "totalBackupsUsed",
                 "totalBackupGigabytesUsed"):
        assert used in rows
    # An admin names another project.
    project = new_project()
    service.cinder("quota-update", project, "--volumes", "3")
    try:
        rows = {r["Name"]: r["Value"] for r in table_rows(service.cinder("absolute-limits", project).stdout)}
        assert rows["maxTotalVolumes"] == "3"
    finally:
        service.cinder("quota-delete", project)
    code, body, _ = service.request("GET", service.url("/limits"))
    assert code == 200 and body["limits"]["rate"] == []
    assert set(body["limits"]["absolute"]) == {
        "maxTotalVolumes", "maxTotalSnapshots", "maxTotalVolumeGigabytes", "maxTotalBackups",
        "maxTotalBackupGigabytes", "totalVolumesUsed", "totalGigabytesUsed", "totalSnapshotsUsed",
        "totalBackupsUsed", "totalBackupGigabytesUsed"}


# -- creates charged against the quota -------------------------------------------------------

def as_project(service, project, *args, check=True):
    return run_cinder(service.endpoint, *args, check=check, project=project)


def project_request(service, project, method, suffix, body=None):
    return service.request(method, f"/v3/{project}{suffix}", body,
                           headers={"X-Auth-Token": f"{USER}:{project}"})


def wait_volume(service, project, vol_id, statuses, timeout=20):
    deadline = time.time() + timeout
    while time.time() < deadline:
        code, body, _ = project_request(service, project, "GET", f"/volumes/{vol_id}")
        if code == 404 and "deleted" in statuses:
            return
        if code == 200 and body["volume"]["status"] in statuses:
            return
        time.sleep(0.02)
    raise AssertionError(f"volume {vol_id} did not reach {statuses}")


def create(service, project, size):
    code, body, _ = project_request(service, project, "POST", "/volumes", {"volume": {"size": size}})
    return code, body


def test_creates_count_against_the_quota(service):
    project = new_project()
    service.cinder("quota-update", project, "--volumes", "3", "--gigabytes", "4")
    made = []
    try:
        code, body = create(service, project, 2)
        assert code == 202
        made.append(body["volume"]["id"])
        before = quota_tables(service)
        code, body, headers = project_request(service, project, "POST", "/volumes", {"volume": {"size": 3}})
        assert (code, fault(body)) == (413, ("overLimit", 413,
                                             "Requested volume or snapshot exceeds allowed gigabytes quota. "
                                             "Requested 3G, quota is 4G and 2G has been consumed."))
        assert headers.get("Retry-After") == "0"
        assert quota_tables(service) == before
        for _ in range(2):
            code, body = create(service, project, 1)
            assert code == 202
            made.append(body["volume"]["id"])
        for vol_id in made:
            wait_volume(service, project, vol_id, ["available"])
        service.cinder("quota-update", project, "--gigabytes", "10")
        res = as_project(service, project, "create", "1", check=False)
        assert res.returncode != 0
        assert "Maximum number of volumes allowed (3) exceeded for quota 'volumes'." in res.stderr

        usage = {r["Type"]: r for r in table_rows(service.cinder("quota-usage", project).stdout)}
        assert (usage["volumes"]["In_use"], usage["volumes"]["Reserved"]) == ("3", "0")
        assert usage["gigabytes"]["In_use"] == "4"
        assert usage["volumes___DEFAULT__"]["In_use"] == "3"
        assert usage["gigabytes___DEFAULT__"]["In_use"] == "4"
        limits = {r["Name"]: r["Value"]
                  for r in table_rows(as_project(service, project, "absolute-limits").stdout)}
        assert (limits["totalVolumesUsed"], limits["totalGigabytesUsed"]) == ("3", "4")
        assert (limits["maxTotalVolumes"], limits["maxTotalVolumeGigabytes"]) == ("3", "10")

        # A limit below what the project holds is refused.
        res = service.cinder("quota-update", project, "--volumes", "2", check=False)
        assert res.returncode != 0
        assert ("Quota volumes limit must be equal or greater than existing resources. Current usage is 3 "
                "and the requested limit is 2.") in res.stderr
        # Per volume type, and per volume.
        service.cinder("quota-update", project, "--volumes", "5", "--per-volume-gigabytes", "1")
        code, body = create(service, project, 2)
        assert (code, fault(body)) == (413, ("overLimit", 413,
                                             "Requested volume size 2G is larger than maximum allowed limit 1G."))
        service.cinder("quota-update", project, "--volume-type", "__DEFAULT__", "--volumes", "3")
        code, body = create(service, project, 1)
        assert (code, fault(body)) == (413, ("overLimit", 413,
                                             "Maximum number of volumes allowed (3) exceeded for quota "
                                             "'volumes___DEFAULT__'."))
    finally:
        for vol_id in made:
            as_project(service, project, "delete", vol_id, check=False)
        for vol_id in made:
            wait_volume(service, project, vol_id, ["deleted"])
    usage = {r["Type"]: r for r in table_rows(service.cinder("quota-usage", project).stdout)}
    assert (usage["volumes"]["In_use"], usage["gigabytes"]["In_use"]) == ("0", "0")
    service.cinder("quota-delete", project)


def test_fifty_concurrent_creates_against_a_quota_of_ten(service):
    """cinder-all on SQLite: exactly 10 accepted, 40 refused with Cinder's 413; usage is 10 and
    back to 0 when they are gone."""
    import concurrent.futures
    project = new_project()
    service.cinder("quota-update", project, "--volumes", "10")
    with concurrent.futures.ThreadPoolExecutor(25) as ex:
        results = list(ex.map(lambda _: create(service, project, 1), range(50)))
    made = [b["volume"]["id"] for c, b in results if c == 202]
    refused = [fault(b) for c, b in results if c == 413]
    assert len(made) == 10 and len(refused) == 40, [c for c, _ in results]
    assert set(refused) == {("overLimit", 413, "Maximum number of volumes allowed (10) exceeded for quota 'volumes'.")}
    for vol_id in made:
        wait_volume(service, project, vol_id, ["available"])
    code, body, _ = project_request(service, project, "GET", "/volumes")
    assert len(body["volumes"]) == 10
    usage = {r["Type"]: r for r in table_rows(service.cinder("quota-usage", project).stdout)}
    assert (usage["volumes"]["In_use"], usage["volumes"]["Reserved"], usage["gigabytes"]["In_use"]) == ("10", "0", "10")
    for vol_id in made:
        as_project(service, project, "delete", vol_id)
    for vol_id in made:
        wait_volume(service, project, vol_id, ["deleted"])
    usage = {r["Type"]: r for r in table_rows(service.cinder("quota-usage", project).stdout)}
    assert (usage["volumes"]["In_use"], usage["gigabytes"]["In_use"]) == ("0", "0")
