"""The playground's Expression-tab quiz and its digits network, in headless Chromium
against the real server (the fixtures of test_browser.py).

The quiz is the step-through page's own, shown in a frame; its marking must agree with
`chainrule quiz` (student.marking.close_enough: the true value rounded to the figures
the student wrote), answer by answer, including an exact binary tie (0.28125 to 4
figures is 0.2812, as Python rounds). The digits network: the held-out digits and the
confusion matrix agree with the frame the server sent, the test accuracy rises while
playing, and a clicked pixel weight shows the derivation with torch's gradient.
"""

import math
import time

import pytest

from autograd_core.numbers import format_number
from student.marking import close_enough, parse_answer
from visualize.explain import narrate

from tests.playground.test_browser import (button, driver, js, open_page, press_enter_on,  # noqa: F401
                                     text, wait)
from tests.playground.test_server import Playground, playground  # noqa: F401 (fixture)
from tests.helpers import torch_or_skip


def quiz_steps(expression, values):
    from autograd_core import expr
    parsed = expr.parse(expression)
    root, _ = expr.build(parsed, expr.parse_assignments(values.split(), parsed))
    return narrate(root).steps


def open_quiz(driver, playground, expression, values, figures=4):
    from urllib.parse import quote
    open_page(driver, playground, f"&tab=expression&quiz=1&figures={figures}"
                                  f"&expr={quote(expression)}&values={quote(values)}")
    frame = driver.find_element("id", "quiz-frame")
    wait(driver, lambda d: frame.is_displayed())
    driver.switch_to.frame(frame)
    wait(driver, lambda d: d.find_element("id", "step-counter").text.endswith(" / "
                                                                            f"{len(quiz_steps(expression, values))}"))


def type_answers(driver, local, grad):
    for element_id, value in (("quiz-local", local), ("quiz-grad", grad)):
        box = driver.find_element("id", element_id)
        box.clear()
        box.send_keys(value)
    driver.find_element("id", "quiz-check").click()
    return [driver.find_element("id", i).get_attribute("class") for i in ("quiz-local", "quiz-grad")]


def candidates(true, digits):
    """Answers a student might type for `true`: rounded to 1..8 figures, one unit off
    in the last figure, full precision, and as a fraction where one is exact."""
    out = {repr(true), format_number(true, digits)}
    for figures in range(1, 9):
        rounded = format(true, f".{figures}g")
        out.add(rounded)
        last = 10.0 ** (math.floor(math.log10(abs(true))) - figures + 1) if true else 1e-9
        for off in (-1, 1):
            out.add(format(float(rounded) + off * last, f".{figures}g"))
    return sorted(out)


