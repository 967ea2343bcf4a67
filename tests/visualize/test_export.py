"""One derivation for slides: LaTeX align (compiled by pdflatex), SVG frames and a GIF."""

import os
import subprocess
import sys
import xml.etree.ElementTree as ET

import pytest

from autograd_core import Value, trace_backward
from autograd_core.numbers import format_number
from visualize.export import (backward_frames, derivation_latex, latex_formula, latex_name,
                              write_frames, write_gif)

from tests.helpers import run_cli

SVG = "{http://www.w3.org/2000/svg}"


def neuron():
    w, x, b = Value(-1.2, label="w"), Value(0.5, label="x"), Value(0.1, label="b")
    return (w * x + b).sigmoid()


def test_latex_names_and_formulas():
    assert latex_name("n12") == "n_{12}" and latex_name("w") == "w"
    assert latex_name("net") == r"\mathrm{net}" and latex_name("a_b#2") == r"\text{a\_b\#2}"
    assert latex_formula("L * (1 - L)", ["L"]) == r"L \cdot ( 1 - L )"
    assert latex_formula("2 * x**(2 - 1)", ["x"]) == r"2 \cdot x ^ {2 - 1}"
    assert latex_formula("(w*x) * b", ["(w*x)", "b"]) == r"\text{(w*x)} \cdot b"


def test_align_has_one_line_per_step_with_the_engines_numbers():
    root = neuron()
    tex = derivation_latex(root)
    assert tex.startswith("\\begin{align*}") and tex.rstrip().endswith("\\end{align*}")
    reference = neuron()
    steps = list(trace_backward(reference))
    body = [line for line in tex.splitlines() if "&=" in line or "&\\mathrel{+}=" in line]
    assert len(body) == len(steps) == 5
    for line, step in zip(body, steps):
        assert f"= {format_number(step.contribution)}" in line
    assert root.grad == 0.0  # the graph's grads are left alone


def test_non_ascii_names_are_typeset_not_replaced_by_question_marks():
    # λ became \text{?}: Greek letters are LaTeX's own, accented letters take accents,
    # anything else (no glyph in pdflatex's fonts) its code point.
    assert latex_name("λ") == r"\lambda" and latex_name("θ2") == r"\theta_{2}"
    assert latex_name("λ_1") == r"\lambda_{1}" and latex_name("Ω") == r"\Omega"
    assert latex_name("λx") == r"\mathrm{\lambda x}" and latex_name("Α") == r"\mathrm{A}"
    assert latex_name("café") == r"\text{caf\'{e}}" and latex_name("ß") == r"\text{\ss{}}"
    assert latex_name("(λ*x)") == r"\text{($\lambda$*x)}"
    assert latex_name("中") == r"\text{\textsf{[U+4E2D]}}"
    assert latex_formula("1 - θ1 ** 2", ["θ1"]) == r"1 - \theta_{1} ^ {2}"


