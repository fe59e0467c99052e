"""The web dashboard at /dashboard/ (docs/dashboard.md) in a headless Chromium driven over the
DevTools protocol (tests/tools/cdp.py): log in through the built-in identity service, watch a
volume become available without a reload, extend and delete it; a member sees neither the
admin's volumes nor the admin pages; a wrong password; a name with <script> shown as text; the
security headers, the 304s and the size of what a browser downloads. Any console error,
uncaught exception or Content-Security-Policy violation fails the test. Screenshots go to
<build>/test-artifacts/dashboard/ (not committed)."""
import gzip
import http.client
import json
import os
import re
import sqlite3
import subprocess
import sys
import time

import pytest

from conftest import BIN, start_service, stop_service

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "tools"))
import cdp  # noqa: E402

ADMIN_PASSWORD = "dash-Admin-pw"
MEMBER_PASSWORD = "dash-member-pw"
CONF = """auth_strategy = keystone
[identity]
password_hash_rounds = 4
"""
CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
       "base-uri 'none'; form-action 'none'; frame-ancestors 'none'")
SHOTS = os.path.join(os.path.dirname(os.path.abspath(BIN)), "test-artifacts", "dashboard")
XSS = "<script>alert(1)</script>"


def call(svc, method, path, body=None, headers=None):
    conn = http.client.HTTPConnection(svc.host, svc.port, timeout=30)
    conn.request(method, path, body=json.dumps(body) if body is not None else None, headers=headers or {})
    r = conn.getresponse()
    data = r.read()
    conn.close()
    return r.status, data, {k.lower(): v for k, v in r.getheaders()}


def token_for(svc, user, password, project):
    body = {"auth": {"identity": {"methods": ["password"], "password": {
        "user": {"name": user, "domain": {"name": "Default"}, "password": password}}},
        "scope": {"project": {"name": project, "domain": {"name": "Default"}}}}}
    status, data, headers = call(svc, "POST", "/identity/v3/auth/tokens", body, {"Content-Type": "application/json"})
    assert status == 201, data
    return headers["x-subject-token"], json.loads(data)["token"]["project"]["id"]


def api(svc, token, method, path, body=None):
    status, data, _ = call(svc, method, path, body, {"X-Auth-Token": token, "Content-Type": "application/json",
                                                     "OpenStack-API-Version": "volume 3.70"})
    return status, json.loads(data) if data else None


@pytest.fixture(scope="module")
def dash(tmp_path_factory):
    state = tmp_path_factory.mktemp("dashboard")
    # target_helper = fake: attachments answer with the volume's local file (no tgtd needed).
    backends = {"file": f"volume_driver = file\nvolume_backend_name = file\nfile_volume_directory = {state}/volumes\n"
                        "target_helper = fake\n"}
    proc, svc = start_service(state, extra=CONF, backends=backends, log_file=str(state / "service.log"))
    conf = os.path.join(svc.state, "cinder.conf")
    res = subprocess.run([os.path.join(BIN, "cinder-manage"), "--config-file", conf, "bootstrap", "--admin-password",
                          ADMIN_PASSWORD], capture_output=True, text=True, timeout=60)
    assert res.returncode == 0, res.stdout + res.stderr
    svc.admin_token, svc.admin_project = token_for(svc, "admin", ADMIN_PASSWORD, "admin")
    # A second project and its member, made through the identity API as the admin.
    h = {"X-Auth-Token": svc.admin_token, "Content-Type": "application/json"}
    s, d, _ = call(svc, "POST", "/identity/v3/projects", {"project": {"name": "dash-b", "domain_id": "default"}}, h)
    assert s == 201, d
    svc.member_project = json.loads(d)["project"]["id"]
    s, d, _ = call(svc, "POST", "/identity/v3/users", {"user": {
        "name": "dash-member", "password": MEMBER_PASSWORD, "domain_id": "default",
        "default_project_id": svc.member_project}}, h)
    assert s == 201, d
    member = json.loads(d)["user"]["id"]
    s, d, _ = call(svc, "GET", "/identity/v3/roles?name=member", None, h)
    role = json.loads(d)["roles"][0]["id"]
    s, d, _ = call(svc, "PUT", f"/identity/v3/projects/{svc.member_project}/users/{member}/roles/{role}", None, h)
    assert s == 204, d
    svc.member_token, _ = token_for(svc, "dash-member", MEMBER_PASSWORD, "dash-b")
    # The admin is also a member of dash-b: two projects to choose from at login.
    s, d, _ = call(svc, "GET", "/identity/v3/users?name=admin", None, h)
    admin_id = json.loads(d)["users"][0]["id"]
    s, d, _ = call(svc, "PUT", f"/identity/v3/projects/{svc.member_project}/users/{admin_id}/roles/{role}", None, h)
    assert s == 204, d
    svc.url = f"{svc.endpoint}/dashboard/"
    yield svc
    stop_service(proc)


