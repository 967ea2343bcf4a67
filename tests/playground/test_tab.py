"""The playground's requests and replies without a server: playground.tab, as the
websocket (or a page running Python itself) drives it.

Each request type's reply is compared with what the tab's own parts (the network
session, the expression tab, the quiz page) give for the same request, on a second
session driven step for step; their numbers are checked against torch and the CLI in
test_derivations.py. Then the errors, the id echo, non-finite replies, and that the
module runs with no web framework installed.
"""

import json
import math
import subprocess
import sys

import pytest

from playground.expression import evaluate, quiz_page
from playground.network import NetworkSession
from playground.tab import MAX_MESSAGE, REQUEST_TYPES, Tab

SETTINGS = {"samples": 20, "hidden": "3", "batch_size": 5}


def as_sent(message):
    """A dict as the page receives it (tuples become lists, and so on)."""
    return json.loads(json.dumps(message, allow_nan=False))


def test_every_network_request_is_the_sessions_own_answer():
    tab, twin = Tab(), NetworkSession(SETTINGS)
    reply = tab.reply({"type": "configure", "settings": SETTINGS, "id": 1})
    assert reply == as_sent(dict(twin.setup(), frame=twin.picture(), id=1))
    assert reply["type"] == "setup" and reply["frame"]["type"] == "frame"

    reply = tab.reply({"type": "train", "steps": 3, "id": 2})
    twin.train(3)
    assert reply == as_sent(dict(twin.picture(), id=2)) and reply["step"] == 3

    assert tab.reply({"type": "frame"}) == as_sent(twin.picture())

    reply = tab.reply({"type": "weight", "layer": 2, "neuron": 1, "source": 2})
    assert reply == as_sent(twin.weight_derivation(2, 1, 2)) and reply["type"] == "weight"
    reply = tab.reply({"type": "weight", "layer": 1, "neuron": 3, "source": 0})  # a bias
    assert reply == as_sent(twin.weight_derivation(1, 3, 0))

    reply = tab.reply({"type": "neuron", "layer": 1, "neuron": 2, "sample": 4})
    assert reply == as_sent(twin.neuron_derivation(1, 2, 4)) and reply["type"] == "neuron"
    # the point defaults to the batch's first
    assert tab.reply({"type": "neuron", "layer": 1, "neuron": 2}) \
        == as_sent(twin.neuron_derivation(1, 2, 0))

    saved = tab.reply({"type": "save"})
    assert saved == {"type": "state", "state": as_sent(twin.state())}

    # load: a new tab goes on from the saved state exactly as the saved one does
    other = Tab()
    reply = other.reply({"type": "load", "state": saved["state"]})
    loaded = NetworkSession.from_state(saved["state"])
    assert reply == as_sent(dict(loaded.setup(), frame=loaded.picture()))
    first = tab.reply({"type": "train", "steps": 2})
    second = other.reply({"type": "train", "steps": 2})
    assert first["step"] == second["step"] == 5
    assert first["network"] == second["network"] and first["loss"] == second["loss"]


def test_train_takes_one_step_unless_told():
    tab = Tab()
    tab.reply({"type": "configure", "settings": SETTINGS})
    assert tab.reply({"type": "train"})["step"] == 1


def test_the_expression_tab_and_the_quiz():
    request = {"type": "expression", "text": "sigmoid(w*x + b)",
               "values": "w=-1.2 x=0.5 b=0.1"}
    reply = Tab().reply(request)
    assert reply == as_sent(evaluate(request["text"], request["values"]))
    assert reply["type"] == "expression" and set(reply["gradients"]) == {"w", "x", "b"}

    quiz = Tab().reply({"type": "quiz", "text": "x*y", "values": "x=1 y=2", "digits": 3})
    assert quiz == as_sent(quiz_page("x*y", "x=1 y=2", 3))
    assert quiz["type"] == "quiz" and quiz["digits"] == 3 and "<html" in quiz["page"]
    assert Tab().reply({"type": "quiz", "text": "x*y", "values": "x=1 y=2"})["digits"] == 4


def test_dict_and_text_get_the_same_reply():
    for request in ({"type": "expression", "text": "x*y", "values": "x=2 y=3", "id": "a"},
                    {"type": "train", "id": 7}, {"type": "dance"}):
        by_dict, by_text = Tab().reply(request), Tab().reply(json.dumps(request))
        assert by_dict == by_text
        assert Tab().reply_json(request) == Tab().reply_json(json.dumps(request))
        assert json.loads(Tab().reply_json(request)) == by_dict


ERRORS = [
    ("not json", "the request is not valid JSON"),
    ("[1, 2]", 'a request must be a JSON object with a "type"'),
    ({"text": "x"}, 'a request must be a JSON object with a "type"'),
    ({"type": 3}, 'a request must be a JSON object with a "type"'),
    ({"type": "dance"}, "unknown request type 'dance'; the types are "
                        + ", ".join(REQUEST_TYPES)),
    ({"type": "train"}, "train: there is no network yet; send configure first"),
    ({"type": "frame"}, "frame: there is no network yet"),
    ({"type": "configure", "settings": {"hidden": [8, 9999]}}, "from 1 to 16"),
    ({"type": "configure", "settings": {"colour": "red"}}, "unknown setting 'colour'"),
    ({"type": "configure", "settings": "moons"}, "settings must be a JSON object"),
    ({"type": "load", "state": {"format": "x"}}, "not a saved playground"),
    ({"type": "quiz", "text": "x", "values": "x=1", "digits": 9}, "from 1 to 8"),
    ({"type": "expression", "text": "x" * 301, "values": ""}, "up to 300"),
    ({"type": "expression", "text": "exp(x)", "values": "x=710"},        # overflow
     "cannot compute exp(x): exp: exp(710.0) is too large for a float"),
    ("[" * 100_000 + "]" * 100_000, "nested too deeply"),
    ("x" * (MAX_MESSAGE + 1), f"the limit is {MAX_MESSAGE}"),
]