@pytest.mark.parametrize("expression, values, figures", [
    ("x*y", "x=1 y=0.28125", 4),                 # an exact tie: 0.2812 right, 0.2813 wrong
    ("sigmoid(w*x + b)", "w=-1.2 x=0.5 b=0.1", 4),
    ("tanh(a*b) + a", "a=0.7 b=-1.3", 2),
])
def test_quiz_marks_as_chainrule_quiz_does(driver, playground, expression, values, figures):
    steps = quiz_steps(expression, values)
    open_quiz(driver, playground, expression, values, figures)
    try:
        assert driver.find_element("id", "quiz-score").text == f"score 0 / {len(steps)}"
        driver.find_element("id", "next").click()
        step = steps[0]
        # the edge's label is the local derivative asked for: hidden until answered
        labels = "return Array.from(document.querySelectorAll('g.edge.active text'))" \
                 ".map(t => getComputedStyle(t).visibility)"
        assert set(driver.execute_script(labels)) == {"hidden"}
        wrong_grad = "12345"
        checked = 0
        for typed in candidates(step.local, figures) + (["9/32", "0.2812", "0.2813"]
                                                        if values.endswith("0.28125") else []):
            expected = close_enough(parse_answer(typed), step.local, figures, text=typed)
            local_class, _ = type_answers(driver, typed, wrong_grad)
            assert local_class == ("right" if expected else "wrong"), (typed, step.local)
            checked += 1
        assert checked >= 10
        if values.endswith("0.28125"):  # the tie itself, as Python rounds it
            assert close_enough(0.2812, 0.28125, 4, text="0.2812")
            assert not close_enough(0.2813, 0.28125, 4, text="0.2813")
        # More figures than asked must all be right: one wrong figure is wrong.
        more = format(step.after, f".{figures + 2}g")
        off = format(float(more) + 10.0 ** (math.floor(math.log10(abs(step.after)))
                                             - figures - 1), f".{figures + 2}g")
        assert type_answers(driver, format_number(step.local, figures), off)[1] == "wrong"
        # Answer every step right: the score counts first tries (the first step took many).
        assert type_answers(driver, format_number(step.local, figures), more) == ["right", "right"]
        assert set(driver.execute_script(labels)) == {"visible"}
        for step in steps[1:]:
            driver.find_element("id", "next").click()
            type_answers(driver, format_number(step.local, figures),
                         format_number(step.after, figures))
        assert driver.find_element("id", "quiz-score").text == \
            f"score {len(steps) - 1} / {len(steps)} (finished)"
    finally:
        driver.switch_to.default_content()
    # The worked answers were not on the page meanwhile; Differentiate brings them back.
    assert not driver.find_element("id", "expr-result").is_displayed()
    driver.find_element("id", "expr-go").click()
    wait(driver, lambda d: d.find_element("id", "expr-result").is_displayed())
    assert not driver.find_element("id", "quiz-frame").is_displayed()


def test_quiz_button_and_a_quiz_only_link(driver, playground):
    open_page(driver, playground, "&tab=expression")
    button(driver, "Quiz").click()
    wait(driver, lambda d: d.find_element("id", "quiz-frame").is_displayed())
    assert button(driver, "Quiz").get_attribute("aria-pressed") == "true"
    assert not driver.find_element("id", "expr-result").is_displayed()
    # hide=differentiate: the quiz opens at once and Enter never shows the answers
    from selenium.webdriver.common.keys import Keys
    open_page(driver, playground, "&tab=expression&hide=differentiate,network-tab")
    wait(driver, lambda d: d.find_element("id", "quiz-frame").is_displayed())
    driver.find_element("id", "expr-text").send_keys(Keys.ENTER)
    time.sleep(1)
    assert not driver.find_element("id", "expr-result").is_displayed()
    assert driver.find_element("id", "quiz-frame").is_displayed()
    # A bad expression: the parser's message, as for Differentiate.
    box = driver.find_element("id", "expr-text")
    box.clear()
    box.send_keys("x +* 2" + Keys.ENTER)
    wait(driver, lambda d: d.find_element("id", "expr-error").is_displayed())
    assert not driver.find_element("id", "quiz-frame").is_displayed()


