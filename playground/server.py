"""The playground's web app: the page, its static files, and one websocket per tab.

This is only the transport. Each browser tab opens one websocket; the connection *is*
the tab's session (a `tab.Tab`), so a closed tab frees its session the moment the socket
closes. Each message's text goes to `Tab.reply_json` and its answer goes back: what a
request may ask, its checks and its error replies are tab.py's. The heavy work
(training, pictures, derivations) runs in a worker thread so that other tabs and the
page's files are served meanwhile.
"""

from __future__ import annotations

import json
from importlib import resources

from starlette.applications import Starlette
import anyio
from starlette.responses import JSONResponse, Response
from starlette.routing import Route, WebSocketRoute
from starlette.websockets import WebSocket, WebSocketDisconnect

from nn.c_allocator import release_memory

from .network import LIMITS
from .security import Guard, cookie_name
from .tab import Tab

__all__ = ["create_app", "MAX_SESSIONS"]

MAX_SESSIONS = 32          # open tabs at once; the load test runs 20
# Worker threads for the tabs' computations. Pure Python holds the GIL, so more threads
# would not compute faster; they would only starve the event loop that serves pages.
COMPUTE_THREADS = 2
STATIC = {"numbers.js": "text/javascript", "playground.js": "text/javascript",
          "playground.css": "text/css"}


def _static(name):
    return resources.files("playground").joinpath("static", name).read_text("utf-8")


def create_app(token: str, host: str = "127.0.0.1", port: int = 8000):
    """The ASGI app: the page at /, its files, /ws for each tab, /api/status."""
    page = _static("index.html")
    files = {name: _static(name) for name in STATIC}
    tabs = set()
    compute = anyio.CapacityLimiter(COMPUTE_THREADS)

    async def index(request):
        response = Response(page, media_type="text/html; charset=utf-8",
                            headers={"Cache-Control": "no-store"})
        # The page's own files and websocket carry the token as this cookie.
        response.set_cookie(cookie_name(port), token, httponly=True, samesite="strict")
        return response

    async def static(request):
        name = request.path_params["name"]
        if name not in files:
            return Response(f"no such file {name!r}\n", status_code=404,
                            media_type="text/plain")
        return Response(files[name], media_type=STATIC[name])

    async def status(request):
        return JSONResponse({"sessions": len(tabs), "max_sessions": MAX_SESSIONS,
                             "limits": LIMITS})

    async def socket(websocket: WebSocket):
        await websocket.accept()
        if len(tabs) >= MAX_SESSIONS:
            await websocket.send_text(json.dumps({
                "type": "error", "fatal": True,
                "message": f"{MAX_SESSIONS} playground tabs are open already, the most "
                           "this server allows; close one and reload this tab"}))
            await websocket.close(code=1013)
            return
        tab = Tab()
        tabs.add(tab)
        try:
            while True:
                message = await websocket.receive()
                if message["type"] == "websocket.disconnect":
                    break
                text = message.get("text")
                if text is None:
                    text = (message.get("bytes") or b"").decode("utf-8", "replace")
                reply = await anyio.to_thread.run_sync(tab.reply_json, text,
                                                      limiter=compute)
                await websocket.send_text(reply)
        except WebSocketDisconnect:
            pass
        finally:
            tabs.discard(tab)  # the tab is gone: its session goes with it
            del tab  # then give its memory back: a server left running for a term must not grow
            await anyio.to_thread.run_sync(release_memory, limiter=compute)

    app = Starlette(routes=[Route("/", index), Route("/static/{name}", static),
                            Route("/api/status", status), WebSocketRoute("/ws", socket)])
    app.state.tabs = tabs
    return Guard(app, token, host, port)
