"""`chainrule drill` and `chainrule grade`: seeded sheets that pdflatex compiles, graded
against the engine's own backward pass."""

import math
import os
import shutil
import subprocess

import pytest

from autograd_core import trace_backward
from visualize.drill import answer_template, grade, make_exercise, worksheet_latex
from visualize.explain import format_number

from tests.helpers import run_cli, tensor

PDFLATEX = "/usr/bin/pdflatex"


def engine_values(exercise):
    """{answer key: the engine's number}, from trace_backward on a fresh graph."""
    root, leaves = exercise.build()
    values = {}
    for k, step in enumerate(trace_backward(root), 1):
        values[f"step {k} local"] = step.local
        values[f"step {k} grad"] = step.parent.grad
    for name, leaf in leaves.items():
        values[f"d{root.label}/d{name}"] = leaf.grad
    return values


def filled(exercise, change=None):
    lines = []
    values = engine_values(exercise)
    for line in answer_template(exercise).splitlines():
        key = line.partition("=")[0].strip()
        if not line.startswith("#"):
            number = values[key] if key != change else values[key] + 1.0
            line = f"{key} = {number!r}"
        lines.append(line)
    return "\n".join(lines) + "\n"


def test_same_seed_same_exercise_other_seeds_differ():
    for level in (1, 2, 3):
        a, b = make_exercise("alice", level), make_exercise("alice", level)
        assert (a.text, a.values) == (b.text, b.values)
    texts = {(make_exercise(f"student{i}", 1).text,
              tuple(make_exercise(f"student{i}", 1).values.items())) for i in range(12)}
    assert len(texts) >= 8


@pytest.mark.parametrize("level", [1, 2, 3])
def test_levels_get_harder(level):
    exercise = make_exercise("bob", level)
    names = exercise.variables
    if level == 1:
        assert len(names) == 2
    elif level == 2:
        assert len(names) == 3 and any(exercise.text.count(n) > 1 for n in names)
    else:
        assert "sigmoid(v1*sigmoid(" in exercise.text and len(names) == 6


def test_level_3_network_gradients_match_torch():
    exercise = make_exercise("carol", 3)
    torch = pytest.importorskip("torch")
    ts = {n: tensor(v) for n, v in exercise.values.items()}
    root, leaves = exercise.build()
    root.backward()
    # The same network written with torch, from the exercise's numbers.
    import re
    x1, x2, t = map(float, re.search(r"w1\*(\S+) \+ w2\*(\S+)\).*- (\S+)\)\*\*2",
                                     exercise.text).groups())
    h1 = torch.sigmoid(ts["w1"] * x1 + ts["w2"] * x2)
    h2 = torch.sigmoid(ts["w3"] * x1 + ts["w4"] * x2)
    (0.5 * (torch.sigmoid(ts["v1"] * h1 + ts["v2"] * h2) - t) ** 2).backward()
    for name, leaf in leaves.items():
        assert leaf.grad == pytest.approx(ts[name].grad.item(), rel=1e-12)


def test_drill_writes_the_files_and_refuses_to_overwrite(tmp_path):
    out = tmp_path / "sheet"
    status, text, err = run_cli(["drill", "--seed", "alice", "--level", "2", "--out", str(out)])
    assert status == 0, err
    assert sorted(os.listdir(out)) == ["answer-key.md", "answer-key.tex", "answers.txt",
                                       "worksheet.md", "worksheet.tex"]
    sheet = (out / "worksheet.md").read_text()
    key = (out / "answer-key.md").read_text()
    assert "______" in sheet and "______" not in key
    exercise = make_exercise("alice", 2)
    from visualize.explain import format_number
    for k, value in engine_values(exercise).items():
        if k.startswith("step") and k.endswith("grad"):
            assert format_number(value) in key
    status, _, err = run_cli(["drill", "--seed", "alice", "--level", "2", "--out", str(out)])
    assert status == 2 and "exists" in err and "--force" in err
    assert run_cli(["drill", "--seed", "alice", "--out", str(out), "--force"])[0] == 0
    status, _, err = run_cli(["drill", "--seed", "x", "--level", "4"])
    assert status == 2 and "use 1, 2 or 3" in err
    status, _, err = run_cli(["drill", "--seed", "  ", "--out", str(tmp_path / "e")])
    assert status == 2 and "non-empty" in err


@pytest.mark.parametrize("level", [1, 2, 3])
def test_latex_compiles_with_pdflatex(tmp_path, level):
    if not os.access(PDFLATEX, os.X_OK):
        if os.environ.get("CI") == "true":
            pytest.fail("pdflatex is missing; on CI it must be installed (texlive-latex-base)")
        pytest.skip("needs pdflatex (Debian: texlive-latex-base, texlive-latex-recommended)")
    exercise = make_exercise("dave", level)
    for key in (False, True):
        name = f"sheet{int(key)}.tex"
        (tmp_path / name).write_text(worksheet_latex(exercise, key=key))
        proc = subprocess.run([PDFLATEX, "-interaction=nonstopmode", "-halt-on-error", name],
                              cwd=tmp_path, capture_output=True, text=True, timeout=120)
        assert proc.returncode == 0, proc.stdout[-2000:]
        assert (tmp_path / f"sheet{int(key)}.pdf").read_bytes()[:5] == b"%PDF-"
        assert "Overfull" not in proc.stdout or level == 3  # the network's rows are long


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


from hypothesis import given, settings, strategies as st  # noqa: E402


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