@pytest.fixture(scope="module")
def browser():
    if not cdp.find_browser():
        pytest.skip("chromium-headless-shell is not installed (scripts/install-deps.sh installs it)")
    b = cdp.Browser()
    yield b
    b.close()


@pytest.fixture(autouse=True)
def no_page_errors(request):
    """After each test that used the browser: no console error, exception or CSP violation."""
    yield
    if "browser" in request.fixturenames:
        request.getfixturevalue("browser").check()


def shot(b, name):
    b.screenshot(os.path.join(SHOTS, f"{name}.png"))


def login(b, svc, user, password):
    b.navigate(svc.url)
    b.wait_for("document.querySelector('#login input[name=password]')", what="the login form")
    b.type("#login input[name=user]", user)
    b.type("#login input[name=password]", password)
    b.click("#login button[type=submit]")


def logout(b):
    b.click("#logout")
    b.wait_for("document.querySelector('#login')", what="the login form after logout")


def row_status(vol_id):
    return f"(document.querySelector('#volumes tr[data-id=\"{vol_id}\"]') || {{}}).dataset?.status"


# -- the files and their headers (plain HTTP) --------------------------------------------------

def dashboard_files(svc):
    """Every file the page loads: index.html, what it links, and what the modules import."""
    _, index, _ = call(svc, "GET", "/dashboard/")
    found = ["index.html"] + re.findall(r'(?:href|src)="((?:js|vendor)/[^"]+|app\.css)"', index.decode())
    i = 0
    while i < len(found):
        name = found[i]
        if name.endswith(".js"):
            _, text, _ = call(svc, "GET", f"/dashboard/{name}")
            base = os.path.dirname(name)
            for imp in re.findall(r'(?:from|import)\s*["\'](\.{1,2}/[^"\']+)["\']', text.decode()):
                path = os.path.normpath(os.path.join(base, imp))
                if path not in found:
                    found.append(path)
        i += 1
    return sorted(set(found))


def test_files_headers_caching_and_size(dash):
    s, body, h = call(dash, "GET", "/dashboard")
    assert (s, h["location"]) == (302, "/dashboard/")
    assert h["content-security-policy"] == CSP
    files = dashboard_files(dash)
    assert {"index.html", "app.css", "js/main.js", "js/api.js", "vendor/lit-html.js"} <= set(files), files
    total = 0
    for name in files:
        s, raw, h = call(dash, "GET", f"/dashboard/{name}")
        assert s == 200, name
        assert h["content-security-policy"] == CSP
        assert h["x-content-type-options"] == "nosniff"
        assert h["referrer-policy"] == "no-referrer"
        assert "access-control-allow-origin" not in h
        assert h["cache-control"] == "no-cache" and h["etag"].startswith('"')
        assert h["content-type"].split(";")[0] == {"html": "text/html", "css": "text/css",
                                                   "js": "text/javascript"}[name.rsplit(".", 1)[1]]
        s, gz, hz = call(dash, "GET", f"/dashboard/{name}", headers={"Accept-Encoding": "gzip, deflate"})
        assert s == 200 and hz["content-encoding"] == "gzip" and hz["vary"] == "Accept-Encoding"
        assert gzip.decompress(gz) == raw and hz["etag"] != h["etag"]
        total += int(hz["content-length"])
        # Revalidation: the same tag answers 304 without a body; another tag gets the file.
        s, empty, h304 = call(dash, "GET", f"/dashboard/{name}", headers={"If-None-Match": h["etag"]})
        assert (s, empty, h304["etag"]) == (304, b"", h["etag"])
        assert h304["content-security-policy"] == CSP
        s, _, _ = call(dash, "GET", f"/dashboard/{name}", headers={"If-None-Match": '"other"'})
        assert s == 200
    # What a browser downloads for the dashboard, compressed as the server sends it.
    assert total < 200 * 1024, total
    s, _, h = call(dash, "GET", "/dashboard/nope.js")
    assert s == 404 and h["content-security-policy"] == CSP
    s, _, h = call(dash, "POST", "/dashboard/index.html")
    assert s == 405 and h["allow"] == "GET, HEAD"
    # No inline script or style in the page: the CSP would block them (and the test would see it).
    _, index, _ = call(dash, "GET", "/dashboard/")
    assert not re.search(rb"<script(?![^>]*\bsrc=)", index) and b"style=" not in index and b"<style" not in index


