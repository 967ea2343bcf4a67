"""The playground in headless Chromium against the real server (`chainrule playground`
on a free loopback port, stopped by the fixture): Play trains and the pictures change,
clicking a weight or a neuron shows a derivation whose numbers are the engine's, the
expression tab shows the CLI's steps, URL parameters fix and hide settings, state saves
and loads, each tab has its own session and a closed tab frees it.

Skipped when chromium or chromedriver is missing, except on CI (CI=true).
"""

import json
import math
import os
import time

import pytest

from autograd_core import paused_gc
from nn import SGD
from nn.datasets import load_dataset
from nn.loss_table import LOSSES
from nn.trainer import build_model
from nn.training_config import TrainConfig

from tests.visualize.test_step_through_browser import _need_browser
from tests.playground.test_server import Playground, playground  # noqa: F401 (fixture)
from tests.helpers import torch_or_skip

# Where the screenshot (docs/playground.png is one) and the measured figures go; several
# checkouts on one machine each set their own.
SCREENSHOT = os.environ.get("PLAYGROUND_SCREENSHOT", "/tmp/playground.png")
FIGURES = os.environ.get("PLAYGROUND_FIGURES", "/tmp/playground_browser_figures.json")


@pytest.fixture(scope="module")
def driver(tmp_path_factory):
    _need_browser()
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    downloads = tmp_path_factory.mktemp("downloads")
    options = webdriver.ChromeOptions()
    options.binary_location = "/usr/bin/chromium"
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--disable-background-networking", "--disable-component-update",
                "--disable-sync", "--no-first-run", "--window-size=1400,1250",
                "--disable-renderer-backgrounding", "--disable-background-timer-throttling",
                f"--user-data-dir={tmp_path_factory.mktemp('chromium-profile')}"):
        options.add_argument(arg)
    options.add_experimental_option("prefs", {"download.default_directory": str(downloads),
                                              "download.prompt_for_download": False})
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    browser = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
    browser.downloads = downloads
    try:
        yield browser
    finally:
        browser.quit()


def wait(driver, condition, timeout=90, message=""):
    from selenium.webdriver.support.ui import WebDriverWait
    return WebDriverWait(driver, timeout, poll_frequency=0.1).until(condition, message)


def open_page(driver, playground, extra=""):
    driver.get(playground.url + extra)
    wait(driver, lambda d: d.execute_script(
        "return document.body.getAttribute('data-ready') === 'true'"), message="page not ready")


def button(driver, name):
    """The button whose accessible name is `name`, as a screen reader finds it."""
    found = driver.find_elements("css selector", f'button[aria-label="{name}"]')
    assert len(found) == 1, f"no single button named {name!r}"
    return found[0]


def text(driver, element_id):
    return driver.find_element("id", element_id).text


def js(driver, script, *args):
    return driver.execute_script(script, *args)


def press_enter_on(driver, selector):
    """Focus an SVG element and press Enter: the keyboard path a click also takes."""
    from selenium.webdriver.common.keys import Keys
    # Each frame redraws the picture: let a frame still in flight land first.
    wait(driver, lambda d: not d.execute_script("return window.playground.busy"))
    element = driver.find_element("css selector", selector)
    js(driver, "arguments[0].focus()", element)
    element.send_keys(Keys.ENTER)
    return element


def engine_gradient(steps, layer, neuron, source, **settings):
    """The engine's own dC/dw after `steps - 1` SGD updates (the gradient the last of
    `steps` steps used), full batch, built here from nn and the dataset directly."""
    config = TrainConfig(**settings).resolved()
    X, y = load_dataset(config.dataset, n=config.samples, noise=config.noise, seed=config.seed)
    model = build_model(config, len(X[0]))
    optimizer = SGD(model.parameters(), config.lr)
    for step in range(steps):
        model.zero_grad()
        with paused_gc():
            loss = LOSSES[config.loss].function([[model(x)] for x in X], y)
            loss.backward()
        if step < steps - 1:
            optimizer.step()
    target = model.layers[layer - 1].neurons[neuron - 1]
    return (target.b if source == 0 else target.w[source - 1]).grad, model


def test_refused_without_the_token(driver, playground):
    driver.get(playground.base + "/")
    assert "access token" in driver.find_element("tag name", "body").text


