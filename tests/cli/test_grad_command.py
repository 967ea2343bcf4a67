"""`chainrule grad`: printed gradients against finite differences, errors, files, --step."""

import io
import math
import os
import re
import select
import subprocess
import sys
import time

import pytest
from hypothesis import assume, given, settings, strategies as st

from tests.helpers import run_cli, torch_or_skip

EXAMPLE = ["grad", "sigmoid(w*x + b)", "w=-1.2", "x=0.5", "b=0.1"]


run_main = run_cli


def printed_gradients(output):
    """{'w': 0.1175, ...} from the 'gradients:' block."""
    block = output.split("gradients:\n", 1)[1].split("\n\n", 1)[0]
    return {m.group(1): float(m.group(2))
            for m in re.finditer(r"d\w+/d(\S+) = (\S+)", block)}


def central_difference(f, values, name, h):
    up, down = dict(values), dict(values)
    up[name] += h
    down[name] -= h
    return (f(**up) - f(**down)) / (2 * h)


def sigmoid(z):
    return 1 / (1 + math.exp(-z)) if z >= 0 else math.exp(z) / (1 + math.exp(z))


def test_example_value_gradients_and_steps():
    status, out, err = run_main(EXAMPLE + ["--digits", "10"])
    assert status == 0 and err == ""
    f = lambda w, x, b: sigmoid(w * x + b)  # noqa: E731
    values = dict(w=-1.2, x=0.5, b=0.1)
    assert float(re.search(r"value: L = (\S+)", out).group(1)) == pytest.approx(f(**values),
                                                                               abs=1e-10)
    grads = printed_gradients(out)
    assert set(grads) == {"w", "x", "b"}
    for name, grad in grads.items():
        assert grad == pytest.approx(central_difference(f, values, name, 1e-6), abs=1e-8)
    steps = re.findall(r"^\s+\d+\. (.*)$", out, re.M)
    assert len(steps) == 5
    # Each step line is checkable: upstream * local = contribution, as printed.
    for line in steps:
        up, local, result = map(float, re.search(r"= (\S+) \* (\S+) = (\S+)   \[", line).groups())
        assert up * local == pytest.approx(result, abs=1e-9)
    assert "dL/dw = dL/d(w*x) * ∂(w*x)/∂w = 0.2350037122 * 0.5 = 0.1175018561" \
           "   [∂(w*x)/∂w = x]" in steps
    assert steps[0].endswith("[∂L/∂(w*x + b) = L * (1 - L)]")


def test_default_output_matches_the_issue_example():
    status, out, _ = run_main(EXAMPLE)
    assert status == 0
    assert "dL/dw = 0.1175" in out and "dL/dx = -0.282" in out and "dL/db = 0.235" in out
    assert "dL/dw = dL/d(w*x) * ∂(w*x)/∂w = 0.235 * 0.5 = 0.1175   [∂(w*x)/∂w = x]" in out


def test_shared_variable_accumulates():
    status, out, _ = run_main(["grad", "x*y + exp(x)", "x=1", "y=2", "--digits", "12"])
    assert status == 0
    grads = printed_gradients(out)
    assert grads["x"] == pytest.approx(2 + math.e, abs=1e-11) and grads["y"] == 1.0
    assert out.count("dL/dx +=") == 2