def test_no_cors(dash):
    """A cross-origin preflight and a cross-origin request get no Access-Control-* headers, so a
    page elsewhere cannot send a token-bearing request; and nothing sets a cookie."""
    for path in (f"/v3/{dash.admin_project}/volumes", "/identity/v3/auth/tokens", "/dashboard/"):
        s, _, h = call(dash, "OPTIONS", path, headers={"Origin": "https://evil.example",
                                                        "Access-Control-Request-Method": "POST",
                                                        "Access-Control-Request-Headers": "x-auth-token"})
        assert not any(k.startswith("access-control-") for k in h), (path, s, h)
        assert "set-cookie" not in h
    s, _, h = call(dash, "GET", f"/v3/{dash.admin_project}/volumes",
                   headers={"Origin": "https://evil.example", "X-Auth-Token": dash.admin_token})
    assert s == 200 and not any(k.startswith("access-control-") for k in h) and "set-cookie" not in h


def test_disabled_by_option(tmp_path):
    proc, svc = start_service(tmp_path, extra="[dashboard]\nenabled = false\n")
    try:
        s, _, h = call(svc, "GET", "/dashboard/")
        assert s == 404 and "content-security-policy" not in h
    finally:
        stop_service(proc)


# -- in the browser ----------------------------------------------------------------------------

def test_wrong_password_shows_an_error(dash, browser):
    login(browser, dash, "admin", "not-the-password")
    text = browser.wait_for("document.querySelector('#login .error')?.textContent", what="the error")
    assert "401" in text and "wrong" in text
    assert browser.eval("sessionStorage.length") == 0
    shot(browser, "login-error")
    # The browser logged the API's 401 as a failed load: the only network error.
    browser.pump(0.1)
    assert browser.network_errors and all("401" in e for e in browser.network_errors), browser.network_errors
    browser.network_errors.clear()


