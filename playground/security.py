"""Who may talk to the playground: the token, the Host header and the Origin header.

A pure ASGI middleware in front of every route, HTTP and websocket alike:
- the token (from the URL's ?token=, an `Authorization: token ...` header, or the
  cookie the page gets when it is opened with the token) must match;
- the Host header must name this server by an IP address, localhost or the --host
  given, with its port: a DNS-rebinding page reaches us under its own domain name,
  which is refused;
- an Origin header, when the browser sends one, must be the page's own address
  (http:// plus that Host), so a page on another site can neither post to it nor open
  its websocket.
Refusals are a 403 with a one-line reason; nothing behind the middleware runs.
"""

from __future__ import annotations

import ipaddress
import secrets
from http.cookies import SimpleCookie
from urllib.parse import parse_qs

__all__ = ["Guard", "cookie_name"]


def cookie_name(port: int) -> str:
    # Cookies ignore ports: two playgrounds on one machine must not share one.
    return f"chainrule-playground-{port}"


class Guard:
    def __init__(self, app, token: str, host: str, port: int):
        self.app = app
        self.token = token
        self.port = port
        self.names = {"localhost", host.lower()}
        self.cookie = cookie_name(port)

    def _is_ours(self, host_header):
        """Host: our port, and a name no attacker's DNS can stand behind."""
        name, _, port = host_header.rpartition(":")
        if not name or port != str(self.port):
            return False
        if name.startswith("[") and name.endswith("]"):
            name = name[1:-1]
        if name.lower() in self.names:
            return True
        try:
            ipaddress.ip_address(name)
            return True
        except ValueError:
            return False

    async def __call__(self, scope, receive, send):
        if scope["type"] not in ("http", "websocket"):
            return await self.app(scope, receive, send)
        problem = self.check(scope)
        if problem is None:
            return await self.app(scope, receive, send)
        if scope["type"] == "websocket":
            # Closing before accepting makes the server answer the handshake with 403.
            await receive()  # websocket.connect
            await send({"type": "websocket.close", "code": 1008, "reason": problem[:120]})
            return
        body = f"chainrule playground: refused: {problem}\n".encode()
        await send({"type": "http.response.start", "status": 403,
                    "headers": [(b"content-type", b"text/plain; charset=utf-8"),
                                (b"content-length", str(len(body)).encode())]})
        await send({"type": "http.response.body", "body": body})

    def check(self, scope):
        """None if the request may pass, else why not."""
        headers = {}
        for key, value in scope.get("headers", []):
            headers.setdefault(key.decode("latin-1").lower(), value.decode("latin-1"))
        host = headers.get("host", "")
        if not self._is_ours(host):
            return (f"the Host header {host!r} is not this server; open the address "
                    "that `chainrule playground` printed")
        origin = headers.get("origin")
        if origin is not None and origin != f"http://{host}":
            return f"requests from the page {origin!r} are not allowed (another site)"
        if not self._has_token(scope, headers):
            return ("this address needs the access token; open the full address "
                    "(with ?token=...) that `chainrule playground` printed")
        return None

    def _has_token(self, scope, headers):
        given = []
        query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
        given += query.get("token", [])
        auth = headers.get("authorization", "")
        if auth.lower().startswith("token "):
            given.append(auth[6:].strip())
        if "cookie" in headers:
            cookies = SimpleCookie()
            try:
                cookies.load(headers["cookie"])
            except Exception:  # a malformed cookie header is just no token
                cookies = {}
            if self.cookie in cookies:
                given.append(cookies[self.cookie].value)
        return any(secrets.compare_digest(g.encode(), self.token.encode()) for g in given)