def test_play_trains_and_the_pictures_change(driver, playground):
    open_page(driver, playground)
    assert text(driver, "step-count") == "0"
    first_loss = float(text(driver, "loss-value"))
    first_picture = js(driver, "return document.getElementById('boundary').toDataURL()")
    first_field = js(driver, "return window.playground.frame.field.values")
    # Frame rate in the browser from the first step (frames the page drew, counted
    # in the page): the first 5 s after Play, and 10 s later on.
    js(driver, "window.playground.frames_drawn = 0")
    button(driver, "Play").click()
    started = time.monotonic()
    assert button(driver, "Pause").get_attribute("aria-pressed") == "true"
    time.sleep(5)
    first_five = js(driver, "return window.playground.frames_drawn")
    time.sleep(5)
    t0, n0 = time.monotonic(), js(driver, "return window.playground.frames_drawn")
    time.sleep(10)
    t1, n1 = time.monotonic(), js(driver, "return window.playground.frames_drawn")
    fps_first, fps = first_five / 5, (n1 - n0) / (t1 - t0)
    wait(driver, lambda d: float(text(d, "loss-value")) < 0.8 * first_loss,
         message="the loss did not fall")
    button(driver, "Pause").click()
    assert button(driver, "Play").get_attribute("aria-pressed") == "false"
    wait(driver, lambda d: not d.execute_script("return window.playground.busy"))  # in flight
    steps = int(text(driver, "step-count"))
    time.sleep(1)
    assert int(text(driver, "step-count")) == steps  # paused means paused
    assert js(driver, "return document.getElementById('boundary').toDataURL()") != first_picture
    field = js(driver, "return window.playground.frame.field.values")
    assert max(abs(a - b) for a, b in zip(field, first_field)) > 0.05
    history = js(driver, "return window.playground.history")
    assert history[-1][1] < history[0][1]
    accuracy = text(driver, "accuracy-value")
    assert accuracy.endswith("%") and 0 <= float(accuracy[:-1]) <= 100
    assert first_five > 0 and fps > 0
    with open(FIGURES, "w") as f:
        json.dump({"frames_first_5_s": first_five, "frames_per_second_first_5_s": fps_first,
                   "frames_per_second_10_s_later": round(fps, 1),
                   "frames_10_s_later": n1 - n0, "steps": steps,
                   "loss": [first_loss, float(text(driver, "loss-value"))]}, f)
    print(f"\nplayground frame rate in Chromium (MLP 2-8-8-1, 200 points): "
          f"{first_five} frames in the first 5 s ({fps_first:.1f}/s), {n1 - n0} in 10 s "
          f"from {t0 - started:.0f} s ({fps:.1f}/s)")


def test_clicked_weight_shows_the_engines_numbers(driver, playground):
    open_page(driver, playground)
    for _ in range(3):
        button(driver, "Step").click()
        wait(driver, lambda d, n=_ + 1: text(d, "step-count") == str(n))
    press_enter_on(driver, 'line.weight[data-layer="2"][data-neuron="3"][data-source="4"]')
    wait(driver, lambda d: d.find_elements("id", "derivation-grad"))
    grad, _ = engine_gradient(3, 2, 3, 4)
    shown_sum = float(driver.find_element("id", "derivation-sum").get_attribute("data-value"))
    shown_grad = float(driver.find_element("id", "derivation-grad").get_attribute("data-value"))
    assert math.isclose(shown_grad, grad, rel_tol=1e-9, abs_tol=1e-15)
    assert math.isclose(shown_sum, grad, rel_tol=1e-9, abs_tol=1e-15)
    heading = driver.find_element("css selector", "#weight-derivation h2").text
    assert heading.startswith("dC/dw for L2.h3.w4")
    rows = driver.find_elements("css selector", "#weight-rows tr")[1:]
    assert len(rows) == 12
    for row in rows:
        point, o, delta, product = (float(td.get_attribute("data-value"))
                                    for td in row.find_elements("tag name", "td"))
        assert product == o * delta
    assert "… and 188 more points." in driver.find_element("id", "weight-derivation").text
    # The bias: o_i is 1 for every point.
    press_enter_on(driver, 'rect.bias[data-layer="1"][data-neuron="2"]')
    # read in one script: the box is replaced when the reply lands (no stale element)
    wait(driver, lambda d: "L1.h2.b" in d.execute_script(
        "var h = document.querySelector('#derivation h2'); return h ? h.textContent : ''"))
    grad, _ = engine_gradient(3, 1, 2, 0)
    shown = float(driver.find_element("id", "derivation-grad").get_attribute("data-value"))
    assert math.isclose(shown, grad, rel_tol=1e-9, abs_tol=1e-15)


