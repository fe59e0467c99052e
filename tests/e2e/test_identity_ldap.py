"""Users from an LDAP directory ([identity] driver = ldap) through the stock `openstack` client: a
private slapd on loopback (scripts/slapd-harness.sh) with a few users; roles kept in SQL."""
import os
import shutil
import subprocess
import time

import pytest

from conftest import BIN, ROOT, start_service, stop_service
from test_identity import ADMIN_PASSWORD, bootstrap, call, login, openstack, openstack_json, password_body

HARNESS = os.path.join(ROOT, "scripts", "slapd-harness.sh")


@pytest.fixture(scope="module")
def slapd(tmp_path_factory):
    d = str(tmp_path_factory.mktemp("slapd") / "dir")
    subprocess.run([HARNESS, "start", d], check=True, capture_output=True, timeout=60)
    if os.path.exists(os.path.join(d, "unavailable")):
        pytest.skip(open(os.path.join(d, "unavailable")).read().strip())
    info = {k: open(os.path.join(d, k)).read().strip() for k in ("url", "rootdn", "suffix")}
    info["dir"] = d
    info["rootpw_file"] = os.path.join(d, "rootpw")
    ldif = f"""dn: ou=Users,{info['suffix']}
objectClass: organizationalUnit
ou: Users

dn: ou=UserGroups,{info['suffix']}
objectClass: organizationalUnit
ou: UserGroups
"""
    for name in ("lara", "luke", "gina"):
        ldif += f"""
dn: cn={name},ou=Users,{info['suffix']}
objectClass: inetOrgPerson
cn: {name}
sn: {name}
mail: {name}@example.test
userPassword: {name}-ldap-pw
"""
    ldif += f"""
dn: cn=storage-team,ou=UserGroups,{info['suffix']}
objectClass: groupOfNames
cn: storage-team
ou: storage-team
member: cn=gina,ou=Users,{info['suffix']}
"""
    ldap(info, "ldapadd", ldif)
    yield info
    subprocess.run([HARNESS, "stop", d], capture_output=True, timeout=60)


def ldap(info, tool, ldif=None, *args):
    res = subprocess.run([tool, "-x", "-H", info["url"], "-D", info["rootdn"], "-y", info["rootpw_file"], *args],
                         input=ldif, capture_output=True, text=True, timeout=30)
    assert res.returncode == 0, res.stderr
    return res


@pytest.fixture(scope="module")
def ks(slapd, tmp_path_factory):
    conf = f"""auth_strategy = keystone
[identity]
driver = ldap
password_hash_rounds = 4
[token]
cache_time = 1
[ldap]
url = {slapd['url']}
suffix = {slapd['suffix']}
user_tree_dn = ou=Users,{slapd['suffix']}
group_tree_dn = ou=UserGroups,{slapd['suffix']}
connection_timeout = 5
"""
    state = tmp_path_factory.mktemp("identity-ldap")
    proc, svc = start_service(state, extra=conf, log_file=str(state / "service.log"))
    svc.log_file = str(state / "service.log")
    bootstrap(svc)  # the admin stays in SQL
    openstack(svc, "project", "create", "--domain", "default", "ldap-proj")
    yield svc
    stop_service(proc)


def test_an_ldap_user_logs_in_with_the_stock_client_and_creates_a_volume(ks, slapd):
    users = {u["Name"] for u in openstack_json(ks, "user", "list")}
    assert {"admin", "lara", "luke"} <= users
    openstack(ks, "role", "add", "--project", "ldap-proj", "--user", "lara", "member")
    vol = openstack_json(ks, "volume", "create", "--size", "1", "from-ldap", user="lara", password="lara-ldap-pw",
                         project="ldap-proj")
    assert vol["name"] == "from-ldap"
    token = openstack_json(ks, "token", "issue", user="lara", password="lara-ldap-pw", project="ldap-proj")
    assert token["user_id"] == "lara"
    # A wrong password is Keystone's 401, the same as for a user that does not exist.
    status, wrong, _ = call(ks, "POST", "/identity/v3/auth/tokens", password_body("lara", "nope", "ldap-proj"))
    status2, unknown, _ = call(ks, "POST", "/identity/v3/auth/tokens", password_body("nobody", "nope", "ldap-proj"))
    assert status == status2 == 401 and wrong == unknown
    # Without a role on the project, luke may log in unscoped but not into it.
    assert call(ks, "POST", "/identity/v3/auth/tokens", password_body("luke", "luke-ldap-pw", "ldap-proj"))[0] == 401
    assert call(ks, "POST", "/identity/v3/auth/tokens", password_body("luke", "luke-ldap-pw", None))[0] == 201
    # The directory is read-only here.
    res = openstack(ks, "user", "set", "--email", "x@example.test", "lara", check=False)
    assert res.returncode != 0 and "LDAP does not support write operations" in res.stderr, res.stderr
    text = open(ks.log_file, errors="replace").read()
    assert "lara-ldap-pw" not in text


