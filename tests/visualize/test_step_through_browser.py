"""The step-through page in a real browser: headless Chromium driven by selenium.

Each test opens the file:// page, clicks and presses keys like a teacher would, and
compares what is on screen with the engine's own trace_backward, computed here on a
fresh copy of the same graph. Skipped when chromium or chromedriver is missing, except
on CI (CI=true), where a missing browser is a failure.
"""

import math
import os
import shutil

import pytest

import nn
from autograd_core import Value, topological_order
from autograd_core.numbers import format_number
from visualize import explain_backward, step_through_html

from tests.helpers import tensor, torch_or_skip

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"


def _skip_or_fail(reason):
    if os.environ.get("CI") == "true":
        pytest.fail(reason + "; on CI it must be installed", pytrace=False)
    pytest.skip(reason)


def _need_browser():
    missing = [p for p in (CHROMIUM, CHROMEDRIVER) if not os.access(p, os.X_OK)]
    if missing:
        _skip_or_fail(f"browser test needs {' and '.join(missing)} "
                      "(Debian packages chromium and chromium-driver)")
    try:
        import selenium  # noqa: F401
    except ImportError:
        _skip_or_fail("browser test needs selenium (pip install selenium)")


@pytest.fixture(scope="module")
def driver(tmp_path_factory):
    _need_browser()
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--disable-background-networking", "--disable-component-update",
                "--disable-sync", "--no-first-run", "--window-size=1400,900",
                f"--user-data-dir={tmp_path_factory.mktemp('chromium-profile')}"):
        options.add_argument(arg)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    browser = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    try:
        yield browser
    finally:
        browser.quit()


def neuron():
    w, x, b = Value(-1.2, label="w"), Value(0.5, label="x"), Value(0.1, label="b")
    return (w * x + b).sigmoid()


def mlp_output():
    return nn.MLP(2, [2, 1], seed=0)([0.5, -1.0])


def expected_states(build):
    """What the page must show at each step, from the engine on a fresh graph.

    Returns (lines, receiving svg name per step, shown grads per step, root name); the
    grads shown at step k are the root's 1 and every parent's grad after step k.
    """
    root = build()
    order = topological_order(root)
    name = {v: f"v{i}" for i, v in enumerate(order)}
    lines, receivers, states, shown = [], [], [{}], {}
    for step, line in explain_backward(root):
        shown = dict(shown)
        shown[name[root]] = 1.0
        shown[name[step.parent]] = step.parent.grad
        lines.append(line)
        receivers.append((name[step.parent], name[step.node]))
        states.append(shown)
    return lines, receivers, states, [name[v] for v in order]


def open_page(driver, build, folder, name="page.html"):
    path = step_through_html(build(), folder / name)
    driver.get("file://" + os.path.abspath(path))
    return path


def by_id(driver, element_id):
    from selenium.webdriver.common.by import By
    return driver.find_element(By.ID, element_id)


def shown_grads(driver):
    """{svg node name: the text after 'grad ' in its box} for every value node."""
    return driver.execute_script("""
        var out = {};
        document.querySelectorAll('svg g.node[data-name]').forEach(function (g) {
            var t = g.querySelector('text.grad');
            if (t) { out[g.getAttribute('data-name')] = t.textContent; }
        });
        return out;""")


