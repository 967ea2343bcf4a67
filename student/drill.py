"""Drills: a different chain-rule exercise for each student, as worksheets.

`make_exercise(seed, level)` turns any seed (a student's name) into an exercise: a
random expression at level 1 (two variables, two operations) and level 2 (three
variables, one used twice, a function or two), a small network (2-2-1, sigmoid, squared
error) at level 3. The same seed and level always give the same exercise, on any
machine, so grading (student.grading) needs only the seed to check a filled-in answer
file. `blanks` lists what a sheet leaves blank, with the answers: the sheets, the answer
file and grading all read it.

Every number on a sheet comes from the narrator (`visualize.explain.narrate`) on the
engine's graph of the expression; the sheets are Markdown and LaTeX (article, amsmath,
geometry, longtable: a standard pdflatex compiles them).
"""

from __future__ import annotations

import math
import random
import re

from autograd_core.numbers import DIGITS, format_number
from visualize.explain import narrate
from visualize.export import latex_formula, latex_name, latex_number

__all__ = ["LEVELS", "Exercise", "make_exercise", "blanks", "worksheet_markdown",
           "worksheet_latex"]

LEVELS = (1, 2, 3)
BLANK = "______"
_NUMBERS = [-2.0, -1.5, -1.0, -0.5, 0.5, 1.0, 1.5, 2.0]


class Exercise:
    """One drill: `seed`, `level`, `text` (the expression), `values` ({name: number})."""

    def __init__(self, seed, level, text, values):
        self.seed, self.level, self.text, self.values = seed, level, text, values

    def build(self):
        """(root, leaves) of a fresh graph (autograd_core.expr, the parser the grad command uses).

        The parser labels short parts by their text, (w1*2); on a sheet those make
        fractions too wide to print, so the parts are called n1, n2, ... with a legend.
        """
        from autograd_core import topological_order
        from autograd_core import expr
        parsed = expr.parse(self.text)
        root, leaves = expr.build(parsed, self.values)
        for node in topological_order(root):
            if node.parents and node is not root:
                node.label = ""
        return root, leaves

    def derivation(self):
        root, _ = self.build()
        return narrate(root)

    @property
    def variables(self):
        from autograd_core import expr
        return expr.parse(self.text).names


_PRECEDENCE = {"+": 1, "-": 1, "*": 2}


def _random_expression(rng, variables, size, functions):
    """(text, precedence) of a random expression with `size` leaves; brackets only
    where they are needed."""
    if size <= 1:
        return rng.choice(variables), 3
    if functions and rng.random() < 0.4:
        inner, _ = _random_expression(rng, variables, size - 1, functions)
        return f"{rng.choice(functions)}({inner})", 3
    left = rng.randint(1, size - 1)
    op = rng.choice(["+", "-", "*", "*"])
    a, pa = _random_expression(rng, variables, left, functions)
    b, pb = _random_expression(rng, variables, size - left, functions)
    level = _PRECEDENCE[op]
    if pa < level:
        a = f"({a})"
    if pb < level or (op == "-" and pb == level):
        b = f"({b})"
    return f"{a} {op} {b}", level


def _network(rng):
    """A 2-2-1 sigmoid network with squared error on one sample, as one expression."""
    x1, x2 = (format_number(rng.choice([0.5, 1.0, 1.5, 2.0])) for _ in range(2))
    t = rng.choice(["0", "1"])
    names = ["w1", "w2", "w3", "w4", "v1", "v2"]
    values = {n: rng.choice([-1.0, -0.5, 0.5, 1.0]) for n in names}
    text = (f"0.5 * (sigmoid(v1*sigmoid(w1*{x1} + w2*{x2}) + "
            f"v2*sigmoid(w3*{x1} + w4*{x2})) - {t})**2")
    return text, values


def _acceptable(text, values):
    from autograd_core import expr
    try:
        parsed = expr.parse(text)
        root, leaves = expr.build(parsed, values)
        root.backward()
    except (expr.ExpressionError, ValueError, ZeroDivisionError, OverflowError):
        return False
    grads = [v.grad for v in leaves.values()]
    return all(math.isfinite(g) and abs(g) < 1e3 for g in grads) and any(grads)


