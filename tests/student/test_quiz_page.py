"""The quiz page: visualize's step-through page, marked by the student package.

The browser side (typing answers, the marking script against student.marking) is in
tests/visualize/test_step_through_browser.py and tests/playground/test_quiz_digits.py.
"""

import json
import math
import pathlib
import re

import pytest

from autograd_core import Value, trace_backward
from autograd_core.numbers import format_number
from student.marking import close_enough
from student.quiz import StepThroughQuiz, quiz_html, quiz_page

from tests.helpers import run_cli


def neuron():
    w, x, b = Value(-1.2, label="w"), Value(0.5, label="x"), Value(0.1, label="b")
    return (w * x + b).sigmoid(), (w, x, b)


def page_data(text):
    match = re.search(r'<script type="application/json" id="chainrule-data">(.*?)</script>',
                      text, re.S)
    assert match, "the page has no embedded step data"
    return json.loads(match.group(1))


def write(root, tmp_path, name="quiz.html", **options):
    path = quiz_html(root, tmp_path / name, **options)
    with open(path, encoding="utf-8") as f:
        return f.read()


def test_quiz_page_carries_answers_with_the_digits_tolerance(tmp_path):
    data = page_data(write(neuron()[0], tmp_path))
    assert data["quiz"] is True
    traced = list(trace_backward(neuron()[0]))
    for shown, step in zip(data["steps"], traced):
        assert shown["answer_local"]["value"] == step.local
        assert shown["answer_grad"]["value"] == step.parent.grad
        # the page marks with value and digits as close_enough does (test_browser.py)
        assert shown["answer_local"]["digits"] == shown["answer_grad"]["digits"] == 4
        tol = shown["answer_grad"]["tolerance"]
        # The page, like close_enough, takes the true value rounded to its digits and
        # refuses the neighbour on the other side of the true value (half a unit, not one).
        true = step.parent.grad
        rounded = float(format_number(true))
        unit = 10.0 ** (math.floor(math.log10(abs(rounded))) - 3)
        other = rounded - unit if rounded > true else rounded + unit
        assert abs(rounded - true) <= tol and close_enough(rounded, true)
        assert abs(other - true) > tol and not close_enough(other, true)
        assert shown["hint"].startswith("for out = ")


def test_every_quiz_page_holds_the_marking_script_before_the_page_script(tmp_path):
    root, (w, _, _) = neuron()
    marking = (pathlib.Path(__file__).resolve().parents[2] / "student" / "static" /
               "quiz_marking.js").read_text(encoding="utf-8")
    pages = [write(root, tmp_path), quiz_page(root, digits=3), StepThroughQuiz(root).html]
    status, _, err = run_cli(["grad", "sigmoid(w*x + b)", "w=-1.2", "x=0.5", "b=0.1",
                              "--html", str(tmp_path / "cli.html"), "--quiz"])
    assert status == 0, err
    pages.append((tmp_path / "cli.html").read_text(encoding="utf-8"))
    for text in pages:
        assert marking in text and page_data(text)["quiz"] is True
        assert text.index(marking) < text.index("return ChainruleMarking.isRight")
    assert page_data(pages[1])["digits"] == 3
    assert w.grad == 0.0  # the caller's graph is untouched


def test_marking_script_is_package_data_of_the_student_package():
    import student
    folder = pathlib.Path(student.__file__).parent
    assert (folder / "static" / "quiz_marking.js").is_file()
    setup = (folder.parent / "setup.cfg").read_text()
    assert "student = static/*.js" in setup
    assert re.search(r"^\s+student\*$", setup, re.M)  # the package itself installs


def test_quiz_options_are_the_step_through_pages(tmp_path):
    with pytest.raises(ValueError, match="passes must be 1 to 5"):
        quiz_html(neuron()[0], tmp_path / "x.html", passes=0)
    data = page_data(write(neuron()[0], tmp_path, passes=2))
    assert data["passes"] == 2 and len(data["steps"]) == 10
