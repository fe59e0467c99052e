"""The built-in identity service (auth_strategy = keystone) through the stock `openstack` and
`cinder` clients and Keystone's REST API: bootstrap, projects, users, roles, tokens, Cinder's
policy personas, revocation, lockout and bad input."""
import http.client
import json
import os
import subprocess
import time
import uuid

import pytest

from conftest import BIN, start_service, stop_service

ADMIN_PASSWORD = "s3cret-Admin"
IDENTITY_CONF = """auth_strategy = keystone
[identity]
password_hash_rounds = 4
[token]
cache_time = 30
[security_compliance]
lockout_failure_attempts = 3
lockout_duration = 3
"""


def client_env(svc, user, password, project):
    env = {k: v for k, v in os.environ.items() if not k.startswith("OS_")}
    env.update({"OS_AUTH_URL": f"{svc.endpoint}/identity/v3", "OS_USERNAME": user, "OS_PASSWORD": password,
                "OS_PROJECT_NAME": project, "OS_USER_DOMAIN_NAME": "Default", "OS_PROJECT_DOMAIN_NAME": "Default",
                "OS_IDENTITY_API_VERSION": "3", "OS_AUTH_TYPE": "password"})
    return env


def client(tool, svc, *args, user="admin", password=ADMIN_PASSWORD, project="admin", check=True):
    """A stock client (`openstack` or `cinder`) as `user` of `project`."""
    res = subprocess.run([tool, *args], capture_output=True, text=True, timeout=120,
                         env=client_env(svc, user, password, project))
    if check and res.returncode != 0:
        raise AssertionError(f"{tool} {' '.join(args)} failed ({res.returncode}):\n{res.stdout}\n{res.stderr}")
    return res


def openstack(svc, *args, **kw):
    return client("openstack", svc, *args, **kw)


def openstack_json(svc, *args, **kw):
    return json.loads(openstack(svc, *args, "-f", "json", **kw).stdout)


def cinder_cli(svc, *args, **kw):
    return client("cinder", svc, *args, **kw)


def call(svc, method, path, body=None, token=None, headers=None):
    conn = http.client.HTTPConnection(svc.host, svc.port, timeout=30)
    h = {"Content-Type": "application/json"}
    if token:
        h["X-Auth-Token"] = token
    h.update(headers or {})
    conn.request(method, path, body=body if isinstance(body, (str, bytes)) or body is None else json.dumps(body),
                 headers=h)
    r = conn.getresponse()
    data = r.read()
    conn.close()
    return r.status, (json.loads(data) if data else None), dict(r.getheaders())


def password_body(user, password, project="admin", domain="Default"):
    scope = {"project": {"name": project, "domain": {"name": domain}}} if project else None
    auth = {"identity": {"methods": ["password"],
                         "password": {"user": {"name": user, "domain": {"name": domain}, "password": password}}}}
    if scope:
        auth["scope"] = scope
    return {"auth": auth}


def login(svc, user, password, project="admin"):
    status, body, headers = call(svc, "POST", "/identity/v3/auth/tokens", password_body(user, password, project))
    assert status == 201, (status, body)
    return headers["X-Subject-Token"], body


def bootstrap(svc):
    conf = os.path.join(svc.state, "cinder.conf")
    res = subprocess.run([os.path.join(BIN, "cinder-manage"), "--config-file", conf, "bootstrap", "--admin-password",
                          ADMIN_PASSWORD], capture_output=True, text=True, timeout=60)
    assert res.returncode == 0, res.stdout + res.stderr
    assert ADMIN_PASSWORD not in res.stdout + res.stderr


@pytest.fixture(scope="module")
def ks(tmp_path_factory):
    state = tmp_path_factory.mktemp("identity")
    proc, svc = start_service(state, extra=IDENTITY_CONF, log_file=str(state / "service.log"))
    svc.log_file = str(state / "service.log")
    bootstrap(svc)
    yield svc
    stop_service(proc)


@pytest.fixture(scope="module")
def people(ks):
    """Projects A and B; alice (member of A), rita (reader of A), bob (member of B)."""
    a = openstack_json(ks, "project", "create", "--domain", "default", "proj-a")
    b = openstack_json(ks, "project", "create", "--domain", "default", "proj-b")
    for name, project in (("alice", "proj-a"), ("rita", "proj-a"), ("bob", "proj-b")):
        openstack(ks, "user", "create", "--domain", "default", "--project", project, "--password", f"{name}-pw", name)
    openstack(ks, "role", "add", "--project", "proj-a", "--user", "alice", "member")
    openstack(ks, "role", "add", "--project", "proj-a", "--user", "rita", "reader")
    openstack(ks, "role", "add", "--project", "proj-b", "--user", "bob", "member")
    return {"a": a["id"], "b": b["id"]}