def test_clicked_neuron_shows_its_delta(driver, playground):
    torch_or_skip()
    from tests.playground.test_derivations import torch_pass
    from playground.network import NetworkSession

    open_page(driver, playground)
    button(driver, "Step").click()
    wait(driver, lambda d: text(d, "step-count") == "1")
    press_enter_on(driver, 'circle.neuron[data-layer="1"][data-neuron="5"]')
    wait(driver, lambda d: d.find_elements("id", "neuron-delta"))
    shown = float(driver.find_element("id", "neuron-delta").get_attribute("data-value"))
    _, model = engine_gradient(1, 1, 1, 1)  # the initial weights: the step's own
    session = NetworkSession({})
    weights = [p.data for p in model.parameters()]
    nets, _, _, _ = torch_pass(session, weights, list(range(200)))
    # One point's delta; torch's is of the batch's mean cost: 1/200 of it.
    assert math.isclose(shown / 200, nets[0].grad[0, 4].item(), rel_tol=1e-9, abs_tol=1e-15)
    assert driver.find_element("id", "neuron-delta").text.startswith("delta_L1.h5 = ")
    # The hidden rule names the 8 neurons of layer 2 it feeds, weight by weight.
    line = driver.find_element("id", "neuron-delta").text
    assert all(f"L2.h{k}.w5 * delta_L2.h{k}" in line for k in range(1, 9))


def test_expression_tab(driver, playground):
    from selenium.webdriver.common.keys import Keys
    from tests.helpers import run_cli
    open_page(driver, playground)
    driver.find_element("id", "tab-expression").click()
    assert driver.find_element("id", "panel-network").get_attribute("hidden") is not None
    box = driver.find_element("id", "expr-text")
    box.clear()
    box.send_keys("x*y + exp(x)")
    values = driver.find_element("id", "expr-values")
    values.clear()
    values.send_keys("x=1 y=2" + Keys.ENTER)
    wait(driver, lambda d: "x*y + exp(x)" in d.execute_script(
        "return window.playground.expression && window.playground.expression.text"))
    grads = [float(li.get_attribute("data-value"))
             for li in driver.find_elements("css selector", "#expr-gradients li")]
    assert math.isclose(grads[0], 2 + math.e, rel_tol=1e-12)  # d/dx = y + exp(x)
    assert math.isclose(grads[1], 1.0, rel_tol=1e-12)          # d/dy = x
    status, out, _ = run_cli(["grad", "x*y + exp(x)", "x=1", "y=2"])
    cli = [line.split(". ", 1)[1] for line in out.splitlines() if ". d" in line]
    assert text(driver, "expr-counter") == f"step 0 / {len(cli)}"
    for k, line in enumerate(cli, 1):
        button(driver, "Next step").click()
        assert text(driver, "expr-counter") == f"step {k} / {len(cli)}"
        assert driver.find_element("id", "expr-line").get_attribute("textContent") == line
        assert len(driver.find_elements("css selector", "#expr-graph line.edge.active")) == 1
    assert button(driver, "Next step").get_attribute("disabled") is not None
    box.clear()
    box.send_keys("log(x)")
    values.clear()
    values.send_keys("x=0" + Keys.ENTER)
    wait(driver, lambda d: d.find_element("id", "expr-error").is_displayed())
    assert "log" in text(driver, "expr-error")


