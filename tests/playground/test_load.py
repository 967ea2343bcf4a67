"""Load: 20 tabs train at once for 30 s against one playground server on loopback.

Each simulated tab is a websocket client doing what the page does while playing (one
"train" request after another, each answered by a frame). Afterwards: no error reply,
no session left, and the server's memory back within 10% of its baseline.

The baseline is taken after a warm-up round of the same 20 tabs (10 s of training):
the first burst of tabs raises a fresh server's memory once (imports, caches, the
allocator's arenas for the worker threads), and after that it returns to the same level
however often tabs come and go; so the check is that the 30 s run leaves nothing
behind. The fresh server's figure is recorded too. Bounded: 20 clients, 30 s of
training, 120 s for any single reply.
"""

import json
import threading
import time

import pytest

from tests.playground.test_server import Playground, ask

try:
    import sklearn  # noqa: F401 (the digits extra: the images)
    DIGITS = True
except ImportError:
    DIGITS = False

TABS = 20
SECONDS = 30
WARM_UP = 10  # seconds of the warm-up round
FIGURES = "/tmp/playground_load_figures.json"


def settle(server, timeout=30):
    """Wait until no session is left and the memory stops shrinking."""
    deadline = time.monotonic() + timeout
    while server.status()["sessions"] and time.monotonic() < deadline:
        time.sleep(0.2)
    time.sleep(2)
    return server.rss_kib()


def tab(server, index, results, seconds=SECONDS, first_steps=1):
    # Tabs train moons full-batch, moons on mini-batches of 20, and (with the digits
    # extra) every fourth tab digits: 64 inputs, 10 classes, 500 images.
    if index % 4 == 3 and DIGITS:
        settings = {"seed": index, "dataset": "digits", "samples": 500}
    elif index % 2 == 0:
        settings = {"seed": index}
    else:
        settings = {"seed": index, "batch_size": 20}
    frames, errors = 0, []
    try:
        with server.socket() as sock:
            reply = ask(sock, {"type": "configure", "settings": settings})
            if reply["type"] != "setup":
                errors.append(reply)
            stop = time.monotonic() + seconds
            steps = first_steps
            while time.monotonic() < stop:
                reply = ask(sock, {"type": "train", "steps": steps})
                steps = 1
                if reply["type"] != "frame":
                    errors.append(reply)
                    break
                frames += 1
    except Exception as error:  # a dropped connection is an error of the test's subject
        errors.append(repr(error))
    results[index] = (frames, errors, reply.get("loss") if isinstance(reply, dict) else None)


def test_twenty_tabs_train_at_once():
    server = Playground()
    try:
        with server.socket() as sock:  # warm-up: every module and cache loaded
            ask(sock, {"type": "configure", "settings": {}})
            ask(sock, {"type": "train", "steps": 3})
            ask(sock, {"type": "weight", "layer": 1, "neuron": 1, "source": 1})
            ask(sock, {"type": "expression", "text": "x*y", "values": "x=1 y=2"})
        fresh = settle(server)
        warm_up = {}
        # The warm-up takes every path the run will (full and mini-batches, several
        # steps in one request), so the baseline holds what the run needs.
        threads = [threading.Thread(target=tab, args=(server, i, warm_up, WARM_UP, 3))
                   for i in range(TABS)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert all(not errs for _, errs, _ in warm_up.values()), warm_up
        baseline = settle(server)
        results = {}
        threads = [threading.Thread(target=tab, args=(server, i, results)) for i in range(TABS)]
        started = time.monotonic()
        peak = baseline
        for t in threads:
            t.start()
        while any(t.is_alive() for t in threads):
            peak = max(peak, server.rss_kib())
            if server.status()["sessions"] > TABS:
                pytest.fail("more sessions than tabs")
            time.sleep(1)
            assert time.monotonic() - started < SECONDS + 300, "the load test ran away"
        for t in threads:
            t.join()
        after = settle(server)
        errors = [e for frames, errs, _ in results.values() for e in errs]
        frames = [results[i][0] for i in range(TABS)]
        figures = {"tabs": TABS, "digits_tabs": sum(1 for i in range(TABS) if i % 4 == 3 and DIGITS),
                   "seconds": SECONDS, "frames_total": sum(frames),
                   "frames_per_tab_min": min(frames), "frames_per_tab_max": max(frames),
                   "rss_fresh_mib": round(fresh / 1024, 1),
                   "rss_baseline_mib": round(baseline / 1024, 1),
                   "rss_peak_mib": round(peak / 1024, 1),
                   "rss_after_mib": round(after / 1024, 1),
                   "sessions_after": server.status()["sessions"], "errors": len(errors)}
        with open(FIGURES, "w") as f:
            json.dump(figures, f, indent=1)
        print("\nplayground load test:", figures)
        assert errors == []
        assert len(results) == TABS and min(frames) >= 1
        assert figures["sessions_after"] == 0
        assert after <= 1.10 * baseline, figures
    finally:
        status, _, err = server.stop()
    assert status == 0, err