def _pdflatex(folder, tex):
    if not os.access("/usr/bin/pdflatex", os.X_OK):
        if os.environ.get("CI") == "true":
            pytest.fail("pdflatex is missing; on CI it must be installed (texlive-latex-base)")
        pytest.skip("needs pdflatex")
    (folder / "d.tex").write_text("\\documentclass{article}\\usepackage{amsmath}"
                                  "\\begin{document}\n" + tex + "\\end{document}\n",
                                  encoding="utf-8")
    proc = subprocess.run(["/usr/bin/pdflatex", "-interaction=nonstopmode", "-halt-on-error",
                           "d.tex"], cwd=folder, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stdout[-1500:]
    assert "Missing character" not in (folder / "d.log").read_text(errors="replace")


def test_align_compiles_with_pdflatex(tmp_path):
    x = Value(3.0, label="x")
    _pdflatex(tmp_path, derivation_latex((x * x + x).exp() * 0.001))


def test_align_with_non_ascii_names_compiles_with_pdflatex(tmp_path):
    names = ["λ", "θ2", "Ω", "Αx", "µ", "café", "Ørsted", "ß", "中", "x😀", "ǅ", "ą"]
    leaves = [Value(0.1 * (i + 1), label=name) for i, name in enumerate(names)]
    total = leaves[0]
    for leaf in leaves[1:]:
        total = total * leaf + leaf.tanh()
    total.label = "ψ"
    tex = derivation_latex(total)
    assert "?" not in tex and r"\lambda" in tex and r"\theta_{2}" in tex and r"\psi" in tex
    _pdflatex(tmp_path, tex)


def test_cli_latex_of_a_greek_expression_compiles(tmp_path):
    status, out, err = run_cli(["grad", "λ*x + sin(θ)", "λ=2", "x=3", "θ=1", "--latex",
                                str(tmp_path / "steps.tex")])
    assert status == 0, err
    tex = (tmp_path / "steps.tex").read_text(encoding="utf-8")
    assert r"\frac{dL}{d\lambda}" in tex and r"\operatorname{cos} ( \theta )" in tex
    assert r"\text{($\lambda$*x)}" in tex and "?" not in tex
    _pdflatex(tmp_path, tex)


def grad_texts(svg):
    tree = ET.fromstring(svg)
    return [t.text for t in tree.iter(SVG + "text") if (t.text or "").startswith("grad")]


def test_frames_one_per_step_filling_in():
    root = neuron()
    frames = backward_frames(root)
    steps = list(trace_backward(neuron()))
    assert len(frames) == len(steps) + 1
    assert all(t.strip() == "grad" for t in grad_texts(frames[0]))  # forward pass: blank
    last = grad_texts(frames[-1])
    w, x, b = Value(-1.2, label="w"), Value(0.5, label="x"), Value(0.1, label="b")
    (w * x + b).sigmoid().backward()
    for leaf in (w, x, b):
        assert f"grad {format_number(leaf.grad)}" in last
    for k, (svg, step) in enumerate(zip(frames[1:], steps), 1):
        assert f"step {k} / 5" in svg and "#d62728" in svg  # the edge in use is red
        assert f"grad {format_number(step.parent.grad)}" in grad_texts(svg)


def test_frames_of_two_passes_show_the_inputs_doubled(tmp_path):
    w = Value(2.0, label="w")
    out = w * w
    paths = write_frames(out, tmp_path / "frames", passes=2)
    assert len(paths) == 2 * 2 + 1 and os.path.basename(paths[0]) == "frame_000.svg"
    last = open(paths[-1]).read()
    assert "backward() call 2" in last and "grad 8" in grad_texts(last)  # 2 * 2w at w = 2


def test_gif_has_a_frame_per_step(tmp_path):
    Image = pytest.importorskip("PIL.Image")
    path = write_gif(neuron(), tmp_path / "steps.gif")
    with Image.open(path) as gif:
        assert gif.format == "GIF" and gif.n_frames == 6


def test_gif_without_pillow_says_what_to_install(tmp_path):
    code = ("import sys; sys.modules['PIL'] = None\n"
            "from autograd_core import Value\nfrom visualize.export import write_gif\n"
            "try:\n    write_gif(Value(2.0, label='x') * 3.0, 'x.gif')\n"
            "except ImportError as e:\n    print(e)\n")
    out = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True,
                         text=True, timeout=60).stdout
    assert "needs Pillow: pip install pillow" in out and not (tmp_path / "x.gif").exists()


def test_cli_exports(tmp_path):
    pytest.importorskip("PIL")
    argv = ["grad", "sigmoid(w*x + b)", "w=-1.2", "x=0.5", "b=0.1",
            "--latex", str(tmp_path / "s.tex"), "--gif", str(tmp_path / "s.gif"),
            "--frames", str(tmp_path / "frames")]
    status, out, err = run_cli(argv)
    assert status == 0, err
    assert "\\begin{align*}" in (tmp_path / "s.tex").read_text()
    assert len(os.listdir(tmp_path / "frames")) == 6 and "wrote 6 frames" in out
    status, _, err = run_cli(argv[:5] + ["--latex", str(tmp_path / "s.txt")])
    assert status == 2 and "should end in .tex" in err
    (tmp_path / "file").write_text("x")
    status, _, err = run_cli(argv[:5] + ["--frames", str(tmp_path / "file")])
    assert status == 2 and "not a folder" in err


def test_cli_frames_refuses_a_folder_with_earlier_frames(tmp_path):
    # an 11-frame run then a 3-frame run left frame_003..frame_010 behind, mixed in
    frames = tmp_path / "frames"
    status, out, err = run_cli(["grad", "sigmoid(w*x + b)", "w=-1.2", "x=0.5", "b=0.1",
                                "--frames", str(frames)])
    assert status == 0, err
    before = sorted(os.listdir(frames))
    status, out, err = run_cli(["grad", "w*x", "w=2", "x=3", "--frames", str(frames)])
    assert status == 2 and "already holds frame files" in err and "empty or new folder" in err
    assert len(err.strip().splitlines()) == 1 and sorted(os.listdir(frames)) == before
    other = tmp_path / "other"
    other.mkdir()
    (other / "notes.txt").write_text("mine")
    status, out, err = run_cli(["grad", "w*x", "w=2", "x=3", "--frames", str(other)])
    assert status == 0, err
    assert (other / "notes.txt").read_text() == "mine"