def test_a_user_removed_from_the_directory_loses_access(ks, slapd):
    openstack(ks, "role", "add", "--project", "ldap-proj", "--user", "luke", "member")
    token, body = login(ks, "luke", "luke-ldap-pw", "ldap-proj")
    path = f"/v3/{body['token']['project']['id']}/volumes"
    assert call(ks, "GET", path, token=token)[0] == 200
    ldap(slapd, "ldapdelete", None, f"cn=luke,ou=Users,{slapd['suffix']}")
    time.sleep(1.3)  # [token] cache_time = 1
    assert call(ks, "GET", path, token=token)[0] == 401
    assert call(ks, "POST", "/identity/v3/auth/tokens", password_body("luke", "luke-ldap-pw", "ldap-proj"))[0] == 401


def test_without_the_ldap_module_the_service_refuses_to_start_and_names_it(tmp_path):
    """The driver is a module (libcinder_ldap.so) loaded beside the program: a cinder-all copied
    away from it, with nothing on LD_LIBRARY_PATH, exits with an error naming it (no crash)."""
    bindir = tmp_path / "bin"
    bindir.mkdir()
    shutil.copy(os.path.join(BIN, "cinder-all"), bindir)
    conf = tmp_path / "cinder.conf"
    conf.write_text(f"""[DEFAULT]
auth_strategy = keystone
osapi_volume_listen = 127.0.0.1
osapi_volume_listen_port = 0
state_path = {tmp_path}
enabled_backends = file
[identity]
driver = ldap
[file]
volume_driver = file
volume_backend_name = file
file_volume_directory = {tmp_path}/volumes
""")
    subprocess.run([os.path.join(BIN, "cinder-manage"), "--config-file", str(conf), "db", "sync"], check=True)
    env = {k: v for k, v in os.environ.items() if k != "LD_LIBRARY_PATH"}
    res = subprocess.run([str(bindir / "cinder-all"), "--config-file", str(conf)], capture_output=True, text=True,
                         timeout=30, env=env)
    out = res.stdout + res.stderr
    assert res.returncode not in (0, -6, -11), out  # refused, neither served nor crashed
    assert "libcinder_ldap.so" in out and "[identity] driver = ldap" in out, out
    assert "listening on" not in out, out


def test_a_role_given_to_an_ldap_group_reaches_its_members(ks, slapd):
    groups = {g["Name"] for g in openstack_json(ks, "group", "list")}
    assert "storage-team" in groups
    # gina has no role of her own; her group gets member on the project.
    assert call(ks, "POST", "/identity/v3/auth/tokens", password_body("gina", "gina-ldap-pw", "ldap-proj"))[0] == 401
    openstack(ks, "role", "add", "--project", "ldap-proj", "--group", "storage-team", "member")
    token, body = login(ks, "gina", "gina-ldap-pw", "ldap-proj")
    assert {r["name"] for r in body["token"]["roles"]} == {"member", "reader"}
    status, _, _ = call(ks, "POST", f"/v3/{body['token']['project']['id']}/volumes", {"volume": {"size": 1}},
                        token=token)
    assert status == 202
    rows = openstack_json(ks, "role", "assignment", "list", "--group", "storage-team", "--names")
    assert [(r["Group"], r["Role"]) for r in rows] == [("storage-team@Default", "member")]