def test_admin_creates_watches_extends_and_deletes_a_volume(dash, browser):
    b = browser
    login(b, dash, "admin", ADMIN_PASSWORD)
    # Two projects: the page asks which one, and the token it keeps is scoped to that one.
    b.wait_for("document.querySelector('#choose-project select')", what="the project choice")
    assert sorted(b.eval("[...document.querySelectorAll('#choose-project option')].map((o) => o.textContent)")) == \
        ["admin", "dash-b"]
    assert b.eval("sessionStorage.length") == 0
    shot(b, "choose-project")
    b.type("#choose-project select", dash.admin_project)
    b.click("#choose-project button[type=submit]")
    b.wait_for("document.querySelector('#volumes')", what="the volumes page")
    assert b.eval("document.querySelector('#nav a[data-page=capacity]') !== null")
    session = json.loads(b.eval("sessionStorage.getItem('cinder.dashboard.session')"))
    assert session["project_id"] == dash.admin_project and session["is_admin"]
    b.eval("window.__sameDocument = 'yes'")  # gone if anything reloaded the page
    b.click("#create-volume summary")
    b.type("#create-volume input[name=name]", "dash-one")
    b.type("#create-volume input[name=size]", "1")
    b.click("#create-volume button[data-action=create]")
    vol_id = b.wait_for("[...document.querySelectorAll('#volumes tr')].find("
                        "(r) => r.querySelector('.name')?.textContent === 'dash-one')?.dataset.id", what="the new row")
    # Only the page's polling updates the row.
    b.wait_for(f"{row_status(vol_id)} === 'available'", timeout=30, what="available")
    shot(b, "volumes")
    b.click(f"#volumes tr[data-id='{vol_id}'] button[data-action=extend]")
    b.type("#dialog input[name=size]", "2")
    b.click("#dialog button[data-action=confirm]")
    b.wait_for(f"document.querySelector('#volumes tr[data-id=\"{vol_id}\"] td.num')?.textContent === '2 GB'"
               f" && {row_status(vol_id)} === 'available'", timeout=30, what="extended to 2 GB")
    status, body = api(dash, dash.admin_token, "GET", f"/v3/{dash.admin_project}/volumes/{vol_id}")
    assert (status, body["volume"]["size"]) == (200, 2)
    # A snapshot from the volume's row, seen on the snapshots page and deleted there.
    b.click(f"#volumes tr[data-id='{vol_id}'] button[data-action=snapshot]")
    b.type("#dialog input[name=name]", "dash-snap")
    b.click("#dialog button[data-action=confirm]")
    b.wait_for("document.querySelector('#notice')?.dataset.state === 'done'", what="the snapshot accepted")
    b.click("#nav a[data-page=snapshots]")
    snap_id = b.wait_for("[...document.querySelectorAll('#snapshots tr')].find((r) => r.dataset.status === "
                         "'available' && r.querySelector('.name')?.textContent === 'dash-snap')?.dataset.id",
                         timeout=30, what="the snapshot available")
    b.click(f"#snapshots tr[data-id='{snap_id}'] button[data-action=delete]")
    b.wait_for(f"document.querySelector('#snapshots tr[data-id=\"{snap_id}\"]') === null", timeout=30,
               what="the snapshot deleted")
    assert api(dash, dash.admin_token, "GET", f"/v3/{dash.admin_project}/snapshots/{snap_id}")[0] == 404
    b.click("#nav a[data-page=volumes]")
    b.wait_for(f"{row_status(vol_id)} === 'available'", what="the volume again")
    b.click(f"#volumes tr[data-id='{vol_id}'] button[data-action=delete]")
    shot(b, "volume-delete-dialog")
    b.click("#dialog button[data-action=confirm]")
    b.wait_for(f"document.querySelector('#volumes tr[data-id=\"{vol_id}\"]') === null", timeout=30, what="deleted")
    assert api(dash, dash.admin_token, "GET", f"/v3/{dash.admin_project}/volumes/{vol_id}")[0] == 404
    assert b.eval("window.__sameDocument") == "yes"
    # The other pages, for review.
    for page, marker in (("snapshots", "#snapshots"), ("backups", "#backups"), ("quotas", "#quotas meter"),
                         ("messages", "#messages"), ("types", "#types"), ("qos", "#qos"),
                         ("capacity", "#pools svg.pool")):
        b.click(f"#nav a[data-page={page}]")
        b.wait_for(f"document.querySelector('main[data-page={page}] {marker}')", what=page)
        shot(b, page)
    assert b.eval("window.__sameDocument") == "yes"
    assert not b.network_errors, b.network_errors
    # Everything the page asked for: its own files, the identity API and the project's volume API.
    urls = b.eval("performance.getEntriesByType('resource').map((r) => r.name)")
    assert any(f"/v3/{dash.admin_project}/volumes/detail?" in u for u in urls), urls
    prefixes = (f"{dash.endpoint}/dashboard/", f"{dash.endpoint}/identity/v3/", f"{dash.endpoint}/identity/v3",
                f"{dash.endpoint}/v3/{dash.admin_project}/")
    assert all(u.startswith(prefixes) for u in urls), [u for u in urls if not u.startswith(prefixes)]


