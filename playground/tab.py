"""One browser tab's session and the messages it answers: a request in, its reply out.

This is the whole playground apart from how the messages travel. The server
(server.py) hands it the text each tab's websocket receives and sends back the text it
returns; a page that runs Python itself (Pyodide in a Web Worker) can hand it the same
messages and get the same replies. So it imports no web framework, starts no thread and
keeps no state beyond the tab's own.

A request is a JSON object with a "type" (choices, expression, quiz, configure, load,
train, frame, weight, neuron, save) and an optional "id", echoed in the reply so a page can
match replies to requests. Every request gets exactly one reply: a bad request, a
diverging run or a bug becomes an {"type": "error", "message": ...} reply and the tab
carries on. Replies never hold NaN or infinity, which JSON cannot carry.
"""

from __future__ import annotations

import json
import logging

from .expression import ExpressionProblem, evaluate, quiz_page
from .network import NetworkSession, SettingsError, choices

__all__ = ["Tab", "MAX_MESSAGE", "REQUEST_TYPES"]

MAX_MESSAGE = 256 * 1024   # characters in one request (a saved state is a few kB)
NETWORK_REQUESTS = ("train", "frame", "weight", "neuron", "save")
REQUEST_TYPES = ("choices", "expression", "quiz", "configure", "load") + NETWORK_REQUESTS
log = logging.getLogger("chainrule.playground")


class Tab:
    """One tab's session: its network (None until configured) and nothing else."""

    def __init__(self):
        self.network = None

    def reply(self, request) -> dict:
        """The reply to one request (a dict, or its JSON text), never an exception: the
        very message `reply_json` writes, as a dict."""
        return json.loads(self.reply_json(request))

    def reply_json(self, request) -> str:
        """The reply to one request (a dict, or its JSON text), as JSON text; errors
        become error replies. Text is refused beyond MAX_MESSAGE characters."""
        reply = self._reply(request)
        try:
            return json.dumps(reply, allow_nan=False, separators=(",", ":"))
        except ValueError:
            return json.dumps({"type": "error", "id": reply.get("id"),
                               "message": "the result is not a finite number (training "
                                          "diverged?); press Reset"})

    def _reply(self, request) -> dict:
        request_id = None
        try:
            if isinstance(request, str):
                request = _parse(request)
            if isinstance(request, dict):
                request_id = request.get("id")
            reply = self.handle(request)
        except ExpressionProblem as error:
            reply = {"type": "error", "message": str(error), "where": error.where}
        except (SettingsError, ValueError, TypeError, ArithmeticError) as error:
            reply = {"type": "error", "message": str(error)}
        except RecursionError:
            reply = {"type": "error", "message": "the request is nested too deeply"}
        except Exception as error:  # a bug must cost one reply, never the session
            log.exception("playground request failed")
            reply = {"type": "error", "message": f"internal error ({type(error).__name__}: "
                                                 f"{error}); please report it"}
        if isinstance(request_id, (int, str)):
            reply["id"] = request_id
        return reply

    def handle(self, request) -> dict:
        """Answer one request (a dict); raises on a bad one (see `reply` for the message)."""
        if not isinstance(request, dict) or not isinstance(request.get("type"), str):
            raise SettingsError('a request must be a JSON object with a "type"')
        kind = request["type"]
        if kind == "choices":  # the menus' options: the page lists none of its own
            return {"type": "choices", "choices": choices()}
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
            raise SettingsError(f"unknown request type {kind!r}; the types are "
                                f"{', '.join(REQUEST_TYPES)}")
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


def _parse(text):
    """The request a message's text holds; SettingsError if it is too long or not JSON."""
    if len(text) > MAX_MESSAGE:
        raise SettingsError(f"the request is {len(text)} characters; the limit is "
                            f"{MAX_MESSAGE}")
    try:
        return json.loads(text)
    except ValueError:
        raise SettingsError("the request is not valid JSON") from None
