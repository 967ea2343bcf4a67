"""The quiz page in a real browser (headless Chromium, the fixtures of
tests/visualize/test_step_through_browser.py): gradients hidden until answered, and
every typed answer marked by student/static/quiz_marking.js exactly as student.marking
marks it in the terminal.
"""

import os

import pytest

from autograd_core.numbers import format_number
from student.quiz import quiz_html

from tests.visualize.test_step_through_browser import (by_id, check_state, driver,  # noqa: F401
                                                       expected_states, neuron, shown_grads)


def open_quiz(driver, build, folder, name, **options):
    path = quiz_html(build(), folder / name, **options)
    driver.get("file://" + os.path.abspath(path))


def answer(driver, local, grad):
    for element_id, text in (("quiz-local", local), ("quiz-grad", grad)):
        box = by_id(driver, element_id)
        box.clear()
        box.send_keys(text)
    by_id(driver, "quiz-check").click()


def test_quiz_mode_hides_gradients_until_answered(driver, tmp_path):
    from autograd_core import trace_backward
    reference = [(s.local, s.parent.grad, s.parent) for s in trace_backward(neuron())]
    lines, receivers, states, nodes = expected_states(neuron)
    open_quiz(driver, neuron, tmp_path, "quiz.html")
    assert by_id(driver, "quiz-score").text == "score 0 / 5"
    by_id(driver, "next").click()
    assert by_id(driver, "quiz").is_displayed()
    assert by_id(driver, "next").get_attribute("disabled") is not None  # answer first
    parent = receivers[0][0]
    assert shown_grads(driver)[parent] == "grad ?"  # the receiving grad is not given away
    # A wrong local derivative: feedback with the op table's rule, nothing revealed.
    answer(driver, "0.5", format_number(reference[0][1]))
    feedback = by_id(driver, "quiz-feedback").text
    assert "Not yet" in feedback and "for out = sigmoid(a): d out/da = out * (1 - out)" in feedback
    assert by_id(driver, "next").get_attribute("disabled") is not None
    # Right (to the digits shown): the line and the grad appear, Next is enabled.
    answer(driver, format_number(reference[0][0]), format_number(reference[0][1]))
    assert by_id(driver, "step-line").get_attribute("textContent") == lines[0]
    assert shown_grads(driver)[parent] == f"grad {format_number(reference[0][1])}"
    assert by_id(driver, "quiz-score").text == "score 0 / 5"  # second try: no point
    for k in range(1, 5):
        by_id(driver, "next").click()
        local, grad, _ = reference[k]
        answer(driver, repr(local), repr(grad))  # full precision counts too
        check_state(driver, k + 1, lines, receivers, states, nodes)
    assert by_id(driver, "quiz-score").text == "score 4 / 5 (finished)"
    driver.save_screenshot("/tmp/quiz.png")
    # Show answer reveals the step and scores nothing.
    open_quiz(driver, neuron, tmp_path, "quiz2.html")
    by_id(driver, "next").click()
    by_id(driver, "quiz-reveal").click()
    check_state(driver, 1, lines, receivers, states, nodes)
    assert by_id(driver, "quiz-score").text == "score 0 / 5"


def test_quiz_refuses_over_precise_wrong_digits(driver, tmp_path):
    # dL/db is 0.2350037..: 0.23504 lies within a tolerance of it but is not the value
    # rounded to the five figures written (0.23500), so the CLI marks it wrong.
    from autograd_core import trace_backward
    from student.marking import close_enough
    reference = [(s.local, s.parent.grad) for s in trace_backward(neuron())]
    local, grad = reference[0]
    assert grad == pytest.approx(0.2350037, abs=1e-7)
    assert not close_enough(0.23504, grad, text="0.23504") and close_enough(0.235, grad)
    open_quiz(driver, neuron, tmp_path, "precise.html")
    by_id(driver, "next").click()
    answer(driver, format_number(local), "0.23504")
    assert by_id(driver, "quiz-grad").get_attribute("class") == "wrong"
    assert by_id(driver, "next").get_attribute("disabled") is not None
    answer(driver, format_number(local), "0.23500")  # the same figures, rounded right
    assert by_id(driver, "quiz-grad").get_attribute("class") == "right"
    assert by_id(driver, "step-line").get_attribute("textContent").startswith("dL/d")


@pytest.fixture(scope="module")
def marking_page(driver, tmp_path_factory):
    """A quiz page whose marking function the next test calls directly."""
    open_quiz(driver, neuron, tmp_path_factory.mktemp("marking"), "marking.html")
    return driver


