"""The HTTP front end through real sockets: idle and slow clients do not stall others, limits are
answered at once, past the connection cap a 503, a port or a state folder in use stops a second
service with a clear error."""
import http.client
import json
import os
import re
import resource
import shutil
import socket
import subprocess
import threading
import time

import pytest

from conftest import BIN, PROJECT, USER, start_service, stop_service

AUTH = {"X-Auth-Token": f"{USER}:{PROJECT}", "OpenStack-API-Version": "volume 3.70"}
# wrk's run under 1,000 idle and 200 slow connections; the issue asks for 30 s, make test runs
# 10 s to stay well within its time (CINDER_E2E_WRK_SECONDS=30 for the full run).
WRK_SECONDS = int(os.environ.get("CINDER_E2E_WRK_SECONDS", "10"))


@pytest.fixture(scope="module", autouse=True)
def enough_descriptors():
    """This process opens 1,200+ sockets."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    yield
    resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise AssertionError("no VmRSS")


def request_bytes(path, extra=""):
    return (f"GET {path} HTTP/1.1\r\nHost: x\r\nX-Auth-Token: {USER}:{PROJECT}\r\n"
            f"OpenStack-API-Version: volume 3.70\r\n{extra}\r\n").encode()


def read_response(sock):
    """One whole response (by Content-Length) from a keep-alive socket: (status, headers, body)."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError(f"closed after {data!r}")
        data += chunk
    head, body = data.split(b"\r\n\r\n", 1)
    lines = head.decode().split("\r\n")
    headers = {k.lower(): v.strip() for k, v in (line.split(":", 1) for line in lines[1:])}
    length = int(headers.get("content-length", "0"))
    while len(body) < length:
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError("closed mid-body")
        body += chunk
    return int(lines[0].split()[1]), headers, body


def exchange(host, port, data, timeout=1.0):
    """Sends `data`, reads until the server closes or `timeout`: (bytes read, seconds, closed)."""
    s = socket.create_connection((host, port))
    s.settimeout(timeout)
    start = time.monotonic()
    out, closed = b"", False
    try:
        try:
            s.sendall(data)
        except (BrokenPipeError, ConnectionResetError):
            pass
        while True:
            try:
                chunk = s.recv(65536)
            except socket.timeout:
                break
            except ConnectionResetError:
                closed = True
                break
            if not chunk:
                closed = True
                break
            out += chunk
    finally:
        s.close()
    return out, time.monotonic() - start, closed


def fault_of(raw):
    head, body = raw.split(b"\r\n\r\n", 1)
    status = int(head.split()[1])
    return status, json.loads(body)


def assert_serves(svc):
    conn = http.client.HTTPConnection(svc.host, svc.port, timeout=5)
    conn.request("GET", f"/v3/{PROJECT}/volumes", headers=AUTH)
    resp = conn.getresponse()
    resp.read()
    conn.close()
    assert resp.status == 200


@pytest.fixture(scope="module")
def svc(tmp_path_factory):
    proc, s = start_service(tmp_path_factory.mktemp("frontend"))
    s.proc = proc
    yield s
    stop_service(proc)


def test_idle_and_slow_clients_do_not_stall_a_fresh_one_and_wrk_runs_clean(svc):
    idle = []
    for _ in range(1000):
        s = socket.create_connection((svc.host, svc.port))
        s.sendall(request_bytes(f"/v3/{PROJECT}/volumes"))
        assert read_response(s)[0] == 200
        idle.append(s)  # kept open: an idle keep-alive connection
    slow = [socket.create_connection((svc.host, svc.port)) for _ in range(200)]
    slow_bytes = request_bytes(f"/v3/{PROJECT}/volumes")
    stop = threading.Event()

    def drip():  # one header byte a second on each slow connection
        i = 0
        while not stop.wait(1.0):
            for s in slow:
                try:
                    s.send(slow_bytes[i:i + 1])
                except OSError:
                    pass
            i = min(i + 1, len(slow_bytes) - 3)  # never complete the request

    dripper = threading.Thread(target=drip, daemon=True)
    dripper.start()
    try:
        time.sleep(1.5)
        conn = http.client.HTTPConnection(svc.host, svc.port, timeout=10)
        times = []
        for _ in range(100):
            t0 = time.monotonic()
            conn.request("GET", f"/v3/{PROJECT}/volumes", headers=AUTH)
            resp = conn.getresponse()
            resp.read()
            times.append(time.monotonic() - t0)
            assert resp.status == 200
        conn.close()
        times.sort()
        assert times[98] < 0.050, f"p99 {times[98] * 1000:.1f} ms (median {times[50] * 1000:.1f} ms)"

        # wrk with 64 connections, the idle and slow ones still open: no error, flat memory.
        if shutil.which("wrk") is None:
            pytest.skip("wrk is not installed")
        url = f"http://{svc.host}:{svc.port}/v3/{PROJECT}/volumes"
        cmd = ["wrk", "-t2", "-c64"] + sum((["-H", f"{k}: {v}"] for k, v in AUTH.items()), []) + [url]
        subprocess.run(cmd[:3] + ["-d2s"] + cmd[3:], capture_output=True, check=True)  # warm up
        before = rss_kib(svc.proc.pid)
        out = subprocess.run(cmd[:3] + [f"-d{WRK_SECONDS}s"] + cmd[3:], capture_output=True, text=True,
                             check=True).stdout
        after = rss_kib(svc.proc.pid)
        assert "Socket errors" not in out, out
        assert "Non-2xx" not in out, out
        total = int(re.search(r"(\d+) requests in", out).group(1))
        assert total > 1000, out
        assert after - before < 8 * 1024, f"RSS grew from {before} KiB to {after} KiB over {total} requests"
        print(f"fresh client beside 1,000 idle and 200 slow connections: median {times[50] * 1000:.1f} ms, "
              f"p99 {times[98] * 1000:.1f} ms; wrk -c64 {WRK_SECONDS} s: {total} requests, "
              f"RSS {before} -> {after} KiB")
        # The idle connections still answer.
        for s in idle[:10]:
            s.sendall(request_bytes(f"/v3/{PROJECT}/volumes"))
            assert read_response(s)[0] == 200
    finally:
        stop.set()
        dripper.join()
        for s in idle + slow:
            s.close()