def make_exercise(seed, level: int) -> Exercise:
    """The exercise of this seed and level (the same every time, on every machine)."""
    if not isinstance(seed, str) or not seed.strip():
        raise ValueError("the seed must be a non-empty name, e.g. --seed alice")
    if level not in LEVELS:
        raise ValueError(f"the level must be 1, 2 or 3, got {level!r}")
    # random.Random(str) hashes the text with SHA-512: stable across runs and machines.
    rng = random.Random(f"chainrule drill|{seed.strip()}|{level}")
    for _ in range(1000):
        if level == 3:
            text, values = _network(rng)
        else:
            pool = rng.choice([["w", "x", "b"], ["a", "b", "c"], ["x", "y", "z"], ["u", "v", "w"]])
            count = 2 if level == 1 else 3
            variables = pool[:count]
            functions = ["sigmoid", "tanh"] if level == 1 else ["sigmoid", "tanh", "exp", "log"]
            size = 3 if level == 1 else 5
            text, _ = _random_expression(rng, variables, size, functions)
            used = [v for v in variables if re.search(rf"\b{v}\b", text)]
            if len(used) != count:
                continue
            if level == 2 and (max(len(re.findall(rf"\b{v}\b", text)) for v in used) < 2
                               or not any(f + "(" in text for f in functions)):
                continue
            values = {v: rng.choice(_NUMBERS) for v in used}
        if _acceptable(text, values):
            return Exercise(seed.strip(), level, text, values)
    raise RuntimeError(f"no exercise found for seed {seed!r} at level {level}")  # pragma: no cover


# ------------------------------------------------------------------------ sheets

def _variables(derivation, exercise):
    """The inputs in the order the sheet lists their values."""
    order = list(exercise.values)
    return sorted(derivation.variables(),
                  key=lambda v: order.index(v.label) if v.label in order else len(order))


def blanks(derivation, exercise, digits=DIGITS):
    """Every blank of the sheet: (key, question, answer value, how it is worked out)."""
    items = []
    f = lambda x: format_number(x, digits)  # noqa: E731
    for k, step in enumerate(derivation.steps, 1):
        items.append((f"step {k} local", step.local_symbol, step.local,
                      _with_legend(f"{step.local_symbol} = {step.formula}", derivation)))
        gradient = f"d{step.root_name}/d{step.parent_name}"
        items.append((f"step {k} grad", gradient, step.after, _with_legend(
            f"{gradient} = {f(step.before)} + {f(step.upstream)} * {f(step.local)}"
            if step.accumulates else f"{gradient} = {f(step.upstream)} * {f(step.local)}",
            derivation)))
    for v in _variables(derivation, exercise):
        name = derivation.names[v]
        items.append((f"d{derivation.root_name}/d{name}", f"d{derivation.root_name}/d{name}",
                      v.grad, "the last grad of " + name))
    return items


def _with_legend(text, derivation):
    """The working, with what its names n1, n2, ... stand for (the sheet's legend), so it
    reads on its own: '∂L/∂w = n1, where n1 = tanh(x)'."""
    used = [(name, definition) for name, definition in derivation.legend
            if re.search(rf"(?:(?<=/d)|(?<![\w.])){re.escape(name)}(?![\w.])", text)]
    if not used:
        return text
    return text + ", where " + ", ".join(f"{name} = {definition}" for name, definition in used)


def _worked(formula, number):
    """'b = 0.5', or just '0.5' when the formula is that number (or a constant's name)."""
    return number if formula.strip("()") == number else f"{formula} = {number}"


def _md(text):
    return "`" + text.replace("`", "'").replace("|", "\\|") + "`"