def check_state(driver, k, lines, receivers, states, nodes):
    n = len(lines)
    assert by_id(driver, "step-counter").text == f"step {k} / {n}"
    grads = shown_grads(driver)
    assert set(grads) == set(nodes)
    expected = states[k]
    for node in nodes:
        text = grads[node]
        assert text.startswith("grad ")
        value = text[len("grad "):].strip()
        if node in expected:
            assert value, f"step {k}: {node} should show a grad"
            assert math.isclose(float(value), expected[node], rel_tol=1e-3, abs_tol=1e-12), \
                f"step {k}: {node} shows {value}, engine has {expected[node]}"
            assert value == format_number(expected[node])
        else:
            assert value == "", f"step {k}: {node} should be blank, shows {value!r}"
    if k == 0:
        assert "Forward pass" in by_id(driver, "step-line").text
        assert not driver.find_elements("css selector", "svg .active, svg .receiving")
        return
    assert by_id(driver, "step-line").get_attribute("textContent") == lines[k - 1]
    parent, node = receivers[k - 1]
    highlighted = driver.execute_script("""
        var e = document.querySelector('svg g.edge.active');
        var r = document.querySelector('svg g.node.receiving');
        return [e ? e.getAttribute('data-id') : null,
                r ? r.getAttribute('data-name') : null,
                document.querySelectorAll('svg g.edge.active').length,
                e ? getComputedStyle(e.querySelector('path')).stroke : null];""")
    assert highlighted[:3] == [f"{parent}->{node}_op", parent, 1]
    assert highlighted[3] == "rgb(214, 39, 40)"  # the red that makes the edge obvious


def walk_through(driver, build, folder, screenshot=None):
    lines, receivers, states, nodes = expected_states(build)
    open_page(driver, build, folder)
    check_state(driver, 0, lines, receivers, states, nodes)
    assert by_id(driver, "prev").get_attribute("disabled") is not None
    for k in range(1, len(lines) + 1):
        by_id(driver, "next").click()
        check_state(driver, k, lines, receivers, states, nodes)
        if screenshot and k == (len(lines) + 1) // 2:
            driver.save_screenshot(str(screenshot))
    assert by_id(driver, "next").get_attribute("disabled") is not None
    return lines, receivers, states, nodes


def test_neuron_step_by_step_matches_the_engine(driver, tmp_path):
    shot = tmp_path / "neuron.png"
    lines, receivers, states, nodes = walk_through(driver, neuron, tmp_path, shot)
    assert len(lines) == 5
    assert shot.stat().st_size > 10_000
    shutil.copyfile(shot, "/tmp/step_through.png")
    # After the last step the leaves show torch's float64 gradients (to the 4 digits shown).
    torch = torch_or_skip()
    tw, tx, tb = tensor(-1.2), tensor(0.5), tensor(0.1)
    torch.sigmoid(tw * tx + tb).backward()
    root = neuron()
    order = topological_order(root)
    label_of = {f"v{i}": v.label for i, v in enumerate(order)}
    grads = {label_of[k]: float(v[5:]) for k, v in shown_grads(driver).items() if label_of[k]}
    for label, t in (("w", tw), ("x", tx), ("b", tb)):
        assert math.isclose(grads[label], t.grad.item(), rel_tol=1e-3)


def test_reset_arrow_keys_and_play(driver, tmp_path):
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support.ui import WebDriverWait

    lines, receivers, states, nodes = expected_states(neuron)
    open_page(driver, neuron, tmp_path)
    body = driver.find_element("tag name", "body")
    for _ in range(3):
        by_id(driver, "next").click()
    check_state(driver, 3, lines, receivers, states, nodes)
    by_id(driver, "reset").click()
    check_state(driver, 0, lines, receivers, states, nodes)
    body.send_keys(Keys.ARROW_RIGHT)
    body.send_keys(Keys.ARROW_RIGHT)
    check_state(driver, 2, lines, receivers, states, nodes)
    body.send_keys(Keys.ARROW_LEFT)
    check_state(driver, 1, lines, receivers, states, nodes)
    by_id(driver, "prev").click()
    check_state(driver, 0, lines, receivers, states, nodes)
    body.send_keys(Keys.ARROW_LEFT)  # nothing before step 0
    check_state(driver, 0, lines, receivers, states, nodes)
    for _ in range(len(lines) + 2):  # nor after the last step
        body.send_keys(Keys.ARROW_RIGHT)
    check_state(driver, len(lines), lines, receivers, states, nodes)
    body.send_keys(Keys.HOME)
    check_state(driver, 0, lines, receivers, states, nodes)
    # Play advances on its own; pressing it again pauses.
    play = by_id(driver, "play")
    play.click()
    assert "Pause" in play.text
    WebDriverWait(driver, 10).until(
        lambda d: by_id(d, "step-counter").text != f"step 0 / {len(lines)}")
    play.click()
    assert "Play" in play.text
    k = int(by_id(driver, "step-counter").text.split()[1])
    assert 1 <= k <= len(lines)
    check_state(driver, k, lines, receivers, states, nodes)
    # Clicking a line in the history jumps to that step.
    driver.find_elements("css selector", "#history li")[0].click()
    check_state(driver, 1, lines, receivers, states, nodes)


