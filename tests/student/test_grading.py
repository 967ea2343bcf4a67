"""`chainrule grade` (student.grading): a filled-in answer file marked against the engine's
own backward pass, and every file it cannot read named in one line."""

import math

import pytest
from hypothesis import given, settings, strategies as st

from autograd_core.numbers import format_number
from student.drill import make_exercise
from student.grading import AnswerFileError, answer_template, grade, grade_file

from tests.helpers import run_cli
from tests.student.test_drill import engine_values, filled


def test_grade_right_wrong_and_first_wrong_step(tmp_path):
    exercise = make_exercise("erin", 1)
    answers = tmp_path / "answers.txt"
    answers.write_text(filled(exercise))
    status, out, err = run_cli(["grade", str(answers)])
    assert status == 0, err
    total = len(engine_values(exercise))
    assert f"score: {total} / {total}" in out and "every answer is right" in out
    answers.write_text(filled(exercise, change="step 2 grad"))
    status, out, _ = run_cli(["grade", str(answers)])
    assert status == 1 and f"score: {total - 1} / {total}" in out
    assert "first wrong: step 2 grad: you wrote" in out
    result = grade(filled(exercise, change="step 1 local"))
    assert result.first_wrong[0] == "step 1 local" and result.score == total - 1


def test_the_first_wrong_answer_says_what_its_names_stand_for():
    # "(∂L/∂w = n1)" left the student to look up n1 on the sheet.
    exercise = make_exercise("alice", 1)
    assert exercise.text == "tanh(x) * w"
    result = grade("# chainrule drill answers: seed=alice level=1\nstep 1 local = 2\n"
                   "step 1 grad = 2\nstep 2 local = 0.4621\n")
    assert result.score == 2
    key, given, answer, working = result.first_wrong
    assert (key, given, format_number(answer)) == ("step 2 local", "0.4621", "-0.4621")
    assert working == "∂L/∂w = n1, where n1 = tanh(x)"
    only_one = grade("# chainrule drill answers: seed=alice level=1\nstep 1 local = 2\n")
    assert only_one.first_wrong[0] == "step 1 grad"
    assert only_one.first_wrong[3] == "dL/dn1 = 1 * 2, where n1 = tanh(x)"


def test_grade_blank_answers_and_other_seed(tmp_path):
    exercise = make_exercise("erin", 1)
    answers = tmp_path / "answers.txt"
    answers.write_text(answer_template(exercise))
    status, out, _ = run_cli(["grade", str(answers)])
    assert status == 1 and "score: 0 / " in out and "you wrote nothing" in out
    status, out, _ = run_cli(["grade", str(answers), "--seed", "someone-else"])
    assert status in (1, 2)  # another sheet: its blanks differ or are wrong


@pytest.mark.parametrize("content, words", [
    ("step 1 local = 1\n", "no '# chainrule drill answers"),
    ("# chainrule drill answers: seed=erin level=1\nstep 1 local\n", "line 2: expected"),
    ("# chainrule drill answers: seed=erin level=1\nstep 1 local = 1\nstep 1 local = 2\n",
     "answered twice"),
    ("# chainrule drill answers: seed=erin level=1\nstep 99 local = 1\n", "not a blank"),
    # not answers at all, neither right nor wrong (they were marked wrong)
    ("# chainrule drill answers: seed=erin level=1\nstep 1 local = nan\n",
     "line 2: step 1 local: 'nan' is not a finite number; type e.g. 0.25, -1.5e-3 or 1/4, "
     "or leave it empty"),
    ("# chainrule drill answers: seed=erin level=1\n\nstep 1 grad = 1e999\n",
     "line 3: step 1 grad: '1e999' is not a finite number"),
    ("# chainrule drill answers: seed=erin level=1\nstep 1 grad = -inf\n", "not a finite"),
    ("# chainrule drill answers: seed=erin level=1\nstep 1 grad = 1/0\n", "not a number"),
    ("# chainrule drill answers: seed=erin level=1\nstep 1 grad = two\n",
     "line 2: step 1 grad: 'two' is not a number"),
])
def test_grade_malformed_files(tmp_path, content, words):
    path = tmp_path / "answers.txt"
    path.write_text(content)
    status, out, err = run_cli(["grade", str(path)])
    assert status == 2 and words in err and "Traceback" not in err
    assert out == "" and len(err.splitlines()) == 1  # no score from a file it cannot read


def test_grade_unreadable_files(tmp_path):
    assert "no such file" in run_cli(["grade", str(tmp_path / "none.txt")])[2]
    assert "is a folder" in run_cli(["grade", str(tmp_path)])[2]
    binary = tmp_path / "b.txt"
    binary.write_bytes(b"\xff\xfe\x00garbage")
    assert "not a text file" in run_cli(["grade", str(binary)])[2]


@settings(max_examples=60, deadline=None)
@given(st.lists(st.one_of(st.text(max_size=30),
                          st.sampled_from(["step 1 local = 1", "step 1 grad = 1/0",
                                           "dL/dw = nan", "step 2 local = 1e999"])),
                max_size=6))
def test_grade_never_tracebacks_on_any_file(tmp_path_factory, lines):
    path = tmp_path_factory.mktemp("answers") / "answers.txt"
    path.write_text("# chainrule drill answers: seed=erin level=1\n" + "\n".join(lines),
                    encoding="utf-8", errors="surrogatepass")
    status, out, err = run_cli(["grade", str(path)])
    assert status in (0, 1, 2) and "Traceback" not in err


def test_grade_refuses_the_neighbour_on_the_far_side_of_the_true_value():
    # true 1.5729: 1.573 is right, 1.572 (within one unit, but not it rounded) is wrong.
    exercise = make_exercise("erin", 2)
    values = engine_values(exercise)
    key, true = next((k, v) for k, v in values.items()
                     if v != 0 and float(format(v, ".4g")) != v)
    rounded = float(format(true, ".4g"))
    unit = 10.0 ** (math.floor(math.log10(abs(rounded))) - 3)
    other = rounded - unit if rounded > true else rounded + unit
    assert abs(other - true) < unit  # the old whole-unit tolerance took it
    text = filled(exercise)
    right = "\n".join(f"{key} = {format(true, '.4g')}" if line.startswith(key + " =") else line
                       for line in text.splitlines())
    assert grade(right).score == len(values)
    wrong = "\n".join(f"{key} = {format(other, '.4g')}" if line.startswith(key + " =") else line
                       for line in text.splitlines())
    result = grade(wrong)
    assert result.score == len(values) - 1 and result.first_wrong[0] == key


def test_grading_a_worksheet_instead_of_the_answers_says_which_file_to_give(tmp_path):
    status, _, _ = run_cli(["drill", "--seed", "bob", "--out", str(tmp_path / "d")])
    assert status == 0
    for name in ("worksheet.md", "answer-key.md"):
        status, out, err = run_cli(["grade", str(tmp_path / "d" / name)])
        assert status == 2 and out == ""
        assert "is this the answers.txt that chainrule drill wrote?" in err, err
    status, _, err = run_cli(["grade", str(tmp_path / "d" / "answers.txt")])
    assert status == 1 and "answers.txt that" not in err


def test_grade_file_names_the_path_in_every_refusal(tmp_path):
    exercise = make_exercise("erin", 1)
    path = tmp_path / "answers.txt"
    path.write_text(filled(exercise))
    assert grade_file(path).all_right
    path.write_text("step 1 local = 1\n")
    for target in (path, tmp_path / "none.txt", tmp_path):
        with pytest.raises(AnswerFileError) as caught:
            grade_file(target)
        assert str(caught.value).startswith(f"{target}: ")