def test_a_chunked_body_and_expect_continue_are_read(svc):
    body = json.dumps({"volume": {"size": 1, "name": "chunked"}}).encode()
    conn = http.client.HTTPConnection(svc.host, svc.port, timeout=10)
    # What python-requests sends for a generator body.
    conn.request("POST", f"/v3/{PROJECT}/volumes", body=iter([body[:10], body[10:]]),
                 headers=dict(AUTH, **{"Content-Type": "application/json"}), encode_chunked=True)
    resp = conn.getresponse()
    created = json.loads(resp.read())
    assert resp.status == 202, created
    assert created["volume"]["name"] == "chunked"
    svc.wait_status(created["volume"]["id"], ["available"])

    # curl's way with a large body: the head, then the body once told to continue.
    s = socket.create_connection((svc.host, svc.port))
    s.settimeout(5)
    s.sendall((f"PUT /v3/{PROJECT}/volumes/{created['volume']['id']} HTTP/1.1\r\nHost: x\r\n"
               f"X-Auth-Token: {USER}:{PROJECT}\r\nContent-Type: application/json\r\n"
               f"Expect: 100-continue\r\nContent-Length: 34\r\n\r\n").encode())
    assert s.recv(100) == b"HTTP/1.1 100 Continue\r\n\r\n"
    s.sendall(b'{"volume": {"name": "continued"}}\n')
    status, _, reply = read_response(s)
    s.close()
    assert status == 200 and json.loads(reply)["volume"]["name"] == "continued"


HOSTILE = {
    "a header line of 20,000 bytes": (
        b"GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 20000 + b"\r\n\r\n",
        400, "Malformed request: a header line is longer than 16384 bytes (max_header_line)."),
    "150 headers": (
        b"GET / HTTP/1.1\r\n" + b"".join(b"X-%d: v\r\n" % i for i in range(150)) + b"\r\n",
        400, "Malformed request: more than 100 headers."),
    "a request line of 10,000 bytes": (
        b"GET /" + b"a" * 10000 + b" HTTP/1.1\r\n\r\n",
        414, "Request-URI Too Long: the request line is longer than 8192 bytes."),
    "a body of 200,000 bytes": (
        b"POST /v3/" + PROJECT.encode() + b"/volumes HTTP/1.1\r\nHost: x\r\nContent-Length: 200000\r\n\r\n"
        + b"x" * 200000,
        413, "Request is too large. The body is limited to 114688 bytes (osapi_max_request_body_size)."),
    "a chunked body of 200,000 bytes": (
        b"POST /v3/" + PROJECT.encode() + b"/volumes HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
        + b"".join(b"2710\r\n" + b"x" * 10000 + b"\r\n" for _ in range(20)) + b"0\r\n\r\n",
        413, "Request is too large. The body is limited to 114688 bytes (osapi_max_request_body_size)."),
    "Transfer-Encoding: gzip": (
        b"POST /v3/" + PROJECT.encode() + b"/volumes HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n\r\n"
        + b"\x1f\x8b\x08\x00" + b"\x00" * 100,
        501, "Transfer-Encoding 'gzip' is not implemented (only chunked is)."),
    "a TLS ClientHello": (
        bytes.fromhex("160301020001000" "1fc0303") + os.urandom(32) + b"\x00" * 400,
        400, "Malformed request: this is not an HTTP request (TLS to a plain HTTP port?)."),
}