def test_a_name_with_a_script_tag_is_text(dash, browser):
    status, body = api(dash, dash.admin_token, "POST", f"/v3/{dash.admin_project}/volumes",
                       {"volume": {"size": 1, "name": XSS, "description": XSS}})
    assert status == 202
    vol_id = body["volume"]["id"]
    b = browser
    b.click("#nav a[data-page=volumes]")
    b.wait_for(f"document.querySelector('#volumes tr[data-id=\"{vol_id}\"] .name')", timeout=20, what="the row")
    assert b.eval(f"document.querySelector('#volumes tr[data-id=\"{vol_id}\"] .name').textContent") == XSS
    assert b.eval(f"document.querySelector('#volumes tr[data-id=\"{vol_id}\"] .name').childElementCount") == 0
    assert b.eval("document.querySelectorAll('main script').length") == 0
    assert not [e for e in b.events if e.get("method") == "Page.javascriptDialogOpening"]
    shot(b, "volumes-script-name")


def wait_api_status(svc, vol_id, status):
    for _ in range(500):
        code, body = api(svc, svc.admin_token, "GET", f"/v3/{svc.admin_project}/volumes/{vol_id}")
        if code == 200 and body["volume"]["status"] == status:
            return
        time.sleep(0.02)
    raise AssertionError(f"{vol_id} did not become {status}")


def reset(svc, vol_id, status):
    code, _ = api(svc, svc.admin_token, "POST", f"/v3/{svc.admin_project}/volumes/{vol_id}/action",
                  {"os-reset_status": {"status": status}})
    assert code == 202


def set_hidden(b, hidden):
    b.eval("Object.defineProperty(document, 'hidden', {configurable: true, get: () => %s});"
           "document.dispatchEvent(new Event('visibilitychange')); 1" % ("true" if hidden else "false"))


def test_lists_poll_fast_while_a_row_is_busy_and_pause_while_hidden(dash, browser):
    """A status changed by someone else reaches the page by its polling alone: within the fast
    period (2 s; the slow one is 15 s) while a row is in a transitional status; not at all while
    the tab is hidden; at once when it is shown again."""
    b = browser
    status, body = api(dash, dash.admin_token, "POST", f"/v3/{dash.admin_project}/volumes",
                       {"volume": {"size": 1, "name": "live-one"}})
    assert status == 202
    vol = body["volume"]["id"]
    wait_api_status(dash, vol, "available")
    reset(dash, vol, "maintenance")  # transitional: the page polls fast
    b.click("#nav a[data-page=volumes]")
    b.wait_for(f"{row_status(vol)} === 'maintenance'", what="maintenance")
    reset(dash, vol, "available")
    b.wait_for(f"{row_status(vol)} === 'available'", timeout=5, what="available by the fast poll")
    # Hidden: no request at all, the row keeps what it showed.
    reset(dash, vol, "maintenance")
    b.click("#nav a[data-page=volumes]")
    b.wait_for(f"{row_status(vol)} === 'maintenance'", what="maintenance again")
    set_hidden(b, True)
    b.eval("performance.clearResourceTimings(); 1")
    reset(dash, vol, "available")
    b.pump(3.0)  # longer than the fast period: the page must stay quiet
    assert b.eval("performance.getEntriesByType('resource').length") == 0
    assert b.eval(row_status(vol)) == "maintenance"
    set_hidden(b, False)  # shown: read at once
    b.wait_for(f"{row_status(vol)} === 'available'", timeout=5, what="available once shown")
    assert api(dash, dash.admin_token, "DELETE", f"/v3/{dash.admin_project}/volumes/{vol}")[0] == 202