# ---------------------------------------------------------------------- digits
def test_digits_network(driver, playground):
    pytest.importorskip("sklearn")
    torch = torch_or_skip()
    from playground.network import NetworkSession
    from tests.playground.test_derivations import torch_pass

    open_page(driver, playground, "&dataset=digits")
    data = js(driver, "return window.playground.data")
    assert data["settings"]["hidden"] == [16] and data["resolved"]["loss"] == "ce"
    # the dataset's 1797 digits, capped at the playground's 500 points; a quarter held out
    assert len(data["X_test"]) == 125 and data["X"] == []
    assert driver.find_element("id", "confusion-figure").is_displayed()
    assert "held-out digits" in text(driver, "boundary-caption")

    def confusion_shown():
        rows = driver.find_elements("css selector", "#confusion tr")[1:]
        return [[int(td.get_attribute("data-value")) for td in r.find_elements("tag name", "td")]
                for r in rows]

    frame = js(driver, "return window.playground.frame")
    assert confusion_shown() == frame["field"]["confusion"]
    assert sum(map(sum, confusion_shown())) == 125
    # the network picture: an 8x8 input block, each first-layer neuron's 64 weights
    assert len(driver.find_elements("css selector", "#network rect.pixel")) == 64
    assert len(driver.find_elements("css selector", '#network rect.weight[data-layer="1"]')) == 16 * 64
    assert len(driver.find_elements("css selector", "#network circle.neuron")) == 26
    # One step, then a pixel's weight: the derivation's numbers are torch's.
    button(driver, "Step").click()
    wait(driver, lambda d: text(d, "step-count") == "1")
    press_enter_on(driver, 'rect.weight[data-layer="1"][data-neuron="2"][data-source="20"]')
    wait(driver, lambda d: d.find_elements("id", "derivation-grad"))
    heading = driver.find_element("css selector", "#weight-derivation h2").text
    assert heading.startswith("dC/dw for L1.h2.w20") and "pixel row 3, column 4" in heading
    session = NetworkSession({"dataset": "digits"})
    session.train(1)
    _, _, grads, _ = torch_pass(session, session.gradient[0], session.gradient[1])
    index = session.params.index(session.model.layers[0].neurons[1].w[19])
    shown_grad = float(driver.find_element("id", "derivation-grad").get_attribute("data-value"))
    shown_sum = float(driver.find_element("id", "derivation-sum").get_attribute("data-value"))
    assert math.isclose(shown_grad, grads[index], rel_tol=1e-9, abs_tol=1e-15)
    assert math.isclose(shown_sum, grads[index], rel_tol=1e-9, abs_tol=1e-15)
    assert len(driver.find_elements("css selector", "#weight-rows tr")) == 1 + 10  # batch 10
    # An output neuron's delta is softmax - onehot.
    press_enter_on(driver, 'circle.neuron[data-layer="2"][data-neuron="4"]')
    wait(driver, lambda d: d.find_elements("id", "neuron-delta"))
    assert "softmax_4 - onehot_4" in text(driver, "neuron-delta")
    # Playing: the held-out accuracy rises and the grid of digits changes.
    first = float(text(driver, "test-accuracy-value")[:-1])
    picture = js(driver, "return document.getElementById('boundary').toDataURL()")
    button(driver, "Play").click()
    started = time.monotonic()
    wait(driver, lambda d: float(text(d, "test-accuracy-value")[:-1]) >= max(70.0, first + 30),
         timeout=120, message="the held-out accuracy did not rise")
    steps = int(text(driver, "step-count"))
    seconds = time.monotonic() - started
    button(driver, "Pause").click()
    wait(driver, lambda d: not d.execute_script("return window.playground.busy"))
    assert js(driver, "return document.getElementById('boundary').toDataURL()") != picture
    frame = js(driver, "return window.playground.frame")
    assert confusion_shown() == frame["field"]["confusion"]
    accuracy = sum(frame["field"]["confusion"][i][i] for i in range(10)) / 125
    assert text(driver, "test-accuracy-value") == f"{100 * accuracy:.1f}%"
    print(f"\ndigits: {first}% -> {accuracy:.0%} held-out in {steps} steps, {seconds:.1f} s")
    driver.save_screenshot("/tmp/playground_digits.png")


def test_expression_link_reopens_the_quiz(driver, playground):
    from urllib.parse import parse_qs, urlsplit
    open_page(driver, playground, "&tab=expression")
    box = driver.find_element("id", "expr-text")
    box.clear()
    box.send_keys("exp(a)*b")
    values = driver.find_element("id", "expr-values")
    values.clear()
    values.send_keys("a=0.5 b=2")
    button(driver, "Quiz").click()
    wait(driver, lambda d: d.find_element("id", "quiz-frame").is_displayed())
    button(driver, "Link to this expression").click()
    link = text(driver, "expr-share").split()[0]
    query = parse_qs(urlsplit(link).query)
    assert query["tab"] == ["expression"] and query["expr"] == ["exp(a)*b"]
    assert query["values"] == ["a=0.5 b=2"] and query["quiz"] == ["1"]
    assert query["token"] == [playground.token]
    driver.get(link)
    wait(driver, lambda d: d.execute_script(
        "return document.body.getAttribute('data-ready') === 'true'"))
    assert driver.find_element("id", "quiz-frame").is_displayed()
    assert js(driver, "return window.playground.quiz.text") == "exp(a)*b"