@pytest.mark.parametrize("argv, words", [
    (["grad", "w*x +", "w=1", "x=1"], "ends too soon"),
    (["grad", "sigmoid(w*x", "w=1", "x=1"], "never closed"),
    (["grad", "foo(x)", "x=1"], "unknown function foo"),
    (["grad", "w*x", "w=1"], "no value for the variable x"),
    (["grad", "w*x", "w=1", "x=1", "y=3"], "y does not appear"),
    (["grad", "w*x", "w=1", "x=abc"], "'abc' is not a number"),
    (["grad", "w*x", "w=1", "x=nan"], "finite"),
    (["grad", "w*x", "w=1", "x=-inf"], "finite"),
    (["grad", "w*x", "w=1", "x=1", "w=2"], "given twice (w=1 and w=2)"),
    (["grad", "w*x", "w=1e8", "x=1", "w=2"], "given twice (w=1e8 and w=2)"),
    # pi and e are constants: "does not appear" sent the student looking for a typo
    (["grad", "pi", "pi=3"], "pi is the constant 3.141592653589793, not a variable"),
    (["grad", "pi*x", "x=1", "pi=3"], "so it cannot be given a value; remove pi=3"),
    (["grad", "e**x", "x=1", "e=2"], "e is the constant 2.718281828459045, not a variable"),
    (["check", "pi*x", "x=1", "pi=3", "--wrt", "x", "pi"], "pi is the constant"),
    (["check", "pi*x", "--wrt", "pi", "x"], "--wrt pi: pi is a constant, not a variable"),
    (["grad", "log(x)", "x=0"], "log is only defined for positive numbers"),
    (["grad", "1 / x", "x=0"], "division by zero"),
    (["grad", "exp(x)", "x=800"], "exp(800.0) is too large"),
    (["grad", "x ** 1e300", "x=2"], "too large"),
    (["grad", "x.__class__", "x=1"], "attribute"),
    (["grad", "x" * 5000, "x=1"], "limit is 1000"),
])
def test_errors_are_one_clear_message(argv, words):
    status, out, err = run_main(argv)
    assert status == 2
    assert err.startswith("chainrule: error: ") and words in err.splitlines()[0]
    assert "Traceback" not in err and out == ""


@pytest.mark.parametrize("typed, shown", [
    ("1e8", "1e8"), ("100000000", "1e8"), ("0.123456", "0.123456"), ("-1.20", "-1.2"),
    ("3", "3"), ("1200", "1200"), ("2.5e-5", "2.5e-5"), ("0.1", "0.1"),
    ("123456789012", "123456789012"), ("-0", "0")])
def test_the_values_are_echoed_as_numbers_are_shown(typed, shown):
    # "at x = 100000000.0" was Python's repr; every figure typed stays (no rounding to
    # --digits: the student checks the steps from these).
    status, out, err = run_main(["grad", "x*y", f"x={typed}", "y=2"])
    assert status == 0 and f"\nat x = {shown}  y = 2\n" in out, err
    quiz = subprocess.run([sys.executable, "-m", "chainrule", "quiz", "x*y", f"x={typed}",
                           "y=2"], input="q\n", capture_output=True, text=True, timeout=60)
    assert f"\nat x = {shown}  y = 2\n" in quiz.stdout, quiz.stdout + quiz.stderr
    status, out, _ = run_main(["check", "x*y", f"x={typed}", "y=2", "--wrt", "x", "3"])
    assert f"at x = {shown}, y = 2: the claim gives 3" in out, out


def test_usage_mistakes_say_what_is_missing_and_suggest_a_command():
    # NAME=NUMBER was listed as required, and it is not (chainrule grad "3" works).
    status, _, err = run_main(["grad"])
    assert status == 2 and err.rstrip().endswith(
        "error: the following arguments are required: EXPRESSION")
    status, _, err = run_main(["check"])
    assert "required: EXPRESSION, --wrt" in err
    status, _, err = run_main(["grde", "answers.txt"])
    assert status == 2 and "(did you mean chainrule grade?)" in err
    status, _, err = run_main(["zzz"])
    assert status == 2 and "did you mean" not in err


def test_an_expression_without_variables_says_so_once():
    status, out, _ = run_main(["grad", "3*pi"])
    assert status == 0 and "value: L = 9.425" in out
    assert "nothing to differentiate" in out and "no chain-rule steps" not in out


def test_malformed_expression_shows_a_caret():
    status, _, err = run_main(["grad", "w*x + * b", "w=1", "x=1", "b=1"])
    assert status == 2
    first, shown, caret = err.rstrip("\n").split("\n")
    assert first.startswith("chainrule: error: malformed expression")
    assert shown == "  w*x + * b" and caret.index("^") == shown.index("* b")


def test_unwritable_output_paths(tmp_path):
    missing = tmp_path / "no" / "such" / "graph.svg"
    status, out, err = run_main(EXAMPLE + ["--svg", str(missing)])
    assert status == 2 and err.startswith("chainrule: error: --svg") and "does not exist" in err
    status, _, err = run_main(EXAMPLE + ["--png", str(tmp_path)])
    assert status == 2 and "is a folder or a device" in err
    if os.geteuid() != 0:  # root can write anywhere
        locked = tmp_path / "locked"
        locked.mkdir(mode=0o500)
        status, _, err = run_main(EXAMPLE + ["--svg", str(locked / "g.svg")])
        assert status == 2 and "cannot write" in err
    assert not missing.exists()