def test_attachments_are_shown_with_their_server_and_host(dash, browser):
    b = browser
    status, body = api(dash, dash.admin_token, "POST", f"/v3/{dash.admin_project}/volumes",
                       {"volume": {"size": 1, "name": "attached-one"}})
    assert status == 202
    vol = body["volume"]["id"]
    wait_api_status(dash, vol, "available")
    server = "5f1c2e4a-6b7d-4c8e-9f0a-1b2c3d4e5f60"
    status, body = api(dash, dash.admin_token, "POST", f"/v3/{dash.admin_project}/attachments", {"attachment": {
        "volume_uuid": vol, "instance_uuid": server, "connector": {"initiator": "iqn.1993-08.org.debian:01:dash",
                                                                   "host": "compute-7", "ip": "127.0.0.1"}}})
    assert status == 200, body
    att = body["attachment"]["id"]
    status, _ = api(dash, dash.admin_token, "POST", f"/v3/{dash.admin_project}/attachments/{att}/action",
                    {"os-complete": None})
    assert status == 204
    b.click("#nav a[data-page=volumes]")
    cell = f"document.querySelector('#volumes tr[data-id=\"{vol}\"] td:nth-child(7)')?.textContent"
    text = b.wait_for(f"{row_status(vol)} === 'in-use' && {cell}", what="the attachment")
    assert server[:8] in text and "compute-7" in text, text
    assert b.eval(f"document.querySelector('#volumes tr[data-id=\"{vol}\"] code[title=\"{server}\"]') !== null")
    shot(b, "volumes-attached")
    assert api(dash, dash.admin_token, "DELETE", f"/v3/{dash.admin_project}/attachments/{att}")[0] == 200
    b.click("#nav a[data-page=volumes]")
    b.wait_for(f"{row_status(vol)} === 'available' && {cell}.trim() === '—'", what="detached")
    assert api(dash, dash.admin_token, "DELETE", f"/v3/{dash.admin_project}/volumes/{vol}")[0] == 202


def test_a_backup_from_a_volume_row(dash, browser):
    b = browser
    status, body = api(dash, dash.admin_token, "POST", f"/v3/{dash.admin_project}/volumes",
                       {"volume": {"size": 1, "name": "to-back-up"}})
    assert status == 202
    vol = body["volume"]["id"]
    wait_api_status(dash, vol, "available")
    b.click("#nav a[data-page=volumes]")
    b.wait_for(f"{row_status(vol)} === 'available'", what="the volume")
    b.click(f"#volumes tr[data-id='{vol}'] button[data-action=backup]")
    b.type("#dialog input[name=name]", "dash-backup")
    b.click("#dialog button[data-action=confirm]")
    b.wait_for("document.querySelector('#notice')?.dataset.state === 'done'", what="the backup accepted")
    b.click("#nav a[data-page=backups]")
    # While it runs the row shows an activity bar (the API gives no percentage); then available.
    backup = b.wait_for("[...document.querySelectorAll('#backups tr')].find((r) => "
                        "r.querySelector('.name')?.textContent === 'dash-backup')?.dataset.id", what="the backup")
    assert b.eval(f"(() => {{ const r = document.querySelector('#backups tr[data-id=\"{backup}\"]');"
                  " return r.dataset.status !== 'creating' || r.querySelector('progress') !== null; })()")
    b.wait_for(f"document.querySelector('#backups tr[data-id=\"{backup}\"]')?.dataset.status === 'available'",
               timeout=30, what="the backup available")
    assert b.eval(f"document.querySelector('#backups tr[data-id=\"{backup}\"] progress')") is None
    # A running backup shows how far it is: the page reads GET .../backups/{id}/progress. The
    # backup service records progress_bytes every 2 s of a long run; here it is written as it
    # would be a quarter of the way through this 1 GiB volume.
    con = sqlite3.connect(dash.db_path, timeout=10)
    with con:
        con.execute("UPDATE backups SET status = 'creating', progress_bytes = ? WHERE id = ?", (256 << 20, backup))
    b.click("#nav a[data-page=volumes]")
    b.click("#nav a[data-page=backups]")
    bar = f"document.querySelector('#backups tr[data-id=\"{backup}\"] progress.backup-progress')"
    assert b.wait_for(f"{bar}?.getAttribute('value')", what="the progress bar") == "25"
    shot(b, "backups-progress")
    with con:
        con.execute("UPDATE backups SET status = 'available', progress_bytes = 0 WHERE id = ?", (backup,))
    con.close()
    b.wait_for(f"{bar} === null", timeout=10, what="the bar gone once available")
    shot(b, "backups")
    b.click(f"#backups tr[data-id='{backup}'] button[data-action=delete]")
    b.wait_for(f"document.querySelector('#backups tr[data-id=\"{backup}\"]') === null", timeout=30,
               what="the backup deleted")
    assert api(dash, dash.admin_token, "DELETE", f"/v3/{dash.admin_project}/volumes/{vol}")[0] == 202