def test_bootstrap_is_idempotent_and_the_admin_lists_everything(ks):
    bootstrap(ks)  # again: nothing duplicated
    roles = {r["Name"] for r in openstack_json(ks, "role", "list")}
    assert {"admin", "member", "reader"} <= roles
    assert [d["Name"] for d in openstack_json(ks, "domain", "list")] == ["Default"]
    assert "admin" in {p["Name"] for p in openstack_json(ks, "project", "list")}
    token = openstack_json(ks, "token", "issue")
    assert token["project_id"] and token["user_id"] and len(token["id"]) >= 43


def test_the_catalog_names_the_volume_and_identity_services(ks):
    _, body = login(ks, "admin", ADMIN_PASSWORD)
    types = {s["type"]: s for s in body["token"]["catalog"]}
    assert {"block-storage", "volumev3", "identity"} <= set(types)
    url = next(e["url"] for e in types["volumev3"]["endpoints"] if e["interface"] == "public")
    assert url == f"{ks.endpoint}/v3/{body['token']['project']['id']}"
    assert {r["name"] for r in body["token"]["roles"]} == {"admin", "member", "reader"}  # implied roles
    assert body["token"]["expires_at"].endswith(".000000Z")
    # The endpoints as registered (Keystone's form), whatever the caller's scope.
    token, _ = login(ks, "admin", ADMIN_PASSWORD)
    status, eps, _ = call(ks, "GET", "/identity/v3/endpoints", token=token)
    assert status == 200
    urls = {e["url"] for e in eps["endpoints"]}
    assert f"{ks.endpoint}/v3/$(project_id)s" in urls and f"{ks.endpoint}/identity" in urls
    status, svcs, _ = call(ks, "GET", "/identity/v3/services", token=token)
    assert {s["type"] for s in svcs["services"]} == {"block-storage", "volumev3", "identity", "image"}
    assert {e["service_id"] for e in eps["endpoints"]} == {s["id"] for s in svcs["services"]}


def test_admin_manages_projects_users_and_roles_with_the_stock_client(ks, people):
    users = {u["Name"] for u in openstack_json(ks, "user", "list")}
    assert {"admin", "alice", "rita", "bob"} <= users
    rows = openstack_json(ks, "role", "assignment", "list", "--names", "--project", "proj-a")
    got = {(r["User"], r["Role"]) for r in rows}
    assert ("alice@Default", "member") in got and ("rita@Default", "reader") in got
    # A throwaway project and user: made, shown, deleted.
    openstack(ks, "project", "create", "--domain", "default", "proj-tmp")
    openstack(ks, "user", "create", "--domain", "default", "--password", "x-pw", "tmp-user")
    openstack(ks, "role", "add", "--project", "proj-tmp", "--user", "tmp-user", "member")
    openstack(ks, "role", "remove", "--project", "proj-tmp", "--user", "tmp-user", "member")
    openstack(ks, "user", "delete", "tmp-user")
    openstack(ks, "project", "delete", "proj-tmp")
    assert "tmp-user" not in {u["Name"] for u in openstack_json(ks, "user", "list")}
    assert "proj-tmp" not in {p["Name"] for p in openstack_json(ks, "project", "list")}