def test_svg_and_png_files(tmp_path):
    svg, png = tmp_path / "g.svg", tmp_path / "g.png"
    status, out, err = run_main(EXAMPLE + ["--svg", str(svg), "--png", str(png)])
    assert status == 0, err
    text = svg.read_text()
    assert "<svg" in text and "0.1175" in text  # w's grad is drawn
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert f"wrote {svg}" in out and f"wrote {png}" in out
    assert sorted(os.listdir(tmp_path)) == ["g.png", "g.svg"]


def test_html_file(tmp_path):
    pytest.importorskip("visualize.step_through")
    page = tmp_path / "steps.html"
    status, out, err = run_main(EXAMPLE + ["--html", str(page)])
    assert status == 0, err
    html = page.read_text()
    assert html.lstrip().lower().startswith("<!doctype html") and "<svg" in html
    # Writing the page (it runs its own backward pass) must not change what is printed.
    assert printed_gradients(out) == printed_gradients(run_main(EXAMPLE)[1]) == \
        {"w": 0.1175, "x": -0.282, "b": 0.235}


def test_every_output_at_once_keeps_the_gradients(tmp_path):
    pytest.importorskip("visualize.step_through")
    argv = EXAMPLE + ["--html", str(tmp_path / "a.html"), "--svg", str(tmp_path / "a.svg")]
    status, out, err = run_main(argv)
    assert status == 0, err
    assert printed_gradients(out) == {"w": 0.1175, "x": -0.282, "b": 0.235}
    assert "0.1175" in (tmp_path / "a.svg").read_text()


def test_help_texts_show_examples():
    for argv, wanted in [(["--help"], "chainrule grad \"sigmoid(w*x + b)\""),
                         (["grad", "--help"], "--step"),
                         (["demo", "--help"], "chainrule demo mazur"),
                         (["demo", "neuron", "--help"], "chainrule demo neuron --W"),
                         (["demo", "mazur", "--help"], "--digits 12")]:
        status, out, _ = run_main(argv)
        assert status == 0 and "examples:" in out and wanted in out


def test_leading_minus_hint_and_double_dash():
    status, _, err = run_main(["grad", "-x", "x=1"])
    assert status == 2 and "goes after '--'" in err
    status, _, err = run_main(["quiz", "-x*y", "x=1", "y=2"])
    assert status == 2 and "goes after '--': chainrule quiz -- " in err
    # no such hint where there is no minus: it sent students looking for one
    for argv in (["grad"], ["grad", "--digits", "3"], ["grad", "x", "x=1", "--bogus"],
                 ["grad", "x*y", "x=-1", "y=2", "--bogus"]):
        status, _, err = run_main(argv)
        assert status == 2 and "goes after" not in err, argv
    status, out, _ = run_main(["grad", "--", "-x**2", "x=3"])
    assert status == 0 and printed_gradients(out) == {"x": -6.0}