def test_the_admin_sees_every_project(dash, browser):
    status, body = api(dash, dash.member_token, "POST", f"/v3/{dash.member_project}/volumes",
                       {"volume": {"size": 1, "name": "in-dash-b"}})
    assert status == 202
    theirs = body["volume"]["id"]
    b = browser
    b.click("#nav a[data-page=volumes]")  # read the list now rather than at the next poll
    b.wait_for(f"document.querySelector('#volumes tr[data-id=\"{theirs}\"]')", timeout=20, what="dash-b's volume")
    cells = b.eval(f"[...document.querySelectorAll('#volumes tr[data-id=\"{theirs}\"] td')].map((c) => c.textContent)")
    assert dash.member_project[:8] in cells  # the Project column
    # Filtered on the server: name contains (name~, 3.34), then sorted by name on the server.
    b.eval("performance.clearResourceTimings(); 1")
    b.type("form.filters input[name=name]", "IN-DASH")
    b.click("form.filters button[type=submit]")
    b.wait_for("[...document.querySelectorAll('#volumes tbody tr')].map((r) => r.dataset.id).join() === "
               f"'{theirs}'", what="only the filtered volume")
    assert b.eval("performance.getEntriesByType('resource').some((r) => r.name.includes('name%7E=IN-DASH'))")
    b.type("form.filters input[name=name]", "")
    b.click("form.filters button[type=submit]")
    b.click("#volumes th button[data-sort=name]")
    b.wait_for("document.querySelector('#volumes th button[data-sort=name]').textContent.includes('▼')")
    b.click("#volumes th button[data-sort=name]")
    names = b.wait_for("document.querySelector('#volumes th button[data-sort=name]').textContent.includes('▲')"
                       " && [...document.querySelectorAll('#volumes .name')].map((n) => n.textContent)",
                       what="sorted by name")
    assert names == sorted(names) and len(names) >= 2, names
    assert api(dash, dash.member_token, "DELETE", f"/v3/{dash.member_project}/volumes/{theirs}")[0] == 202


def test_a_member_sees_only_their_project(dash, browser):
    b = browser
    # The admin's volume (from the previous test, and one more) and one of the member's own.
    status, body = api(dash, dash.admin_token, "POST", f"/v3/{dash.admin_project}/volumes",
                       {"volume": {"size": 1, "name": "admins-only"}})
    assert status == 202
    admins = body["volume"]["id"]
    status, body = api(dash, dash.member_token, "POST", f"/v3/{dash.member_project}/volumes",
                       {"volume": {"size": 1, "name": "members-own"}})
    assert status == 202
    own = body["volume"]["id"]
    admin_token = json.loads(b.eval("sessionStorage.getItem('cinder.dashboard.session')"))["token"]
    logout(b)
    # Logging out revoked the dashboard's token.
    s, _ = api(dash, admin_token, "GET", f"/v3/{dash.admin_project}/volumes")
    assert s == 401
    login(b, dash, "dash-member", MEMBER_PASSWORD)
    b.wait_for(f"document.querySelector('#volumes tr[data-id=\"{own}\"]')", timeout=20, what="the member's volume")
    ids = b.eval("[...document.querySelectorAll('#volumes tbody tr')].map((r) => r.dataset.id)")
    assert ids == [own] and admins not in ids
    assert b.eval("document.querySelector('#nav a[data-page=capacity]')") is None
    assert b.eval("document.querySelector('#nav a[data-page=types]')") is None
    assert b.eval("document.querySelector('#volumes th')?.parentElement.textContent.includes('Host')") is False
    shot(b, "member-volumes")
    # An admin page by its URL: the API's own 403, shown as such.
    for page in ("capacity", "qos"):
        b.navigate(f"{dash.url}#/{page}")
        text = b.wait_for("document.querySelector('main .error')?.textContent", what="the 403")
        assert text.startswith("403: ") and "Policy doesn't allow" in text, text
    shot(b, "member-admin-page-403")
    # The token revoked elsewhere: the next read gets 401 and the page asks for a login again.
    token = json.loads(b.eval("sessionStorage.getItem('cinder.dashboard.session')"))["token"]
    s, _, _ = call(dash, "DELETE", "/identity/v3/auth/tokens", None,
                   {"X-Auth-Token": dash.admin_token, "X-Subject-Token": token})
    assert s == 204
    b.click("#nav a[data-page=volumes]")
    text = b.wait_for("document.querySelector('#login .error')?.textContent", what="the login again")
    assert "session ended" in text
    assert b.eval("sessionStorage.length") == 0
    b.pump(0.1)
    assert b.network_errors and all("403" in e or "401" in e for e in b.network_errors), b.network_errors
    b.network_errors.clear()


