"""A headless Chromium driven over the DevTools protocol on a pipe (--remote-debugging-pipe):
standard library only, no port, no websocket. Chrome reads NUL-terminated JSON messages on its
fd 3 and writes them on its fd 4.

    with Browser() as b:
        b.navigate("http://127.0.0.1:8776/dashboard/")
        b.wait_for("document.querySelector('#login') !== null")
        b.type("#login input[name=user]", "admin")
        b.click("#login button[type=submit]")
        b.screenshot("/tmp/x.png")

Every console error, uncaught exception and Content-Security-Policy violation is collected;
check() raises if there was one. Network errors (a 4xx the page expected, as a 401 for a wrong
password) are kept apart in `network_errors`, for the test to look at.
"""
import base64
import fcntl
import json
import os
import select
import shutil
import signal
import subprocess
import tempfile
import time

CANDIDATES = ("chromium-headless-shell", "chrome-headless-shell", "chromium")


def find_browser():
    """The headless Chromium's path, or None."""
    for name in CANDIDATES:
        path = shutil.which(name) or (f"/usr/bin/{name}" if os.path.exists(f"/usr/bin/{name}") else None)
        if path:
            return path
    return None


class BrowserError(AssertionError):
    pass


class Browser:
    def __init__(self, binary=None, width=1280, height=900, timeout=30):
        self.binary = binary or find_browser()
        if not self.binary:
            raise BrowserError("no headless Chromium (chromium-headless-shell) found")
        self.timeout = timeout
        self.profile = tempfile.mkdtemp(prefix="cdp-profile-")
        # Two pipes: we write -> Chrome's fd 3; Chrome's fd 4 -> we read. Their ends go above fd
        # 10 first so that the dup2 calls in the child cannot overwrite one another.
        r_in, w_in = os.pipe()
        r_out, w_out = os.pipe()
        # F_DUPFD: the lowest free descriptor from 10 up (never one the process already uses).
        hi_r_in = fcntl.fcntl(r_in, fcntl.F_DUPFD, 10)
        hi_w_out = fcntl.fcntl(w_out, fcntl.F_DUPFD, 10)
        os.close(r_in)
        os.close(w_out)

        def child_fds():
            os.dup2(hi_r_in, 3)
            os.dup2(hi_w_out, 4)

        args = [self.binary, "--headless", "--remote-debugging-pipe", "--disable-gpu", "--no-first-run",
                "--no-default-browser-check", "--disable-extensions", "--disable-background-networking",
                "--disable-dev-shm-usage", "--mute-audio", f"--user-data-dir={self.profile}",
                f"--window-size={width},{height}", "about:blank"]
        if os.geteuid() == 0:
            args.insert(1, "--no-sandbox")  # Chromium refuses to run as root with its sandbox
        # preexec_fn runs before the child closes what pass_fds does not keep: Chrome gets 3 and 4.
        self.proc = subprocess.Popen(args, pass_fds=(3, 4), preexec_fn=child_fds,
                                     stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL, start_new_session=True)
        os.close(hi_r_in)
        os.close(hi_w_out)
        self._w = w_in
        self._r = r_out
        self._buf = b""
        self._id = 0
        self.events = []
        self.errors = []          # console errors, exceptions, CSP violations
        self.network_errors = []  # failed loads (4xx/5xx), which a page may expect
        target = self.send("Target.createTarget", {"url": "about:blank"})["targetId"]
        self.session = self.send("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
        for domain in ("Page", "Runtime", "Log"):
            self.send(f"{domain}.enable", session=True)

    # -- the protocol -------------------------------------------------------------------------
    def _read_message(self, deadline):
        while b"\0" not in self._buf:
            left = deadline - time.time()
            if left <= 0:
                raise BrowserError("no answer from the browser in time")
            ready, _, _ = select.select([self._r], [], [], left)
            if ready:
                chunk = os.read(self._r, 1 << 20)
                if not chunk:
                    raise BrowserError("the browser closed its pipe")
                self._buf += chunk
        raw, self._buf = self._buf.split(b"\0", 1)
        return json.loads(raw)

    def _event(self, m):
        method, p = m.get("method"), m.get("params", {})
        self.events.append(m)
        if method == "Runtime.consoleAPICalled" and p.get("type") in ("error", "assert"):
            text = " ".join(str(a.get("value", a.get("description", ""))) for a in p.get("args", []))
            self.errors.append(f"console.{p['type']}: {text}")
        elif method == "Runtime.exceptionThrown":
            d = p.get("exceptionDetails", {})
            self.errors.append("exception: " + d.get("exception", {}).get("description", d.get("text", "")))
        elif method == "Log.entryAdded":
            e = p.get("entry", {})
            if e.get("source") == "network" and e.get("level") == "error":
                self.network_errors.append(e.get("text", ""))
            elif e.get("level") == "error" or "Content Security Policy" in e.get("text", ""):
                self.errors.append(f"log ({e.get('source')}): {e.get('text')}")

    def send(self, method, params=None, session=False, timeout=None):
        self._id += 1
        msg = {"id": self._id, "method": method, "params": params or {}}
        if session:
            msg["sessionId"] = self.session
        data = json.dumps(msg).encode() + b"\0"
        while data:
            n = os.write(self._w, data)
            data = data[n:]
        deadline = time.time() + (timeout or self.timeout)
        while True:
            m = self._read_message(deadline)
            if m.get("id") == self._id:
                if "error" in m:
                    raise BrowserError(f"{method}: {m['error']}")
                return m.get("result", {})
            if "method" in m:
                self._event(m)

    def pump(self, seconds=0.0):
        """Reads the events that arrived (within `seconds`)."""
        deadline = time.time() + seconds
        while True:
            ready, _, _ = select.select([self._r], [], [], max(0.0, deadline - time.time()))
            if not ready and b"\0" not in self._buf:
                return
            if ready:
                chunk = os.read(self._r, 1 << 20)
                if not chunk:
                    return
                self._buf += chunk
            while b"\0" in self._buf:
                raw, self._buf = self._buf.split(b"\0", 1)
                m = json.loads(raw)
                if "method" in m:
                    self._event(m)
            if time.time() >= deadline:
                return

    # -- what tests use -----------------------------------------------------------------------
    def eval(self, js, await_promise=True):
        """The value of a JavaScript expression (awaited when it is a promise)."""
        r = self.send("Runtime.evaluate", {"expression": js, "returnByValue": True, "awaitPromise": await_promise,
                                           "userGesture": True}, session=True)
        if "exceptionDetails" in r:
            d = r["exceptionDetails"]
            raise BrowserError(f"{js!r} threw: {d.get('exception', {}).get('description', d.get('text'))}")
        return r["result"].get("value")

    def navigate(self, url):
        r = self.send("Page.navigate", {"url": url}, session=True)
        if r.get("errorText"):
            raise BrowserError(f"navigate {url}: {r['errorText']}")

    def wait_for(self, predicate, timeout=15, what=None):
        """Waits until a JavaScript expression is truthy, inside the page (a promise resolved by
        a MutationObserver or a timer each animation frame: no sleeping here) and returns its value."""
        js = f"""new Promise((resolve) => {{
          const test = () => {{ try {{ return ({predicate}); }} catch (e) {{ return false; }} }};
          const end = performance.now() + {int(timeout * 1000)};
          const tick = () => {{
            const v = test();
            if (v) return resolve(v instanceof Node ? true : v);  // a node is not serialisable
            if (performance.now() > end) return resolve(null);
            requestAnimationFrame(tick);
          }};
          tick();
        }})"""
        v = self.eval(js)
        if not v:
            body = self.eval("document.body ? document.body.innerText.slice(0, 2000) : ''")
            raise BrowserError(f"timed out waiting for {what or predicate}; the page shows:\n{body}")
        return v

    def click(self, selector):
        found = self.eval(f"(() => {{ const e = document.querySelector({json.dumps(selector)}); if (!e) return false;"
                          " e.scrollIntoView({block: 'center'}); e.click(); return true; })()")
        if not found:
            raise BrowserError(f"nothing to click at {selector}")

    def type(self, selector, text):
        """Sets an input's value and fires input and change, as typing would."""
        ok = self.eval(f"""(() => {{ const e = document.querySelector({json.dumps(selector)}); if (!e) return false;
            e.focus(); e.value = {json.dumps(text)};
            e.dispatchEvent(new Event('input', {{bubbles: true}}));
            e.dispatchEvent(new Event('change', {{bubbles: true}})); return true; }})()""")
        if not ok:
            raise BrowserError(f"no input at {selector}")

    def screenshot(self, path):
        data = self.send("Page.captureScreenshot", {"format": "png", "captureBeyondViewport": True},
                         session=True)["data"]
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as f:
            f.write(base64.b64decode(data))
        return path

    def check(self):
        """Raises if the page logged an error, threw, or broke its Content-Security-Policy."""
        self.pump(0.05)
        if self.errors:
            errors, self.errors = self.errors, []
            raise BrowserError("the page reported errors:\n" + "\n".join(errors))

    def close(self):
        try:
            self.send("Browser.close", timeout=5)
        except (BrowserError, OSError):
            pass
        try:
            self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)  # its own session: the renderer processes too
            self.proc.wait(timeout=5)
        for fd in (self._w, self._r):
            try:
                os.close(fd)
            except OSError:
                pass
        shutil.rmtree(self.profile, ignore_errors=True)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