def test_step_without_a_terminal_prints_everything():
    proc = subprocess.run([sys.executable, "-m", "chainrule.cli"] + EXAMPLE + ["--step"],
                          stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0 and proc.stderr == ""
    assert "chain rule, step by step (5 steps" in proc.stdout and "[Enter]" not in proc.stdout


class Terminal:
    """The reading end of a pty: expect(text) waits for text and returns what came
    up to and including it (a guard against a hang, not a timing test)."""

    def __init__(self, fd):
        self.fd, self.buffer = fd, ""

    def expect(self, pattern, timeout=30.0):
        deadline = time.monotonic() + timeout
        while pattern not in self.buffer:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError(f"timed out waiting for {pattern!r}; got {self.buffer!r}")
            if select.select([self.fd], [], [], remaining)[0]:
                try:
                    chunk = os.read(self.fd, 4096)
                except OSError:  # the child closed the terminal
                    chunk = b""
                if not chunk:
                    raise AssertionError(f"output ended before {pattern!r}: {self.buffer!r}")
                self.buffer += chunk.decode("utf-8", "replace").replace("\r\n", "\n")
        cut = self.buffer.index(pattern) + len(pattern)
        seen, self.buffer = self.buffer[:cut], self.buffer[cut:]
        return seen


@pytest.mark.skipif(sys.platform == "win32", reason="needs a pseudo-terminal")
def test_step_in_a_terminal():
    import pty
    master, slave = pty.openpty()
    proc = subprocess.Popen([sys.executable, "-m", "chainrule.cli"] + EXAMPLE + ["--step"],
                            stdin=slave, stdout=slave, stderr=slave, close_fds=True)
    os.close(slave)
    term = Terminal(master)
    try:
        assert "0.1175" not in term.expect("[0/5]")  # no answers before the steps
        assert "so far: w=?  x=?  b=?" in term.expect("b=?")  # nothing filled in yet
        os.write(master, b"\r")
        assert term.expect("[1/5]") and "dL/d(w*x + b) = dL/dL" in term.expect("b=?")
        os.write(master, b"\r")
        assert "so far: w=?  x=?  b=?" in term.expect("[2/5]") + term.expect("b=?")
        os.write(master, b"b")                                 # back one step
        term.expect("[1/5]")
        term.expect("b=?")
        for _ in range(3):                                     # to step 4: w fills in
            os.write(master, b"\r")
        step4 = term.expect("[4/5]") + term.expect("b=0.235\n")
        assert "grad of w: 0 -> 0.1175" in step4 and "w=0.1175  x=?" in step4
        os.write(master, b"\x1b[C")                            # right arrow: next
        step5 = term.expect("[5/5]") + term.expect("b=0.235\n")
        assert "so far: w=0.1175  x=-0.282  b=0.235" in step5
        os.write(master, b"q")
        term.expect("quit")
        assert proc.wait(timeout=30) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        os.close(master)


# ------------------------------------------------------------------------ fuzzing

@settings(max_examples=150, deadline=None)
@given(st.text(max_size=30), st.lists(st.text(max_size=8), max_size=3))
def test_random_input_never_tracebacks(text, extra):
    status, _, err = run_main(["grad", "--", text] + extra)
    assert status in (0, 2)
    if status == 2:
        assert err.startswith("chainrule: error: ") or "usage:" in err
    assert "Traceback" not in err


VARIABLES = ("x", "y", "w")


def leaf():
    number = st.sampled_from([0.5, 1.5, 2.0, 3.0]).map(lambda c: (repr(c), lambda env: c))
    variable = st.sampled_from(VARIABLES).map(lambda n: (n, lambda env: env[n]))
    return st.one_of(variable, variable, number)


def _power(base, exponent):
    if base < 0 and exponent != int(exponent):
        raise ValueError("negative base")
    return base ** exponent


FUNCTIONS = {"exp": math.exp, "log": math.log, "tanh": math.tanh, "sigmoid": sigmoid,
             "relu": lambda z: max(z, 0.0)}


def extend(children):
    def binary(pair, symbol):
        (left, f), (right, g) = pair
        ops = {"+": lambda a, b: a + b, "-": lambda a, b: a - b, "*": lambda a, b: a * b,
               "/": lambda a, b: a / b}
        op = ops[symbol]
        return f"({left} {symbol} {right})", lambda env: op(f(env), g(env))

    def power(node, n):
        text, f = node
        return f"({text})**{n}", lambda env: _power(f(env), n)

    def call(node, name):
        text, f = node
        return f"{name}({text})", lambda env: FUNCTIONS[name](f(env))

    def negate(node):
        text, f = node
        return f"-({text})", lambda env: -f(env)

    return st.one_of(
        st.builds(binary, st.tuples(children, children), st.sampled_from("+-*/")),
        st.builds(power, children, st.sampled_from([2, 3, -1])),
        st.builds(call, children, st.sampled_from(sorted(FUNCTIONS))),
        st.builds(negate, children))


expressions = st.recursive(leaf(), extend, max_leaves=8)


@settings(max_examples=120, deadline=None)
@given(expressions, st.tuples(*[st.floats(-2.0, 2.0, allow_nan=False)] * 3))
def test_random_expressions_match_finite_differences(expression, point):
    text, f = expression
    # 3 decimals: away from the tiny numbers where only a derivative (not the value)
    # leaves the float range, which the plain-math reference below cannot see.
    env = dict(zip(VARIABLES, (round(x, 3) for x in point)))
    used = [n for n in VARIABLES if re.search(rf"\b{n}\b", text)]
    assume(used)  # expressions without variables are covered by the parser tests
    status, out, err = run_main(["grad", "--digits", "12", "--", text]
                                + [f"{n}={env[n]!r}" for n in used])
    assert "Traceback" not in err
    if status == 2:  # a valid expression can only fail by its math, at a point
        assert err.startswith("chainrule: error: cannot compute "), err
        try:
            reference = f(env)
        except (ValueError, ZeroDivisionError, OverflowError):
            return  # plain math fails here too
        assert not math.isfinite(reference), f"{text} at {env}: {err}"
        return
    assert status == 0, err

    def g(**values):
        value = f({**env, **values})
        if not math.isfinite(value):
            raise OverflowError
        return value

    grads = printed_gradients(out)
    assert sorted(grads) == sorted(used)
    for name in used:
        point = {n: env[n] for n in used}
        try:
            fd1 = central_difference(g, point, name, 1e-5)
            fd2 = central_difference(g, point, name, 1e-6)
            # One-sided slopes: they differ at a kink (relu at 0), where no derivative
            # exists to compare with.
            h = 1e-5
            forward = (g(**{**point, name: point[name] + h}) - g(**point)) / h
            backward = (g(**point) - g(**{**point, name: point[name] - h})) / h
        except (ValueError, ZeroDivisionError, OverflowError):
            continue  # the function is not defined all around the point
        tolerance = 1e-4 * (1 + abs(fd2))
        assume(abs(fd1 - fd2) <= tolerance / 10 and abs(forward - backward) <= tolerance)
        assert grads[name] == pytest.approx(fd2, abs=tolerance), (text, env, name)


# ------------------------------------------------------- passes, quiz page, formats

def test_two_passes_show_the_inputs_accumulating():
    from autograd_core.numbers import format_number
    torch = torch_or_skip()
    from tests.helpers import tensor
    status, out, err = run_main(["grad", "w*x*w", "w=2", "x=3", "--passes", "2",
                                 "--digits", "10"])
    assert status == 0, err
    w, x = tensor(2.0), tensor(3.0)
    (w * x * w).backward()
    once = w.grad.item()
    # The gradients printed are one call's; the steps show two, the second adding on.
    assert printed_gradients(out)["w"] == pytest.approx(once, rel=1e-12)
    assert "in 2 calls of backward()" in out and "backward() call 2:" in out
    second = out.split("backward() call 2:", 1)[1]
    last_w = [line for line in second.splitlines() if "dL/dw +=" in line][-1]
    (w * x * w).backward()  # torch accumulates the same way
    assert second.count("dL/dw +=") == 2 and format_number(once, 10) in out
    assert w.grad.item() == pytest.approx(2 * once)
    assert "inputs keep their grad and add to it" in out and last_w


def test_quiz_page_from_the_command_line(tmp_path):
    page = tmp_path / "quiz.html"
    status, out, err = run_main(EXAMPLE + ["--html", str(page), "--quiz"])
    assert status == 0, err
    assert '"quiz":true' in page.read_text()
    status, _, err = run_main(EXAMPLE + ["--quiz"])
    assert status == 2 and "--quiz makes the --html page a quiz" in err


def test_tiny_gradients_are_never_zero_in_the_text():
    status, out, _ = run_main(["grad", "sigmoid(z)", "z=12"])
    s = sigmoid(12.0)
    from autograd_core.numbers import format_number
    assert status == 0 and f"dL/dz = {format_number(s * (1 - s))}" in out
    assert "e-6" in out and "0.0000" not in out and "-0 " not in out


@pytest.mark.parametrize("argv", [
    ["grad", "x*1e308*10", "x=0"],
    ["quiz", "x*1e308*10", "x=0"],
    ["check", "x*1e308*10", "x=0", "--wrt", "x", "5"],
])
def test_an_overflowing_gradient_is_one_error_line_in_every_command(argv, monkeypatch):
    # d/dx (x * 1e308 * 10) = 1e309 is beyond a float: no command may print inf as an
    # answer or a traceback; each names the chain-rule step where it went wrong.
    monkeypatch.setattr("sys.stdin", io.StringIO(""))
    status, out, err = run_cli(argv)
    assert status == 2
    assert "inf" not in out and "Traceback" not in err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("chainrule: error: cannot compute the gradients")
    assert "chain-rule step 2" in lines[0]


def test_a_dead_relu_branch_gives_the_true_zero_not_nan():
    # dL/dx for (relu(x)*1e200 + 1)*1e200 at x = -1 is exactly 0 (relu is flat there),
    # although the gradient flowing into relu(x) overflows.
    status, out, err = run_cli(["grad", "(relu(x)*1e200+1)*1e200", "x=-1"])
    assert status == 0, err
    assert "  dL/dx = 0\n" in out and "nan" not in out


def test_ctrl_c_while_a_command_starts_exits_130_without_a_traceback(monkeypatch):
    # An interrupt outside any command's own handler (here: while the parser is built)
    # used to escape as a KeyboardInterrupt traceback.
    import chainrule.cli as cli

    def interrupted():
        raise KeyboardInterrupt
    monkeypatch.setattr(cli, "build_parser", interrupted)
    status, out, err = run_cli(["grad", "x", "x=1"])
    assert status == 130
    assert err.strip() == "chainrule: interrupted"


def test_zero_significant_figures_is_refused():
    # --digits 0 printed "0.2 * -1 = -0.3": no number has zero significant figures.
    status, out, err = run_cli(["grad", "w*x", "w=-1.2", "x=0.235", "--digits", "0"])
    assert status == 2 and "use 1 to 17 significant figures" in err


@pytest.mark.skipif(sys.platform == "win32", reason="needs a pseudo-terminal")
@pytest.mark.parametrize("gap", [0.0, 0.01, 0.1])
def test_two_ctrl_c_in_step_exit_130_without_a_traceback(gap):
    # The second Ctrl-C used to land while the first was being answered: exit -2 (death
    # by signal) and sometimes a KeyboardInterrupt traceback.
    import pty
    import signal
    master, slave = pty.openpty()
    proc = subprocess.Popen([sys.executable, "-m", "chainrule"] + EXAMPLE + ["--step"],
                            stdin=slave, stdout=slave, stderr=slave, close_fds=True)
    os.close(slave)
    term = Terminal(master)
    try:
        term.expect("[0/5]")
        proc.send_signal(signal.SIGINT)
        time.sleep(gap)
        if proc.poll() is None:
            proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=30) == 130
        rest = ""
        while select.select([master], [], [], 0.5)[0]:
            try:
                chunk = os.read(master, 4096)
            except OSError:
                break
            if not chunk:
                break
            rest += chunk.decode("utf-8", "replace")
        assert "Traceback" not in term.buffer + rest
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        os.close(master)


