"""`chainrule quiz` driven through stdin; the right answers come from the engine's trace."""

import subprocess
import sys

import pytest

from autograd_core import trace_backward
from autograd_core import expr
from autograd_core.numbers import format_number
from tests.helpers import torch_or_skip

EXPRESSION, VALUES = "sigmoid(w*x + b)", ["w=-1.2", "x=0.5", "b=0.1"]


def engine_answers(text=EXPRESSION, values=VALUES):
    """(local, new grad) of every step, from trace_backward on a fresh graph."""
    parsed = expr.parse(text)
    root, _ = expr.build(parsed, expr.parse_assignments(values, parsed))
    return [(step.local, step.parent.grad) for step in trace_backward(root)]


def run_quiz(lines, text=EXPRESSION, values=VALUES, extra=()):
    proc = subprocess.run([sys.executable, "-m", "chainrule.cli", "quiz", text, *values, *extra],
                          input="".join(line + "\n" for line in lines), capture_output=True,
                          text=True, timeout=60)
    return proc.returncode, proc.stdout, proc.stderr


def test_all_right_scores_full_marks():
    answers = engine_answers()
    typed = [repr(x) for pair in answers for x in pair]
    status, out, err = run_quiz(typed)
    assert status == 0 and err == ""
    assert out.count("  right") == 10 and "score: 10 / 10" in out
    torch = torch_or_skip()
    from tests.helpers import tensor
    w, x, b = tensor(-1.2), tensor(0.5), tensor(0.1)
    torch.sigmoid(w * x + b).backward()
    assert f"dL/dw = {format_number(w.grad.item())}" in out  # the gradients at the end


def test_answers_to_the_digits_shown_count_and_fractions_work():
    typed = []
    for local, grad in engine_answers():
        typed += [format_number(local), format_number(grad)]  # what a student copies down
    assert typed[2:4] == ["1", "0.235"]
    typed[2] = "1/1"
    status, out, _ = run_quiz(typed)
    assert "score: 10 / 10" in out


def test_wrong_answer_gets_the_op_table_hint_then_the_answer():
    answers = engine_answers()
    first_local = answers[0][0]
    typed = ["0.5", "0.6"] + [repr(x) for x in (answers[0][1],)]
    typed += [repr(x) for pair in answers[1:] for x in pair]
    status, out, _ = run_quiz(typed)
    assert "not quite. hint: for out = sigmoid(a): d out/da = out * (1 - out)" in out
    assert f"not quite. answer: ∂L/∂(w*x + b) = L * (1 - L) = {format_number(first_local)}" in out
    assert "score: 9 / 10" in out


def test_typo_is_not_counted_and_empty_line_shows_the_answer():
    answers = engine_answers()
    typed = ["abc", repr(answers[0][0]), "", ] + [repr(x) for pair in answers[1:] for x in pair]
    status, out, _ = run_quiz(typed)
    assert "'abc' is not a number" in out and "answer: grad of (w*x + b) = 0.235" in out
    assert "score: 9 / 10" in out


def test_quit_and_end_of_input_stop_with_the_score_so_far():
    answers = engine_answers()
    status, out, _ = run_quiz([repr(answers[0][0]), "q"])
    assert status == 0 and "stopped. score: 1 / 1 answered (10 in all)" in out
    status, out, _ = run_quiz([])
    assert status == 0 and "stopped. score: 0 / 0 answered" in out


def test_shared_variable_steps_say_plus_equals():
    answers = engine_answers("x*y + exp(x)", ["x=1", "y=2"])
    typed = [repr(x) for pair in answers for x in pair]
    status, out, _ = run_quiz(typed, "x*y + exp(x)", ["x=1", "y=2"], ["--digits", "6"])
    assert out.count("dL/dx += ") == 2 and f"score: {2 * len(answers)} / {2 * len(answers)}" in out


@pytest.mark.parametrize("argv, words", [
    (["quiz", "w*", "w=1"], "ends too soon"),
    (["quiz", "w*x", "w=1"], "no value for the variable x"),
    (["quiz", "w*x", "w=1", "x=1", "--digits", "0"], "use 1 to 17"),
])
def test_quiz_errors(argv, words):
    from tests.helpers import run_cli
    status, out, err = run_cli(argv)
    assert status == 2 and words in err and "Traceback" not in err


from hypothesis import given, settings, strategies as st  # noqa: E402


@settings(max_examples=80, deadline=None)
@given(st.lists(st.text(alphabet=st.characters(blacklist_categories=("Cs",),
                                               blacklist_characters="\n\r"), max_size=12),
                max_size=14))
def test_any_typed_lines_end_in_a_score(lines):
    import io
    from chainrule.cmd_quiz import quiz
    parsed = expr.parse(EXPRESSION)
    values = expr.parse_assignments(VALUES, parsed)
    root, _ = expr.build(parsed, values)
    out = io.StringIO()
    assert quiz(root, parsed, values, 4, io.StringIO("\n".join(lines) + "\n"), out) == 0
    assert "score: " in out.getvalue()


def test_digits_2_refuses_the_neighbour_on_the_far_side_of_the_true_value():
    # dL/db is 0.23500..: a whole-unit tolerance took both 0.23 and 0.24 at --digits 2.
    from decimal import Decimal
    typed = []
    for local, grad in engine_answers():
        typed += [format(local, ".2g"), format(grad, ".2g")]
    true = engine_answers()[1][1]
    assert format_number(true, 3) == "0.235"
    rounded = float(format(true, ".2g"))  # decided by the exact float
    other = 0.23 if rounded == 0.24 else 0.24
    assert abs(Decimal(true) - Decimal(repr(other))) < Decimal("0.01")
    status, out, _ = run_quiz(typed, extra=["--digits", "2"])
    assert "score: 10 / 10" in out, out
    typed.insert(3, repr(other))  # wrong first, then right: no point
    status, out, _ = run_quiz(typed, extra=["--digits", "2"])
    assert "score: 9 / 10" in out, out
    step2 = out[out.index("step 2/"):out.index("step 3/")]
    assert "not quite" in step2 and "right (second try: no point)" in step2, out
    assert out.count("not quite") == 1, out


def test_the_gradients_at_the_end_follow_the_expression_and_a_lone_variable_is_l():
    # "dL/dy = 1, dL/dx = 2" came in the graph's order; "x = x" for the expression x.
    status, out, _ = run_quiz(["2", "2", "1", "1"], "x*y", ["x=1", "y=2"])
    assert status == 0 and "the gradients: dL/dx = 2, dL/dy = 1" in out
    status, out, _ = run_quiz([], "x", ["x=1"])
    assert status == 0 and out.startswith("L = x\nat x = 1\nvalue: L = 1\n")