@pytest.mark.parametrize("request_, message", ERRORS)
def test_a_bad_request_gets_an_error_reply(request_, message):
    reply = Tab().reply(request_)
    assert reply["type"] == "error" and message in reply["message"], reply
    assert "internal error" not in reply["message"]


def test_an_expression_error_says_where():
    reply = Tab().reply({"type": "expression", "text": "x + * y", "values": "x=1 y=2"})
    assert reply["type"] == "error" and "malformed" in reply["message"]
    assert "^" in reply["where"]
    reply = Tab().reply({"type": "expression", "text": "log(x)", "values": "x=0"})
    assert reply["type"] == "error" and "log" in reply["message"]


def test_errors_keep_the_session():
    tab = Tab()
    tab.reply({"type": "configure", "settings": SETTINGS})
    tab.reply({"type": "train", "steps": 2})
    assert "from 1 to 50" in tab.reply({"type": "train", "steps": 51})["message"]
    assert "layer must be a whole number from 1 to 2" in tab.reply(
        {"type": "weight", "layer": 9, "neuron": 1, "source": 1})["message"]
    assert tab.reply({"type": "configure", "settings": {"hidden": [99]}})["type"] == "error"
    assert tab.reply({"type": "train"})["step"] == 3  # the same network went on


def test_a_diverging_step_is_refused_with_reset(monkeypatch):
    tab = Tab()
    tab.reply({"type": "configure", "settings": SETTINGS})

    def diverges(steps):
        raise OverflowError("exp of 1000")
    monkeypatch.setattr(tab.network, "train", diverges)
    reply = tab.reply({"type": "train", "id": 5})
    assert reply["type"] == "error" and reply["id"] == 5
    assert reply["message"] == ("the training diverged (exp of 1000); use a smaller "
                                "learning rate and press Reset")


def test_a_bug_costs_one_reply_not_the_tab(monkeypatch, caplog):
    tab = Tab()
    tab.reply({"type": "configure", "settings": SETTINGS})

    def broken():
        raise KeyError("oops")
    monkeypatch.setattr(tab.network, "picture", broken)
    reply = tab.reply({"type": "frame", "id": 9})
    assert reply == {"type": "error", "id": 9,
                     "message": "internal error (KeyError: 'oops'); please report it"}
    assert "playground request failed" in caplog.text
    monkeypatch.undo()
    assert tab.reply({"type": "frame"})["type"] == "frame"


@pytest.mark.parametrize("request_id", [0, 12, "a", "", "req-7"])
def test_the_id_comes_back_on_every_reply(request_id):
    tab = Tab()
    for request in ({"type": "expression", "text": "x*y", "values": "x=2 y=3"},
                    {"type": "train"},                                   # an error
                    {"type": "configure", "settings": SETTINGS},
                    {"type": "save"}):
        reply = tab.reply(dict(request, id=request_id))
        assert reply["id"] == request_id, reply
        assert json.loads(tab.reply_json(json.dumps(dict(request, id=request_id))))["id"] \
            == request_id


@pytest.mark.parametrize("request_id", [None, 1.5, [1], {"a": 1}])
def test_only_a_number_or_text_id_comes_back(request_id):
    reply = Tab().reply({"type": "expression", "text": "x", "values": "x=1",
                         "id": request_id})
    assert reply["type"] == "expression" and "id" not in reply


def test_no_id_without_a_request_to_read_it_from():
    assert "id" not in Tab().reply('{"id": 3, "type": ')  # not JSON: no id to echo


def test_non_finite_numbers_never_reach_the_page(monkeypatch):
    tab = Tab()
    tab.reply({"type": "configure", "settings": SETTINGS})
    for bad in (math.inf, -math.inf, math.nan):
        frame = dict(tab.network.picture(), loss=bad)
        monkeypatch.setattr(tab.network, "picture", lambda frame=frame: frame)
        text = tab.reply_json({"type": "frame", "id": 4})
        reply = json.loads(text, parse_constant=lambda word: pytest.fail(f"{word} sent"))
        assert reply == {"type": "error", "id": 4,
                         "message": "the result is not a finite number (training "
                                    "diverged?); press Reset"}
        assert tab.reply({"type": "frame"})["type"] == "error"


def test_it_needs_no_web_framework():
    """A page running Python itself has no Starlette, anyio or uvicorn: the tab works
    without them (they are blocked here, as if not installed)."""
    program = (
        "import sys, json\n"
        "for name in ('starlette', 'anyio', 'uvicorn', 'websockets'):\n"
        "    sys.modules[name] = None  # importing it now fails\n"
        "from playground.tab import Tab\n"
        "tab = Tab()\n"
        "print(tab.reply_json(json.dumps({'type': 'expression', 'text': 'x*y',\n"
        "                                 'values': 'x=2 y=3', 'id': 1})))\n"
        "print(tab.reply_json({'type': 'configure',\n"
        "                      'settings': {'samples': 10, 'hidden': '2'}}))\n")
    proc = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 0, proc.stderr
    expression, setup = map(json.loads, proc.stdout.splitlines())
    assert expression["value"] == 6 and expression["id"] == 1
    assert setup["type"] == "setup"