# Loaded by the child through PYTHONPATH: a Ctrl-C (SIGINT to itself, as a terminal
# sends it) at the moment the named module starts importing.
INTERRUPTING_SITECUSTOMIZE = """
import os, signal, sys
TARGET = os.environ.get("CHAINRULE_TEST_CTRL_C_AT_IMPORT")

class CtrlCAtImport:
    def find_spec(self, name, path=None, target=None):
        if name == TARGET:
            sys.meta_path.remove(self)
            os.kill(os.getpid(), signal.SIGINT)
        return None

if TARGET:
    sys.meta_path.insert(0, CtrlCAtImport())

if os.environ.get("CHAINRULE_TEST_CTRL_C_AT_EXIT"):
    import atexit, time

    def ctrl_c_while_exiting():
        os.kill(os.getpid(), signal.SIGINT)
        time.sleep(0.05)  # the handler, if any, runs here

    atexit.register(ctrl_c_while_exiting)
"""


def _read_to_end(master, proc):
    text = ""
    while True:
        ready = select.select([master], [], [], 30)[0]
        if not ready:
            raise AssertionError(f"no end of output; got {text!r}")
        try:
            chunk = os.read(master, 4096)
        except OSError:  # the child closed the terminal
            break
        if not chunk:
            break
        text += chunk.decode("utf-8", "replace")
    return text


