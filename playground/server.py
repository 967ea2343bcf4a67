"""The playground's web app: the page, its static files, and one websocket per tab.

Each browser tab opens one websocket; the connection *is* the tab's session (its network
and expression), so a closed tab frees its session the moment the socket closes. The
page sends one JSON request at a time and gets one JSON reply; a bad request gets an
{"type": "error"} reply with a clear message and the connection stays open. The heavy
work (training, pictures, derivations) runs in a worker thread so that other tabs and
the page's files are served meanwhile.
"""

from __future__ import annotations

import ctypes
import gc
import json
import sys
import logging
from importlib import resources

from starlette.applications import Starlette
import anyio
from starlette.responses import JSONResponse, Response
from starlette.routing import Route, WebSocketRoute
from starlette.websockets import WebSocket, WebSocketDisconnect

from .expression import ExpressionProblem, evaluate, quiz_page
from .network import LIMITS, NetworkSession, SettingsError
from .security import Guard, cookie_name

__all__ = ["create_app", "MAX_SESSIONS", "MAX_MESSAGE"]

MAX_SESSIONS = 32          # open tabs at once; the load test runs 20
MAX_MESSAGE = 256 * 1024   # characters in one request (a saved state is a few kB)
# Worker threads for the tabs' computations. Pure Python holds the GIL, so more threads
# would not compute faster; they would only starve the event loop that serves pages.
COMPUTE_THREADS = 2
NETWORK_REQUESTS = ("train", "frame", "weight", "neuron", "save")
STATIC = {"playground.js": "text/javascript", "playground.css": "text/css"}
log = logging.getLogger("chainrule.playground")


def _release_memory():
    """Give a closed tab's memory back to the system, so a server left running for a
    term does not grow: collect reference cycles now (compiled graphs hold some), then
    ask glibc to return the free pages of every malloc arena (the worker threads' arenas
    keep them otherwise). Elsewhere than glibc the second part is skipped."""
    gc.collect()
    if _LIBC is not None:
        _LIBC.malloc_trim(0)


def _find_libc():
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL("libc.so.6")
        return libc if hasattr(libc, "malloc_trim") else None
    except OSError:  # musl or another C library without it
        return None


_LIBC = _find_libc()


def _static(name):
    return resources.files("playground").joinpath("static", name).read_text("utf-8")


class Tab:
    """One tab's session: its network (None until configured) and nothing else."""

    def __init__(self):
        self.network = None

    def handle(self, request) -> dict:
        """Answer one request (runs in a worker thread)."""
        if not isinstance(request, dict) or not isinstance(request.get("type"), str):
            raise SettingsError('a request must be a JSON object with a "type"')
        kind = request["type"]
        if kind == "expression":
            return evaluate(request.get("text", ""), request.get("values", ""))
        if kind == "quiz":
            return quiz_page(request.get("text", ""), request.get("values", ""),
                             request.get("digits", 4))
        if kind in ("configure", "load"):
            self.network = (NetworkSession(request.get("settings")) if kind == "configure"
                            else NetworkSession.from_state(request.get("state")))
            return dict(self.network.setup(), frame=self.network.picture())
        if kind not in NETWORK_REQUESTS:
            raise SettingsError(f"unknown request type {kind!r}; the types are expression, "
                                f"quiz, configure, load, {', '.join(NETWORK_REQUESTS)}")
        if self.network is None:
            raise SettingsError(f"{kind}: there is no network yet; send configure first")
        try:
            if kind == "train":
                self.network.train(request.get("steps", 1))
                return self.network.picture()
            if kind == "frame":
                return self.network.picture()
            if kind == "weight":
                return self.network.weight_derivation(
                    request.get("layer"), request.get("neuron"), request.get("source"))
            if kind == "neuron":
                return self.network.neuron_derivation(
                    request.get("layer"), request.get("neuron"), request.get("sample", 0))
        except ArithmeticError as error:  # the engine or SGD refused a non-finite number
            raise SettingsError(f"the training diverged ({error}); use a smaller learning "
                                "rate and press Reset") from None
        return {"type": "state", "state": self.network.state()}  # save


def _reply(tab, text):
    """The JSON text answering one request text; errors become error replies."""
    request_id = None
    try:
        if len(text) > MAX_MESSAGE:
            raise SettingsError(f"the request is {len(text)} characters; the limit is "
                                f"{MAX_MESSAGE}")
        try:
            request = json.loads(text)
        except ValueError:
            raise SettingsError("the request is not valid JSON") from None
        if isinstance(request, dict):
            request_id = request.get("id")
        reply = tab.handle(request)
    except ExpressionProblem as error:
        reply = {"type": "error", "message": str(error), "where": error.where}
    except (SettingsError, ValueError, TypeError, ArithmeticError) as error:
        reply = {"type": "error", "message": str(error)}
    except RecursionError:
        reply = {"type": "error", "message": "the request is nested too deeply"}
    except Exception as error:  # a bug must cost one reply, never the server
        log.exception("playground request failed")
        reply = {"type": "error", "message": f"internal error ({type(error).__name__}: "
                                             f"{error}); please report it"}
    if isinstance(request_id, (int, str)):
        reply["id"] = request_id
    try:
        return json.dumps(reply, allow_nan=False, separators=(",", ":"))
    except ValueError:
        return json.dumps({"type": "error", "id": reply.get("id"),
                           "message": "the result is not a finite number (training "
                                      "diverged?); press Reset"})


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
                reply = await anyio.to_thread.run_sync(_reply, tab, text, limiter=compute)
                await websocket.send_text(reply)
        except WebSocketDisconnect:
            pass
        finally:
            tabs.discard(tab)  # the tab is gone: its session goes with it
            del tab
            await anyio.to_thread.run_sync(_release_memory, limiter=compute)

    app = Starlette(routes=[Route("/", index), Route("/static/{name}", static),
                            Route("/api/status", status), WebSocketRoute("/ws", socket)])
    app.state.tabs = tabs
    return Guard(app, token, host, port)
