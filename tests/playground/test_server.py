"""The playground server, started as `chainrule playground` in a subprocess and spoken to
over HTTP and its websocket: the token, Host and Origin checks, the limits, bad requests,
sessions freed when their socket closes, and a clean stop on Ctrl-C.

The `playground` fixture here is also used by test_browser.py and
test_load.py.
"""

import contextlib
import json
import os
import re
import signal
import subprocess
import sys
import time
from urllib.parse import parse_qs, urlsplit

import pytest

httpx = pytest.importorskip("httpx")
pytest.importorskip("starlette")
pytest.importorskip("uvicorn")
ws_client = pytest.importorskip("websockets.sync.client")

URL_LINE = re.compile(r"^\s+(http://127\.0\.0\.1:(\d+)/\?token=(\S+))$")


class Playground:
    """A running `chainrule playground --port 0 --no-browser` and its address."""

    def __init__(self):
        self.process = subprocess.Popen(
            [sys.executable, "-m", "chainrule", "playground", "--port", "0", "--no-browser"],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
            env=dict(os.environ, PYTHONUNBUFFERED="1"))
        deadline = time.monotonic() + 60
        self.url = None
        self.printed = []
        while time.monotonic() < deadline:
            line = self.process.stdout.readline()
            if not line:
                break
            self.printed.append(line)
            match = URL_LINE.match(line.rstrip("\n"))
            if match:
                self.url, port, self.token = match.groups()
                self.port = int(port)
                break
        if self.url is None:
            self.process.kill()
            raise RuntimeError(f"the playground printed no address: {self.printed!r} "
                               f"{self.process.stderr.read()!r}")
        self.base = f"http://127.0.0.1:{self.port}"
        self.ws_url = f"ws://127.0.0.1:{self.port}/ws?token={self.token}"
        # Up when the page answers.
        while time.monotonic() < deadline:
            try:
                httpx.get(self.url, timeout=2)
                break
            except httpx.TransportError:
                time.sleep(0.1)

    def status(self):
        return httpx.get(f"{self.base}/api/status", params={"token": self.token},
                         timeout=30).json()

    def rss_kib(self):
        with open(f"/proc/{self.process.pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
        raise RuntimeError("no VmRSS")

    def socket(self, **kwargs):
        return ws_client.connect(self.ws_url, max_size=2 ** 24, open_timeout=30, **kwargs)

    def stop(self):
        """Ctrl-C, as a person would press it; returns (exit status, stdout, stderr)."""
        self.process.send_signal(signal.SIGINT)
        try:
            out, err = self.process.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            out, err = self.process.communicate()
            raise AssertionError(f"the playground did not stop on Ctrl-C: {err}")
        return self.process.returncode, "".join(self.printed) + out, err


@pytest.fixture(scope="module")
def playground():
    server = Playground()
    try:
        yield server
    finally:
        if server.process.poll() is None:
            server.stop()


def ask(sock, message, timeout=120):
    sock.send(json.dumps(message))
    return json.loads(sock.recv(timeout=timeout))


# ------------------------------------------------------------------ the address
def test_prints_an_address_with_a_token(playground):
    query = parse_qs(urlsplit(playground.url).query)
    assert len(query["token"][0]) >= 24
    page = httpx.get(playground.url)
    assert page.status_code == 200
    assert "chainrule playground" in page.text
    assert 'id="play"' in page.text
    cookie = page.headers["set-cookie"]
    assert f"chainrule-playground-{playground.port}={playground.token}" in cookie
    assert "httponly" in cookie.lower() and "samesite=strict" in cookie.lower()
    # The page's files come with the cookie the page received.
    css = httpx.get(f"{playground.base}/static/playground.css", cookies=page.cookies)
    assert css.status_code == 200 and "#network" in css.text


# ------------------------------------------------------------------- refusals
@pytest.mark.parametrize("path", ["/", "/static/playground.js", "/api/status"])
def test_refused_without_the_token(playground, path):
    response = httpx.get(playground.base + path)
    assert response.status_code == 403
    assert "access token" in response.text
    wrong = httpx.get(playground.base + path, params={"token": playground.token + "x"})
    assert wrong.status_code == 403


def test_token_in_a_header_or_cookie_is_accepted(playground):
    assert httpx.get(playground.base + "/api/status",
                     headers={"Authorization": f"token {playground.token}"}).status_code == 200
    assert httpx.get(playground.base + "/api/status", cookies={
        f"chainrule-playground-{playground.port}": playground.token}).status_code == 200
    # Another playground's cookie (another port) is not this one's token.
    assert httpx.get(playground.base + "/api/status", cookies={
        "chainrule-playground-1": playground.token}).status_code == 403


@pytest.mark.parametrize("host", ["evil.example:{port}", "localhost.evil.example:{port}",
                                  "127.0.0.1:1", "127.0.0.1", ""])
def test_dns_rebinding_host_is_refused(playground, host):
    response = httpx.get(playground.url, headers={"Host": host.format(port=playground.port)})
    assert response.status_code == 403
    assert "Host header" in response.text


def test_loopback_names_are_accepted(playground):
    for host in ("localhost", "127.0.0.1", "LOCALHOST"):
        response = httpx.get(playground.url, headers={"Host": f"{host}:{playground.port}"})
        assert response.status_code == 200, host


def test_foreign_origin_is_refused_even_with_the_token(playground):
    response = httpx.get(playground.url, headers={"Origin": "http://evil.example"})
    assert response.status_code == 403
    assert "another site" in response.text
    ok = httpx.get(playground.url, headers={"Origin": f"http://127.0.0.1:{playground.port}"})
    assert ok.status_code == 200


def handshake(port, path, headers):
    """The status line the server answers a websocket upgrade with (a raw request, so
    the Host header is exactly the one given)."""
    import base64
    import socket
    lines = [f"GET {path} HTTP/1.1", "Upgrade: websocket", "Connection: Upgrade",
             "Sec-WebSocket-Version: 13",
             "Sec-WebSocket-Key: " + base64.b64encode(os.urandom(16)).decode()]
    lines += [f"{k}: {v}" for k, v in headers.items()]
    with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
        sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
        return sock.recv(4096).decode("latin-1").split("\r\n")[0]


def test_websocket_refusals(playground):
    port, token = playground.port, playground.token
    ours = {"Host": f"127.0.0.1:{port}"}
    cases = [("/ws", ours),                                                  # no token
             (f"/ws?token={token}", dict(ours, Origin="http://evil.example")),  # cross-site
             (f"/ws?token={token}", dict(ours, Origin="null")),              # sandboxed page
             (f"/ws?token={token}", {"Host": f"evil.example:{port}"})]       # DNS rebinding
    for path, headers in cases:
        assert handshake(port, path, headers) == "HTTP/1.1 403 Forbidden", (path, headers)
    assert handshake(port, f"/ws?token={token}", dict(ours, Origin=playground.base)) \
        == "HTTP/1.1 101 Switching Protocols"
    # Same origin with the token, through a real client: it works.
    with playground.socket(additional_headers={"Origin": playground.base}) as sock:
        assert ask(sock, {"type": "expression", "text": "x*y", "values": "x=2 y=3"})["value"] == 6


# ------------------------------------------------------- limits, bad requests
BAD_REQUESTS = [
    ("not json", "not valid JSON"),
    ("[1, 2]", 'a JSON object with a "type"'),
    ('{"type": "dance"}', "unknown request type 'dance'"),
    ('{"type": "train"}', "no network yet"),
    ('{"type": "configure", "settings": {"hidden": [8, 9999]}}', "from 1 to 16"),
    ('{"type": "configure", "settings": {"hidden": [2, 2, 2, 2, 2]}}', "1 to 4 hidden layer"),
    ('{"type": "configure", "settings": {"samples": 100000}}', "points must be a whole number from 2 to 500"),
    ('{"type": "configure", "settings": {"lr": "nan"}}', "learning rate must be a number"),
    ('{"type": "configure", "settings": {"lr": -1}}', "learning rate must be a number above 0"),
    ('{"type": "configure", "settings": {"dataset": "mnist"}}', "unknown dataset 'mnist'"),
    ('{"type": "configure", "settings": {"activation": "swish"}}', "unknown activation 'swish'"),
    ('{"type": "configure", "settings": {"loss": "bce", "dataset": "sine"}}', "regression"),
    ('{"type": "configure", "settings": {"colour": "red"}}', "unknown setting 'colour'"),
    ('{"type": "configure", "settings": {"seed": true}}', "seed must be a whole number"),
    ('{"type": "load", "state": {"format": "x"}}', "not a saved playground"),
    ('{"type": "expression", "text": "__import__(\\"os\\")", "values": ""}', "unknown function __import__"),
    ('{"type": "expression", "text": "log(x)", "values": "x=0"}', "log"),
    ('{"type": "expression", "text": "x*y", "values": "x=1"}', "no value for the variable y"),
]


def test_bad_requests_get_a_message_and_the_server_stays_up(playground):
    with playground.socket() as sock:
        for text, expected in BAD_REQUESTS:
            sock.send(text)
            reply = json.loads(sock.recv(timeout=60))
            assert reply["type"] == "error", text
            assert expected in reply["message"], (text, reply["message"])
        sock.send(json.dumps({"type": "expression", "text": "x" * 301, "values": ""}))
        assert "up to 300" in json.loads(sock.recv(timeout=60))["message"]
        sock.send(json.dumps({"type": "expression", "text": "x", "values": "x=1",
                              "pad": "y" * 300_000}))
        assert "the limit is 262144" in json.loads(sock.recv(timeout=60))["message"]
        # The same connection still works.
        reply = ask(sock, {"type": "configure", "settings": {"hidden": "3", "samples": 20}})
        assert reply["type"] == "setup"
        reply = ask(sock, {"type": "train", "steps": 51})
        assert "steps must be a whole number from 1 to 50" in reply["message"]
        reply = ask(sock, {"type": "weight", "layer": 9, "neuron": 1, "source": 1})
        assert "layer must be a whole number from 1 to 2" in reply["message"]
        assert ask(sock, {"type": "train", "steps": 2})["step"] == 2


def test_diverging_training_is_refused_not_corrupted(playground):
    with playground.socket() as sock:
        ask(sock, {"type": "configure", "settings": {
            "dataset": "sine", "activation": "relu", "lr": 10, "samples": 40, "hidden": "16,16"}})
        for _ in range(30):
            reply = ask(sock, {"type": "train", "steps": 50})
            if reply["type"] == "error":
                break
        assert reply["type"] == "error", "lr 10 on sine should diverge"
        assert "the training diverged" in reply["message"] and "Reset" in reply["message"]
        # Every weight is still a finite number (nothing half-updated): it saves.
        state = ask(sock, {"type": "save"})["state"]
        weights = [x for layer in state["model"]["layers"] for row in layer["weights"]
                   for x in row]
        assert all(abs(x) < float("inf") for x in weights)
        assert ask(sock, {"type": "configure", "settings": {"samples": 20}})["type"] == "setup"


def test_session_limit_and_closed_sockets_free_their_sessions(playground):
    from playground.server import MAX_SESSIONS
    assert playground.status()["sessions"] == 0
    with contextlib.ExitStack() as stack:
        socks = [stack.enter_context(playground.socket()) for _ in range(MAX_SESSIONS)]
        for sock in socks[:3]:
            assert ask(sock, {"type": "configure", "settings": {"samples": 20}})["type"] == "setup"
        assert playground.status()["sessions"] == MAX_SESSIONS
        with playground.socket() as extra:
            reply = json.loads(extra.recv(timeout=30))
            assert reply["fatal"] and f"{MAX_SESSIONS} playground tabs are open" in reply["message"]
    deadline = time.monotonic() + 10
    while playground.status()["sessions"] and time.monotonic() < deadline:
        time.sleep(0.1)
    assert playground.status()["sessions"] == 0


# ------------------------------------------------------------- the command
def test_ctrl_c_stops_cleanly():
    server = Playground()
    with server.socket() as sock:
        ask(sock, {"type": "configure", "settings": {"samples": 20}})
    status, out, err = server.stop()
    assert status == 0, err
    assert "stopped" in out
    assert "Traceback" not in err


def test_other_host_warns_and_still_needs_the_token(tmp_path):
    process = subprocess.Popen(
        [sys.executable, "-m", "chainrule", "playground", "--host", "0.0.0.0", "--port", "0",
         "--no-browser"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        line = process.stdout.readline()
        while "http://" not in line:
            line = process.stdout.readline()
        port = int(re.search(r":(\d+)/", line).group(1))
        deadline = time.monotonic() + 30
        while True:
            try:
                response = httpx.get(f"http://127.0.0.1:{port}/")
                break
            except httpx.TransportError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)
        assert response.status_code == 403
    finally:
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=30)
    assert "warning: listening on 0.0.0.0" in err
    assert process.returncode == 0


def test_port_in_use_is_one_clear_line(playground):
    from tests.helpers import run_cli
    status, out, err = run_cli(["playground", "--port", str(playground.port), "--no-browser"])
    assert status == 2
    assert err.startswith(f"chainrule: error: cannot listen on 127.0.0.1:{playground.port}")
    assert "choose another --port" in err
    assert len(err.strip().splitlines()) == 1


def test_missing_extra_is_one_clear_line(monkeypatch):
    from tests.helpers import run_cli
    monkeypatch.setitem(sys.modules, "uvicorn", None)  # as if not installed
    status, out, err = run_cli(["playground", "--no-browser"])
    assert status == 2
    assert err == ("chainrule: error: the playground needs Starlette and uvicorn (uvicorn is "
                   "missing); install them with: pip install 'chainrule[playground]'\n")
    assert out == ""
