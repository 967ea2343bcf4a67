"""`chainrule drill` (student.drill): seeded sheets that pdflatex compiles, their numbers
the engine's own backward pass. Grading them: test_grading.py."""

import os
import shutil
import subprocess

import pytest

from autograd_core import trace_backward
from autograd_core.numbers import format_number
from student.drill import make_exercise, worksheet_latex
from student.grading import answer_template

from tests.helpers import run_cli, tensor, torch_or_skip

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
    torch = torch_or_skip()
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