def test_each_project_sees_only_its_volumes(ks, people):
    vol = openstack_json(ks, "volume", "create", "--size", "1", "alice-vol", user="alice", password="alice-pw",
                         project="proj-a")
    # Alice's volume, through the cinder CLI too (it discovers the API's version unauthenticated).
    shown = cinder_cli(ks, "show", vol["id"], user="alice", password="alice-pw", project="proj-a")
    assert vol["id"] in shown.stdout
    # Bob (project B) gets Cinder's 404 for it.
    res = cinder_cli(ks, "show", vol["id"], user="bob", password="bob-pw", project="proj-b", check=False)
    assert res.returncode != 0 and "No volume with a name or ID" in res.stderr, res.stderr
    bob_token, _ = login(ks, "bob", "bob-pw", "proj-b")
    status, body, _ = call(ks, "GET", f"/v3/{people['b']}/volumes/{vol['id']}", token=bob_token)
    assert status == 404 and "itemNotFound" in body, body
    # The reader of A sees it and cannot create.
    listed = openstack_json(ks, "volume", "list", user="rita", password="rita-pw", project="proj-a")
    assert vol["id"] in {v["ID"] for v in listed}
    res = openstack(ks, "volume", "create", "--size", "1", "rita-vol", user="rita", password="rita-pw",
                    project="proj-a", check=False)
    assert res.returncode != 0 and "403" in res.stderr and "volume:create" in res.stderr, res.stderr
    # A member may not reset a volume's state; an admin may.
    token, _ = login(ks, "alice", "alice-pw", "proj-a")
    status, body, _ = call(ks, "POST", f"/v3/{people['a']}/volumes/{vol['id']}/action",
                           {"os-reset_status": {"status": "error"}}, token=token)
    assert status == 403, body
    assert "volume_extension:volume_admin_actions:reset_status" in body["forbidden"]["message"]
    admin_token, _ = login(ks, "admin", ADMIN_PASSWORD)
    admin_project = openstack_json(ks, "token", "issue")["project_id"]
    status, _, _ = call(ks, "GET", f"/v3/{admin_project}/volumes/{vol['id']}", token=admin_token)
    assert status == 200  # an admin sees every project's volume
    # Another project's id in the URL is refused as Cinder refuses it.
    status, _, _ = call(ks, "GET", f"/v3/{people['b']}/volumes", token=token)
    assert status == 400


def test_revoked_expired_and_missing_tokens_get_keystones_401(ks, people, tmp_path):
    token, _ = login(ks, "alice", "alice-pw", "proj-a")
    path = f"/v3/{people['a']}/volumes"
    assert call(ks, "GET", path, token=token)[0] == 200
    status, _, _ = call(ks, "DELETE", "/identity/v3/auth/tokens", token=token, headers={"X-Subject-Token": token})
    assert status == 204
    status, body, headers = call(ks, "GET", path, token=token)
    assert status == 401 and body["error"]["title"] == "Unauthorized"
    assert headers["WWW-Authenticate"].startswith("Keystone uri=")
    assert call(ks, "GET", path)[0] == 401
    assert call(ks, "GET", path, token="not-a-token")[0] == 401
    # The stock client's token revoke.
    issued = openstack_json(ks, "token", "issue", user="bob", password="bob-pw", project="proj-b")
    openstack(ks, "token", "revoke", issued["id"], user="bob", password="bob-pw", project="proj-b")
    assert call(ks, "GET", f"/v3/{people['b']}/volumes", token=issued["id"])[0] == 401
    # A service whose tokens last one second.
    proc, short = start_service(tmp_path, extra=IDENTITY_CONF.replace("[token]\n", "[token]\nexpiration = 1\n"))
    try:
        bootstrap(short)
        t, body = login(short, "admin", ADMIN_PASSWORD)
        p = body["token"]["project"]["id"]
        assert call(short, "GET", f"/v3/{p}/volumes", token=t)[0] == 200
        time.sleep(1.5)
        assert call(short, "GET", f"/v3/{p}/volumes", token=t)[0] == 401
    finally:
        stop_service(proc)


def test_disabling_a_user_a_password_change_and_a_removed_role_end_its_tokens(ks, people):
    openstack(ks, "user", "create", "--domain", "default", "--password", "carol-pw", "carol")
    openstack(ks, "role", "add", "--project", "proj-a", "--user", "carol", "member")
    path = f"/v3/{people['a']}/volumes"
    t1, _ = login(ks, "carol", "carol-pw", "proj-a")
    openstack(ks, "user", "set", "--password", "carol-pw2", "carol")
    assert call(ks, "GET", path, token=t1)[0] == 401  # revoked by the new password
    assert call(ks, "POST", "/identity/v3/auth/tokens", password_body("carol", "carol-pw", "proj-a"))[0] == 401
    t2, _ = login(ks, "carol", "carol-pw2", "proj-a")
    openstack(ks, "role", "remove", "--project", "proj-a", "--user", "carol", "member")
    assert call(ks, "GET", path, token=t2)[0] == 401  # no role left on the project
    openstack(ks, "role", "add", "--project", "proj-a", "--user", "carol", "member")
    t3, _ = login(ks, "carol", "carol-pw2", "proj-a")
    openstack(ks, "user", "set", "--disable", "carol")
    assert call(ks, "GET", path, token=t3)[0] == 401
    res = openstack(ks, "token", "issue", user="carol", password="carol-pw2", project="proj-a", check=False)
    assert res.returncode != 0 and "401" in res.stderr