@pytest.mark.skipif(sys.platform == "win32", reason="needs a pseudo-terminal")
@pytest.mark.parametrize("how", ["console script", "python -m chainrule"])
@pytest.mark.parametrize("module", ["chainrule.cli", "argparse", "autograd_core",
                                    "autograd_core.engine", "visualize.explain",
                                    "chainrule.cmd_train"])
def test_ctrl_c_while_importing_exits_130_without_a_traceback(tmp_path, how, module):
    # In the first second, while Python imports the commands, a Ctrl-C printed a
    # KeyboardInterrupt traceback from inside an import and died by signal (exit -2).
    import pty
    script = os.path.join(os.path.dirname(sys.executable), "chainrule")
    if how == "console script" and not os.access(script, os.X_OK):
        pytest.skip(f"{script} is not installed (pip install -e .)")
    (tmp_path / "sitecustomize.py").write_text(INTERRUPTING_SITECUSTOMIZE)
    env = dict(os.environ, CHAINRULE_TEST_CTRL_C_AT_IMPORT=module,
               PYTHONPATH=os.pathsep.join([str(tmp_path)] + sys.path))
    command = [script] if how == "console script" else [sys.executable, "-m", "chainrule"]
    master, slave = pty.openpty()
    proc = subprocess.Popen(command + EXAMPLE, stdin=slave, stdout=slave, stderr=slave,
                            close_fds=True, env=env)
    os.close(slave)
    try:
        output = _read_to_end(master, proc)
        assert proc.wait(timeout=30) == 130, output
        assert "Traceback" not in output and "chainrule: interrupted" in output, output
        assert "value:" not in output  # it stopped where it was interrupted
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        os.close(master)