def _cli_marks_right(text, true, digits):
    from student.marking import close_enough, parse_answer
    try:
        answer = parse_answer(text)
    except ValueError:
        return False  # the CLI asks again: not right
    return close_enough(answer, true, digits, text=text)


def _typed_answers(true):
    """What a student might type for `true`: it rounded to 1..17 figures, a last digit
    off by one, an extra digit, a fraction, and the odd malformed text."""
    from hypothesis import strategies as st
    rounded = st.integers(1, 17).map(lambda p: format(true, f".{p}g"))
    off_by_one = st.tuples(rounded, st.sampled_from("0123456789")).map(
        lambda pair: pair[0][:-1] + pair[1] if "e" not in pair[0] else pair[0])
    longer = st.tuples(rounded, st.sampled_from("0123456789")).map(
        lambda pair: pair[0] + ("" if "." in pair[0] or "e" in pair[0] else ".") + pair[1]
        if "e" not in pair[0] else pair[0])
    fraction = st.tuples(st.integers(-300, 300), st.integers(-64, 64)).map(
        lambda pair: f"{pair[0]}/{pair[1]}")
    noise = st.text(alphabet="0123456789.-+e/ ", max_size=8)
    return st.one_of(rounded, off_by_one, longer, fraction, noise)


def _true_values():
    from hypothesis import strategies as st
    ordinary = st.floats(min_value=-1e6, max_value=1e6, allow_nan=False).filter(bool)
    # exact binary ties such as 0.015625 (round to even at 4 figures: 0.01562, not 0.01563)
    ties = st.tuples(st.integers(-999, 999).filter(bool), st.integers(0, 12)).map(
        lambda pair: pair[0] / 2.0 ** pair[1])
    tiny_or_huge = st.floats(min_value=1e-300, max_value=1e300)
    return st.one_of(ordinary, ties, tiny_or_huge, st.just(0.0))


def test_page_marks_every_answer_as_the_cli_does(marking_page):
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    @settings(max_examples=400, deadline=None, derandomize=True,
              suppress_health_check=[HealthCheck.function_scoped_fixture])
    @given(st.data(), _true_values(), st.integers(1, 6))
    def marks_agree(data, true, digits):
        text = data.draw(_typed_answers(true), label="text")
        page = marking_page.execute_script(
            "return ChainruleMarking.isRight(arguments[0], "
            "{value: arguments[1], digits: arguments[2]});", text, true, digits)
        assert page == _cli_marks_right(text, true, digits), (text, true, digits)

    marks_agree()
    # and a few by name, so the rule is readable here (0.015625 is an exact tie, which
    # the CLI rounds to even)
    cases = [("0.235", 0.2350037, 4, True), ("0.23504", 0.2350037, 4, False),
             ("0.2350037", 0.2350037, 4, True), ("0.24", 0.2350037, 4, False),
             ("0.24", 0.2350037, 2, True), ("47/200", 0.2350037, 4, True),
             ("0.01562", 0.015625, 4, True), ("0.01563", 0.015625, 4, False),
             ("0x10", 16.0, 4, False), ("", 0.0, 4, False), ("1e999", 1.0, 4, False)]
    for text, true, digits, expected in cases:
        assert _cli_marks_right(text, true, digits) is expected, (text, true, digits)
        assert marking_page.execute_script(
            "return ChainruleMarking.isRight(arguments[0], "
            "{value: arguments[1], digits: arguments[2]});", text, true, digits) is expected


def test_jupyter_iframe_holds_the_same_page(driver, tmp_path):
    import html as html_module
    import re
    from student.quiz import StepThroughQuiz
    shown = StepThroughQuiz(neuron())
    markup = shown._repr_html_()
    assert markup.startswith("<iframe srcdoc=") and 'sandbox="allow-scripts allow-forms"' in markup
    page = html_module.unescape(re.search(r'srcdoc="([^"]*)"', markup).group(1))
    assert page == shown.html
    host = tmp_path / "notebook.html"
    host.write_text("<!DOCTYPE html><html><body>" + markup + "</body></html>")
    driver.get("file://" + str(host))
    driver.switch_to.frame(driver.find_element("tag name", "iframe"))
    by_id(driver, "next").click()
    assert by_id(driver, "quiz").is_displayed() and by_id(driver, "step-counter").text == "step 1 / 5"
    # Check must work inside the notebook's frame too (a sandbox without allow-forms
    # never fires the form's submit, so the button did nothing).
    from autograd_core import trace_backward
    first = next(iter(trace_backward(neuron())))
    answer(driver, format_number(first.local), format_number(first.parent.grad))
    assert by_id(driver, "quiz-score").text == "score 1 / 5"
    driver.switch_to.default_content()