def test_mlp_step_by_step_matches_the_engine(driver, tmp_path):
    shot = tmp_path / "mlp.png"
    lines, *_ = walk_through(driver, mlp_output, tmp_path, shot)
    assert len(lines) == 14  # no steps into the constant inputs
    assert shot.stat().st_size > 10_000
    # The final grads shown equal backward() on a fresh copy, to the digits shown.
    reference = mlp_output()
    reference.backward()
    order = topological_order(reference)
    shown = shown_grads(driver)
    for i, v in enumerate(order):
        if v.requires_grad:
            assert shown[f"v{i}"] == f"grad {format_number(v.grad)}"
        else:  # a constant input gets no gradient: its field stays blank
            assert shown[f"v{i}"] == "grad "


def test_hostile_label_is_shown_as_text(driver, tmp_path):
    from selenium.common.exceptions import NoAlertPresentException

    hostile = "</script><script>alert(1)</script><img src=x onerror=alert(2)> & \"'"

    def build():
        return Value(2.0, label=hostile) * Value(3.0, label="y")

    open_page(driver, build, tmp_path)
    by_id(driver, "next").click()
    with pytest.raises(NoAlertPresentException):
        driver.switch_to.alert.text
    assert driver.execute_script("return document.querySelectorAll('img').length") == 0
    line = by_id(driver, "step-line").get_attribute("textContent")
    texts = driver.execute_script(
        "return Array.from(document.querySelectorAll('svg text')).map(t => t.textContent)")
    assert line == f"dL/d{hostile} = dL/dL * ∂L/∂{hostile} = 1 * 3 = 3" \
                   f"   [∂L/∂{hostile} = y]"
    assert hostile in texts
    assert driver.title.startswith("The backward pass of L")


def test_no_console_errors(driver, tmp_path):
    open_page(driver, mlp_output, tmp_path)
    by_id(driver, "next").click()
    severe = [e for e in driver.get_log("browser") if e.get("level") == "SEVERE"]
    assert severe == []


# ------------------------------------------- passes (the quiz: tests/student/)

def open_with(driver, build, folder, name, **options):
    path = step_through_html(build(), folder / name, **options)
    driver.get("file://" + os.path.abspath(path))


def test_two_backward_calls_on_the_page(driver, tmp_path):
    def build():
        w, x = Value(2.0, label="w"), Value(3.0, label="x")
        return (w * x * w).tanh()

    root = build()
    order = topological_order(root)
    names = {v: f"v{i}" for i, v in enumerate(order)}
    root.backward()
    once = {names[v]: v.grad for v in order}
    root.backward()
    twice = {names[v]: v.grad for v in order}
    open_with(driver, build, tmp_path, "twice.html", passes=2)
    total = int(by_id(driver, "step-counter").text.split("/")[1])
    for _ in range(total // 2):
        by_id(driver, "next").click()
    shown = shown_grads(driver)
    for v in order:
        assert shown[names[v]] == f"grad {format_number(once[names[v]])}" or not v.parents \
            and v.label == ""
    by_id(driver, "next").click()  # the first step of the second call
    assert "call 2 of 2" in by_id(driver, "pass-counter").text
    assert "zero_grad" in by_id(driver, "step-note").text
    shown = shown_grads(driver)
    for v in order:
        if v.parents and v is not root:
            assert shown[names[v]] in ("grad ", f"grad {format_number(once[names[v]])}")
    for _ in range(total):
        by_id(driver, "next").click()
    shown = shown_grads(driver)
    for v in order:
        if v.label:  # inputs doubled, results as after one call
            assert shown[names[v]] == f"grad {format_number(twice[names[v]])}"
    driver.save_screenshot("/tmp/twice.png")