@pytest.mark.parametrize("case", list(HOSTILE))
def test_hostile_requests_are_answered_within_a_second_and_others_still_served(svc, case):
    data, status, message = HOSTILE[case]
    out, seconds, closed = exchange(svc.host, svc.port, data, timeout=3)
    assert seconds < 1.0, f"{case}: {seconds:.2f} s"
    assert closed, f"{case}: the connection stayed open"
    code, fault = fault_of(out)
    assert code == status
    (name, inner), = fault.items()
    assert inner == {"code": status, "message": message}
    assert b"Connection: close" in out
    assert_serves(svc)


def test_a_tls_handshake_holds_no_worker(svc):
    """As many TLS handshakes at once as there are workers, twice over: each answered at once."""
    results = []

    def hello():
        results.append(exchange(svc.host, svc.port, bytes.fromhex("16030100a5010000a10303") + os.urandom(160)))

    threads = [threading.Thread(target=hello) for _ in range(16)]
    for t in threads:
        t.start()
    assert_serves(svc)
    for t in threads:
        t.join()
    assert all(closed and seconds < 1.0 for _, seconds, closed in results)


@pytest.fixture
def small(tmp_path):
    proc, s = start_service(tmp_path, extra="osapi_max_connections = 20\nosapi_request_read_timeout = 2\n"
                                            "client_socket_timeout = 3\n")
    s.proc = proc
    yield s
    stop_service(proc)


def test_past_the_connection_cap_a_new_connection_gets_503(small):
    held = []
    for _ in range(20):
        s = socket.create_connection((small.host, small.port))
        s.sendall(request_bytes("/"))
        assert read_response(s)[0] == 300
        held.append(s)
    try:
        out, seconds, closed = exchange(small.host, small.port, request_bytes("/"))
        assert seconds < 1.0 and closed
        code, fault = fault_of(out)
        assert code == 503
        assert fault == {"serviceUnavailable": {"code": 503, "message": (
            "The server has too many open connections (osapi_max_connections = 20). Try again later.")}}
        # A connection that closes makes room.
        held.pop().close()
        deadline = time.monotonic() + 2
        while True:
            out, _, _ = exchange(small.host, small.port, request_bytes("/", "Connection: close\r\n"))
            if out.startswith(b"HTTP/1.1 300") or time.monotonic() > deadline:
                break
            time.sleep(0.05)
        assert out.startswith(b"HTTP/1.1 300"), out[:200]
    finally:
        for s in held:
            s.close()


def test_slow_requests_and_idle_connections_are_closed_after_their_limits(small):
    slow = socket.create_connection((small.host, small.port))
    slow.sendall(b"GET / HTTP/1.1\r\nHost")  # and nothing more
    idle = socket.create_connection((small.host, small.port))
    idle.sendall(request_bytes("/"))
    assert read_response(idle)[0] == 300
    t0 = time.monotonic()
    slow.settimeout(10)
    assert slow.recv(100) == b""  # osapi_request_read_timeout = 2
    assert 1.5 < time.monotonic() - t0 < 3.5
    idle.settimeout(10)
    assert idle.recv(100) == b""  # client_socket_timeout = 3
    assert 2.5 < time.monotonic() - t0 < 4.5
    slow.close()
    idle.close()


def test_a_second_service_on_a_port_in_use_exits_with_an_error_naming_it(svc, tmp_path):
    for binary in ("cinder-all", "cinder-api"):
        conf = tmp_path / f"{binary}.conf"
        conf.write_text(f"[DEFAULT]\nosapi_volume_listen = 127.0.0.1\nosapi_volume_listen_port = {svc.port}\n"
                        f"state_path = {tmp_path}/{binary}\n")
        # No database: the port is found taken before anything is opened.
        res = subprocess.run([os.path.join(BIN, binary), "--config-file", str(conf)],
                             capture_output=True, text=True, timeout=30)
        assert res.returncode == 1, res
        assert (f"cannot listen on 127.0.0.1:{svc.port}: Address already in use "
                f"(another service listens on port {svc.port})") in res.stderr, res.stderr
    assert_serves(svc)


def test_a_second_service_on_the_same_state_path_exits_with_an_error_naming_the_lock(svc):
    conf = os.path.join(svc.state, "cinder.conf")
    for binary, lock in (("cinder-all", "cinder-api.lock"), ("cinder-volume", "cinder-volume.lock")):
        res = subprocess.run([os.path.join(BIN, binary), "--config-file", conf],
                             capture_output=True, text=True, timeout=30)
        assert res.returncode == 1, res
        assert (f"state_path {svc.state} is in use: {svc.state}/{lock} is locked by cinder-all "
                f"(pid {svc.proc.pid})") in res.stderr, res.stderr
    assert_serves(svc)