def test_url_parameters_fix_and_hide_settings(driver, playground):
    open_page(driver, playground, "&dataset=xor&hidden=4&lr=0.5&hide=dataset,hidden,lr")
    settings = js(driver, "return window.playground.data.settings")
    assert settings["dataset"] == "xor" and settings["hidden"] == [4] and settings["lr"] == 0.5
    for name in ("dataset", "hidden", "lr"):
        label = driver.find_element("css selector", f'label[data-control="{name}"]')
        assert not label.is_displayed()
    assert driver.find_element("css selector", 'label[data-control="seed"]').is_displayed()
    net = js(driver, "return window.playground.frame.network")
    assert [len(l["neurons"]) for l in net["layers"]] == [4, 1]
    # A bad setting in the URL gets a message in the page, and the page still works.
    open_page(driver, playground, "&hidden=999")
    message = driver.find_element("id", "message")
    assert message.is_displayed() and "from 1 to 16" in message.text
    # A choice the page does not have is said, not silently replaced.
    open_page(driver, playground, "&dataset=mnist")
    message = driver.find_element("id", "message")
    assert message.is_displayed()
    assert "dataset=mnist, which is not one of: moons, xor" in message.text


def test_save_and_load(driver, playground, tmp_path):
    open_page(driver, playground, "&hidden=3&samples=40")
    button(driver, "Step").click()
    wait(driver, lambda d: text(d, "step-count") == "1")
    weights = js(driver, "return window.playground.frame.network")
    driver.find_element("id", "save").click()
    saved = driver.downloads / "playground-step1.json"
    wait(driver, lambda d: saved.exists() and saved.stat().st_size > 0, timeout=30)
    state = json.loads(saved.read_text())
    assert state["format"] == "chainrule-playground" and state["settings"]["hidden"] == [3]
    button(driver, "Reset").click()
    wait(driver, lambda d: text(d, "step-count") == "0")
    assert js(driver, "return window.playground.frame.network") != weights
    driver.find_element("id", "load").send_keys(str(saved))
    wait(driver, lambda d: text(d, "step-count") == "1")
    loaded = js(driver, "return window.playground.frame.network")
    assert [[n["w"] for n in l["neurons"]] for l in loaded["layers"]] == \
        [[n["w"] for n in l["neurons"]] for l in weights["layers"]]
    junk = tmp_path / "junk.json"
    junk.write_text("{not json")
    driver.find_element("id", "load").send_keys(str(junk))
    wait(driver, lambda d: d.find_element("id", "message").is_displayed())
    assert "not a saved playground (not JSON)" in text(driver, "message")


def test_each_tab_has_its_own_session_and_a_closed_tab_frees_it(driver, playground):
    open_page(driver, playground)
    first = driver.current_window_handle
    before = playground.status()["sessions"]
    driver.switch_to.new_window("tab")
    open_page(driver, playground, "&hidden=2")
    assert playground.status()["sessions"] == before + 1
    button(driver, "Step").click()
    wait(driver, lambda d: text(d, "step-count") == "1")
    driver.close()
    driver.switch_to.window(first)
    assert text(driver, "step-count") == "0"  # the other tab's step was its own
    deadline = time.monotonic() + 15
    while playground.status()["sessions"] != before and time.monotonic() < deadline:
        time.sleep(0.1)
    assert playground.status()["sessions"] == before


def test_controls_have_accessible_names(driver, playground):
    open_page(driver, playground)
    unnamed = js(driver, """
        var bad = [];
        document.querySelectorAll('button, input, select').forEach(function (e) {
            var name = e.getAttribute('aria-label') || (e.closest('label') || {}).textContent
                       || e.textContent;
            if (!name || !name.trim()) { bad.push(e.outerHTML); }
        });
        return bad;""")
    assert unnamed == []
    for name in ("Play", "Step", "Reset"):
        assert button(driver, name).text == name


def test_screenshot_and_no_console_errors(driver, playground):
    driver.get_log("browser")  # only this test's messages (the refusal test logs a 403)
    open_page(driver, playground)
    button(driver, "Play").click()
    wait(driver, lambda d: int(text(d, "step-count")) >= 60)
    button(driver, "Pause").click()
    press_enter_on(driver, 'line.weight[data-layer="2"][data-neuron="1"][data-source="2"]')
    wait(driver, lambda d: d.find_elements("id", "derivation-grad"))
    driver.save_screenshot(SCREENSHOT)
    assert os.path.getsize(SCREENSHOT) > 50_000
    severe = [e for e in driver.get_log("browser") if e.get("level") == "SEVERE"
              and "favicon" not in e.get("message", "")]
    assert severe == []