def test_failed_logins_lock_the_account_for_lockout_duration(ks, people):
    openstack(ks, "user", "create", "--domain", "default", "--password", "dave-pw", "dave")
    openstack(ks, "role", "add", "--project", "proj-a", "--user", "dave", "member")
    for _ in range(3):
        assert call(ks, "POST", "/identity/v3/auth/tokens", password_body("dave", "wrong", "proj-a"))[0] == 401
    status, locked, _ = call(ks, "POST", "/identity/v3/auth/tokens", password_body("dave", "dave-pw", "proj-a"))
    assert status == 401
    status, unknown, _ = call(ks, "POST", "/identity/v3/auth/tokens", password_body("nobody-here", "x", "proj-a"))
    assert status == 401 and locked == unknown  # nothing tells a locked user from one that does not exist
    time.sleep(3.2)
    login(ks, "dave", "dave-pw", "proj-a")


def test_bad_auth_requests_get_keystones_codes_and_create_nothing(ks, people):
    before = {u["Name"] for u in openstack_json(ks, "user", "list")}
    bad = [
        ("not json", 400),
        ({"auth": {}}, 400),
        ({"auth": {"identity": {"methods": []}}}, 400),
        ({"auth": {"identity": {"methods": ["password"]}}}, 400),
        ({"auth": {"identity": {"methods": ["kerberos"], "kerberos": {}}}}, 401),
        ({"auth": {"identity": {"methods": ["password"], "password": {"user": {"name": "alice", "password": "x"}}}}},
         400),  # a name without a domain
        (password_body("alice", "alice-pw", "proj-b"), 401),  # no role on that project
        (password_body("alice", "alice-pw", "no-such-project"), 401),
        (password_body("alice", "p" * 100000, "proj-a"), 401),
        (password_body("", "x", "proj-a"), 400),
    ]
    for body, code in bad:
        status, answer, _ = call(ks, "POST", "/identity/v3/auth/tokens", body)
        assert status == code, (body if len(str(body)) < 200 else str(body)[:200], status, answer)
        assert answer["error"]["code"] == code
        assert "SELECT" not in json.dumps(answer) and "alice-pw" not in json.dumps(answer)
    # A unicode name works end to end; a name too long or empty is refused.
    openstack(ks, "user", "create", "--domain", "default", "--password", "ünï-pw", "ünïcødé-用户")
    openstack(ks, "role", "add", "--project", "proj-a", "--user", "ünïcødé-用户", "reader")
    login(ks, "ünïcødé-用户", "ünï-pw", "proj-a")
    admin_token, _ = login(ks, "admin", ADMIN_PASSWORD)
    for user in ({"name": ""}, {"name": "x" * 300}, {"name": 5}, {}):
        status, answer, _ = call(ks, "POST", "/identity/v3/users", {"user": user}, token=admin_token)
        assert status == 400, (user, answer)
    # Only admins administer: a member gets 403 and nothing is made.
    token, _ = login(ks, "alice", "alice-pw", "proj-a")
    status, _, _ = call(ks, "POST", "/identity/v3/users", {"user": {"name": "mallory", "password": "m"}}, token=token)
    assert status == 403
    status, _, _ = call(ks, "PUT", f"/identity/v3/projects/{people['b']}/users/x/roles/y", token=token)
    assert status in (403, 404)
    after = {u["Name"] for u in openstack_json(ks, "user", "list")}
    assert after - before == {"ünïcødé-用户"}


def test_twenty_tokens_in_a_row_are_distinct_and_stored_only_hashed(ks, people):
    tokens = {login(ks, "bob", "bob-pw", "proj-b")[0] for _ in range(20)}
    assert len(tokens) == 20
    import sqlite3
    db = sqlite3.connect(ks.db_path)
    rows = db.execute("SELECT id_hash FROM identity_tokens").fetchall()
    stored = {r[0] for r in rows}
    assert not tokens & stored and all(len(h) == 64 for h in stored)
    hashes = db.execute("SELECT password_hash FROM identity_users WHERE name = 'bob'").fetchone()
    assert hashes[0].startswith("$2b$04$") and "bob-pw" not in hashes[0]
    db.close()


def test_the_log_never_carries_a_password_or_token(ks, people):
    token, _ = login(ks, "alice", "alice-pw", "proj-a")
    call(ks, "POST", "/identity/v3/auth/tokens", password_body("alice", "wrong-pw-xyz", "proj-a"))
    text = open(ks.log_file, errors="replace").read()
    assert "token issued to user" in text  # the log says what happened...
    for secret in ("alice-pw", "wrong-pw-xyz", token, ADMIN_PASSWORD):
        assert secret not in text  # ...and never with what proves identity