@pytest.mark.parametrize("command, status", [(EXAMPLE, 0), (["grad", "x +"], 2)])
def test_ctrl_c_after_the_answer_keeps_the_exit_status(tmp_path, command, status):
    # A Ctrl-C while the interpreter shut down, after everything was printed, gave a
    # KeyboardInterrupt traceback from the exit handlers (or, between them, exit -2).
    (tmp_path / "sitecustomize.py").write_text(INTERRUPTING_SITECUSTOMIZE)
    env = dict(os.environ, CHAINRULE_TEST_CTRL_C_AT_EXIT="1",
               PYTHONPATH=os.pathsep.join([str(tmp_path)] + sys.path))
    proc = subprocess.run([sys.executable, "-m", "chainrule"] + command, env=env,
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == status and "Traceback" not in proc.stderr, proc.stderr
    assert ("chain rule, step by step" in proc.stdout) == (status == 0)


@pytest.mark.parametrize("command, status", [
    (EXAMPLE, 0), (EXAMPLE + ["--paths", "--formula"], 0), (["demo", "mazur"], 0),
    (["demo", "neuron"], 0), (["check", "x**3*y", "--wrt", "x", "3*x**2*y"], 0),
    (["check", "x**3*y", "--wrt", "x", "3*x*y"], 0), (["quiz", "x*y", "x=1", "y=2"], 0),
    (["grad", "--help"], 0),
    # a mistake found after some lines were printed keeps its status
    (["check", "x*y", "--wrt", "x", "y", "--factor", "nonsense"], 2)])
def test_a_closed_pipe_is_quiet_and_keeps_success(command, status):
    # `chainrule grad ... | head` exited 1 when head left before the output ended.
    read_end, write_end = os.pipe()
    os.close(read_end)  # the reader has gone before the first line
    try:
        proc = subprocess.run([sys.executable, "-m", "chainrule"] + command, stdout=write_end,
                              stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, text=True,
                              timeout=120)
    finally:
        os.close(write_end)
    assert proc.returncode == status, proc.stderr
    assert "Traceback" not in proc.stderr and "BrokenPipe" not in proc.stderr
    assert (proc.stderr == "") == (status == 0), proc.stderr


def test_piped_into_head_exits_0():
    proc = subprocess.run(f"set -o pipefail; {sys.executable} -m chainrule demo mazur | head -2",
                          shell=True, executable="/bin/bash", capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 0 and proc.stderr == "", proc.stderr
    assert len(proc.stdout.splitlines()) == 2


def test_digits_reach_every_number_in_the_picture(tmp_path):
    # --digits 6 showed grads to 6 figures but data and edge labels to 4.
    path = tmp_path / "g.svg"
    status, _, err = run_cli(EXAMPLE + ["--digits", "6", "--svg", str(path)])
    assert status == 0, err
    svg = path.read_text(encoding="utf-8")
    assert "data 0.377541" in svg and "grad 0.117502" in svg and "= 0.235004" in svg
    assert "data 0.3775<" not in svg


def test_two_passes_say_what_the_inputs_hold_afterwards():
    status, out, _ = run_main(["grad", "x*y", "x=1", "y=2", "--passes", "2"])
    assert status == 0 and printed_gradients(out) == {"x": 2.0, "y": 1.0}
    assert out.rstrip().endswith("after 2 calls of backward(): x.grad = 4, y.grad = 2 "
                                 "(2 times the gradient: call zero_grad() before each "
                                 "backward())")