def test_noauth_says_so_and_takes_a_user_and_project(tmp_path, browser):
    proc, svc = start_service(tmp_path)  # auth_strategy = noauth
    try:
        b = browser
        b.navigate(f"{svc.endpoint}/dashboard/")
        note = b.wait_for("document.querySelector('#login .note')?.textContent", what="the noauth note")
        assert "noauth" in note and "USER:PROJECT" in note and "admin" in note
        assert b.eval("document.querySelector('#login input[name=password]')") is None
        shot(b, "login-noauth")
        b.type("#login input[name=user]", "u1")
        b.type("#login input[name=project]", "p1")
        b.click("#login button[type=submit]")
        b.wait_for("document.querySelector('#volumes')", what="the volumes page")
        assert b.eval("document.querySelector('#project').textContent") == "p1"
        b.click("#logout")
        b.wait_for("document.querySelector('#login')", what="the login page")
        # The probe of /identity/v3 (not served under noauth) is the only failed load.
        b.pump(0.1)
        assert all("404" in e for e in b.network_errors), b.network_errors
        b.network_errors.clear()
    finally:
        stop_service(proc)


def test_pages_follow_the_api_links_and_markers(tmp_path, browser):
    """Paged on the server: osapi_max_limit = 2 caps the page the dashboard asks (50); Next and
    Previous follow the markers, and the range and the total (with_count) stay right."""
    proc, svc = start_service(tmp_path, extra="osapi_max_limit = 2\n")
    try:
        ids = []
        for i in range(5):
            code, body, _ = svc.request("POST", svc.url("/volumes"), {"volume": {"size": 1, "name": f"page-{i}"}})
            assert code == 202
            ids.append(body["volume"]["id"])
        b = browser
        b.navigate(f"{svc.endpoint}/dashboard/")
        b.wait_for("document.querySelector('#login input[name=project]')", what="the noauth login")
        b.type("#login input[name=user]", "e2e-user")
        b.type("#login input[name=project]", svc.url("").split("/")[2])
        b.click("#login button[type=submit]")
        rows = "[...document.querySelectorAll('#volumes tbody tr')].map((r) => r.dataset.id).join()"
        rng = "document.querySelector('nav.pager .range').textContent"
        newest = list(reversed(ids))  # created_at:desc
        b.wait_for(f"{rows} === '{','.join(newest[0:2])}'", what="page 1")
        assert b.eval(rng) == "1–2 of 5"
        assert b.eval("document.querySelector('nav.pager [data-action=prev]').disabled")
        b.click("nav.pager [data-action=next]")
        b.wait_for(f"{rows} === '{','.join(newest[2:4])}'", what="page 2")
        assert b.eval(rng) == "3–4 of 5"
        b.click("nav.pager [data-action=next]")
        b.wait_for(f"{rows} === '{newest[4]}'", what="page 3")
        assert b.eval(rng) == "5–5 of 5"
        assert b.eval("document.querySelector('nav.pager [data-action=next]').disabled")
        shot(b, "volumes-last-page")
        b.click("nav.pager [data-action=prev]")
        b.wait_for(f"{rows} === '{','.join(newest[2:4])}' && {rng} === '3–4 of 5'", what="page 2 again")
        b.click("#logout")
        b.wait_for("document.querySelector('#login')", what="the login page")
        b.pump(0.1)
        b.network_errors.clear()  # the noauth login's probe of /identity/v3 (404)
    finally:
        stop_service(proc)