def test_a_service_validating_with_an_external_keystone_honours_its_tokens(ks, people, tmp_path):
    """[keystone_authtoken]: a second service validates tokens with the first one's identity API,
    as keystonemiddleware validates them with Keystone; Cinder's policy is applied by the second."""
    conf = f"""auth_strategy = keystone
[keystone_authtoken]
auth_url = {ks.endpoint}/identity/v3
username = admin
password = {ADMIN_PASSWORD}
project_name = admin
token_cache_time = 1
"""
    proc, other = start_service(tmp_path, extra=conf)
    try:
        token, _ = login(ks, "alice", "alice-pw", "proj-a")
        path = f"/v3/{people['a']}/volumes"
        status, body, _ = call(other, "POST", path, {"volume": {"size": 1, "name": "via-external"}}, token=token)
        assert status == 202, body
        reader, _ = login(ks, "rita", "rita-pw", "proj-a")
        status, body, _ = call(other, "POST", path, {"volume": {"size": 1}}, token=reader)
        assert status == 403 and "volume:create" in body["forbidden"]["message"]
        assert call(other, "GET", path, token="bogus")[0] == 401
        assert call(other, "GET", "/identity/v3")[0] == 404  # identity is administered elsewhere
        # A token revoked at the identity service stops working here within token_cache_time.
        assert call(ks, "DELETE", "/identity/v3/auth/tokens", token=token, headers={"X-Subject-Token": token})[0] == 204
        time.sleep(1.2)
        assert call(other, "GET", path, token=token)[0] == 401
    finally:
        stop_service(proc)


def test_a_policy_file_changes_a_rule_without_a_restart(ks, people):
    """[oslo_policy] policy_file (policy.yaml beside cinder.conf) is read again within a second
    of a change, as oslo.policy reloads it; a broken edit keeps the last good rules; removing
    the file brings the defaults back."""
    path = f"/v3/{people['a']}/volumes"
    reader, _ = login(ks, "rita", "rita-pw", "proj-a")
    status, body, _ = call(ks, "POST", path, {"volume": {"size": 1}}, token=reader)
    assert status == 403, body
    assert call(ks, "GET", path, token=reader)[0] == 200
    policy = os.path.join(ks.state, "policy.yaml")

    def wait_for(method, expect, body=None):
        deadline = time.time() + 3
        while True:
            status, answer, _ = call(ks, method, path, body, token=reader)
            if status == expect or time.time() > deadline:
                return status, answer
            time.sleep(0.2)
    try:
        with open(policy, "w") as f:
            f.write("# readers of a project may create volumes in it, and nobody may list them\n"
                    '"volume:create": "role:reader and project_id:%(project_id)s"\n'
                    '"volume:get_all": "!"\n')
        assert wait_for("GET", 403)[0] == 403
        status, body = wait_for("POST", 202, {"volume": {"size": 1, "name": "by-reader"}})
        assert status == 202, body
        with open(policy, "w") as f:
            f.write('"volume:get_all": "role:reader and"\n')  # does not parse
        time.sleep(1.3)
        assert call(ks, "GET", path, token=reader)[0] == 403
    finally:
        os.remove(policy)
    assert wait_for("GET", 200)[0] == 200
    assert call(ks, "POST", path, {"volume": {"size": 1}}, token=reader)[0] == 403


def test_the_identity_service_on_its_own_port(tmp_path):
    """[identity] listen_port: Keystone's paths from the root of a port of its own."""
    import socket
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    proc, svc = start_service(tmp_path, extra=IDENTITY_CONF.replace("[identity]\n", f"[identity]\nlisten_port = {port}\n"))
    try:
        bootstrap(svc)
        env = client_env(svc, "admin", ADMIN_PASSWORD, "admin")
        env["OS_AUTH_URL"] = f"http://127.0.0.1:{port}/v3"
        res = subprocess.run(["openstack", "token", "issue", "-f", "json"], capture_output=True, text=True,
                             timeout=120, env=env)
        assert res.returncode == 0, res.stderr
        token = json.loads(res.stdout)["id"]
        status, _, _ = call(svc, "GET", f"/v3/{json.loads(res.stdout)['project_id']}/volumes", token=token)
        assert status == 200
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        conn.request("GET", "/")
        r = conn.getresponse()
        assert r.status == 300 and r.getheader("Location") == f"http://127.0.0.1:{port}/v3/"
        r.read()
        conn.request("GET", "/v3/volumes")  # the volume API is not there
        assert conn.getresponse().status == 404
    finally:
        stop_service(proc)