def worksheet_markdown(exercise: Exercise, key: bool = False, digits: int = DIGITS) -> str:
    """The worksheet (blanks) or, with key=True, its answer key, as Markdown."""
    d = exercise.derivation()
    f = lambda x: format_number(x, digits)  # noqa: E731
    r = d.root_name
    at = ", ".join(f"{n} = {f(v)}" for n, v in exercise.values.items())
    kind = "a small network" if exercise.level == 3 else "an expression"
    lines = [f"# Backpropagation drill{': answer key' if key else ''}",
             "", f"Seed **{exercise.seed}**, level {exercise.level} ({kind}).", "",
             f"Compute every gradient of {_md(f'{r} = {exercise.text}')} at {at}, one "
             f"chain-rule step at a time. Give each answer to {digits} significant figures.",
             "", "## The forward pass (given)", "", "| name | is | value |", "|---|---|---|"]
    for node in d.order:
        if node.parents:
            from autograd_core.naming import definition
            lines.append(f"| {_md(d.names[node])} | {_md(definition(node, d.names))} | "
                         f"{f(node.data)} |")
    lines += ["", "## The backward pass", "",
              f"Each step is `d{r}/d(parent) = d{r}/d(node) * ∂node/∂parent`; `+=` adds to "
              "what the parent already has.", "",
              "| step | chain rule | local derivative | new gradient |", "|---|---|---|---|"]
    for k, step in enumerate(d.steps, 1):
        eq = "+=" if step.accumulates else "="
        rule = f"d{r}/d{step.parent_name} {eq} d{r}/d{step.node_name} * {step.local_symbol}"
        local = f"{step.local_symbol} = " + (_worked(step.formula, f(step.local)) if key
                                              else BLANK)
        grad = f"d{r}/d{step.parent_name} = " + (f(step.after) if key else BLANK)
        lines.append(f"| {k} | {_md(rule)} | {_md(local)} | {_md(grad)} |")
    lines += ["", "## The gradients", ""]
    for v in _variables(d, exercise):
        name = d.names[v]
        lines.append(f"- {_md(f'd{r}/d{name} = ' + (f(v.grad) if key else BLANK))}")
    lines.append("")
    if not key:
        lines += ["Write your answers into the answer file (answers.txt) and check them "
                  f"with `chainrule grade answers.txt`.", ""]
    return "\n".join(lines)


def worksheet_latex(exercise: Exercise, key: bool = False, digits: int = DIGITS) -> str:
    """The same sheet as a LaTeX document (article, amsmath, geometry, longtable)."""
    from autograd_core.naming import definition
    d = exercise.derivation()
    names = list(d.names.values())
    r = d.root_name
    blank = r"\underline{\hspace{2.2cm}}"
    m = lambda text: latex_formula(text, names)  # noqa: E731
    at = ", ".join(f"{latex_name(n)} = {latex_number(v, digits)}"
                   for n, v in exercise.values.items())
    kind = "a small network" if exercise.level == 3 else "an expression"
    seed = "".join(ch if ch.isalnum() or ch in " -." else "?" for ch in exercise.seed)
    out = [r"\documentclass[11pt]{article}", r"\usepackage{amsmath}",
           r"\usepackage[margin=2cm]{geometry}", r"\usepackage{longtable}",
           r"\usepackage{array}", r"\pagestyle{empty}", r"\begin{document}",
           rf"\section*{{Backpropagation drill{': answer key' if key else ''}}}",
           rf"Seed \textbf{{{seed}}}, level {exercise.level} ({kind}).",
           "", rf"Compute every gradient of $${latex_name(r)} = {m(exercise.text)}$$ at "
           rf"${at}$, one chain-rule step at a time. Give each answer to {digits} "
           "significant figures.", "",
           r"\subsection*{The forward pass (given)}",
           r"\begin{longtable}{lll}", r"name & is & value \\ \hline"]
    for node in d.order:
        if node.parents:
            out.append(rf"${latex_name(d.names[node])}$ & ${m(definition(node, d.names))}$ & "
                       rf"${latex_number(node.data, digits)}$ \\")
    out += [r"\end{longtable}", r"\subsection*{The backward pass}",
            r"\renewcommand{\arraystretch}{1.6}", r"\small",
            r"\begin{longtable}{r>{$}l<{$}>{$}l<{$}>{$}l<{$}}",
            r"step & \text{chain rule} & \text{the local derivative} & "
            r"\text{the new gradient} \\ \hline"]

    def frac(top, bottom, partial=False):
        dd = r"\partial " if partial else "d"
        return rf"\frac{{{dd}{latex_name(top)}}}{{{dd}{latex_name(bottom)}}}"

    for k, step in enumerate(d.steps, 1):
        eq = r"\mathrel{+}=" if step.accumulates else "="
        rule = (f"{frac(r, step.parent_name)} {eq} {frac(r, step.node_name)} \\cdot "
                f"{frac(step.node_name, step.parent_name, True)}")
        local = (latex_number(step.local, digits)
                 if step.formula.strip("()") == format_number(step.local, digits)
                 else f"{m(step.formula)} = {latex_number(step.local, digits)}") if key else blank
        grad = latex_number(step.after, digits) if key else blank
        out.append(rf"{k} & {rule} & {local} & {grad} \\")
    out += [r"\end{longtable}", r"\subsection*{The gradients}", r"\begin{align*}"]
    rows = [f"{frac(r, d.names[v])} &= " + (latex_number(v.grad, digits) if key else blank)
            for v in _variables(d, exercise)]
    out += [" \\\\\n".join(rows), r"\end{align*}", r"\end{document}", ""]
    return "\n".join(out)
