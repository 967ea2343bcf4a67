"""Checking a hand derivation: is a claimed derivative right, and which chain-rule factor is not?

A claimed formula is decided symbolically by SymPy where it can (the difference of the
claim and the true derivative simplifies to 0), and otherwise at seeded random points of
the domain, comparing the claim with the engine's gradient there; the verdict says which
decided. A claimed number with NAME=NUMBER values is compared with the engine's
gradient to the significant figures it was written with (student.marking); without
values it is a constant formula, decided as any formula is. Each factor "dA/dB=..."
is checked the same way against the engine's dA/dB, so a wrong derivation names the
factor that went wrong. A and B are L (the output), a variable, a name given by
NAME=EXPR (a part of the expression), or a part written out in brackets.

Expressions are read once by `autograd_core.expr.parse` and computed by `expr.evaluate`
over floats or SymPy, and by `expr.build` as the engine's graph; every true value is the
engine's backward() gradient. `chainrule check` reads its options into these and prints
the verdicts.
"""

from __future__ import annotations

import ast
import math
import random
import re

from autograd_core import expr

from .marking import close_enough, significant_figures

__all__ = ["POINTS", "RANGE", "CheckError", "Problem", "Derivative", "Verdict", "decide",
           "decide_at", "decide_claim", "parse_factor"]

POINTS = 50
RANGE = 3.0
PLACEHOLDER = "chainrule_part"


class CheckError(Exception):
    """A mistake in what was asked (not a wrong claim): one line for the user."""


# ----------------------------------------------------------------- the pieces

def _dump(node) -> str:
    return ast.dump(node, include_attributes=False)


def _replace(tree, replacements):
    """A copy of the tree with each subtree whose dump is a key replaced by its value."""
    import copy

    class Replace(ast.NodeTransformer):
        def visit(self, node):
            new = replacements.get(_dump(node)) if isinstance(node, ast.expr) else None
            if new is not None:
                return copy.deepcopy(new)
            return self.generic_visit(node)

    return Replace().visit(copy.deepcopy(tree))


def _contains(tree, target) -> bool:
    wanted = _dump(target)
    return any(_dump(node) == wanted for node in ast.walk(tree) if isinstance(node, ast.expr))


def _as_expression(tree) -> expr.Expression:
    return expr.parse(ast.unparse(tree))


class Problem:
    """The function, its variables, the named parts, and the engine's answers."""

    def __init__(self, text, lets):
        self.function = expr.parse(text)
        self.variables = [n for n in self.function.names]
        self.root_name = expr.root_name(self.function)
        self.parts = {}  # name -> parsed part of the function
        for item in lets:
            name, sep, part = item.partition("=")
            name = name.strip()
            if not sep or not name.isidentifier():
                raise CheckError(f"--let {item!r}: write NAME=EXPR, e.g. --let z=\"w*x + b\"")
            if name in self.variables or name == self.root_name or name in self.parts:
                raise CheckError(f"--let {name}: that name is taken (a variable, the output "
                                 f"{self.root_name}, or an earlier --let); choose another")
            parsed = self._expand(expr.parse(part))
            if not _contains(self.function.tree, parsed.tree):
                raise CheckError(f"--let {name}={part.strip()}: that is not a part of "
                                 f"{self.function.text!r}; name a subexpression as written")
            self.parts[name] = parsed

    def _expand(self, parsed):
        """A claim or part with the --let names (and L, the output) replaced by what
        they stand for."""
        named = dict(self.parts)
        named[self.root_name] = self.function
        unknown = [n for n in parsed.names if n not in self.variables and n not in named]
        if unknown:
            raise CheckError(f"{parsed.text!r} uses {', '.join(unknown)}, which "
                             f"{'are' if len(unknown) > 1 else 'is'} neither a variable of "
                             f"{self.function.text!r}, nor {self.root_name} (the output), "
                             "nor a --let name")
        if not any(n in named for n in parsed.names):
            return parsed
        return _as_expression(_replace(parsed.tree, {
            _dump(ast.Name(id=n, ctx=ast.Load())): part.tree for n, part in named.items()}))

    def claim(self, text):
        return self._expand(expr.parse(text))

    def check_variable(self, name):
        """CheckError unless `name` is a variable of the function (--wrt NAME)."""
        if name in expr.constants():
            raise CheckError(f"--wrt {name}: {name} is a constant, not a variable, so "
                             "nothing is differentiated by it; its variables are "
                             f"{', '.join(self.variables) or 'none'}")
        if name not in self.variables:
            raise CheckError(f"--wrt {name}: not a variable of {self.function.text!r}; "
                             f"its variables are {', '.join(self.variables) or 'none'}")

    def resolve(self, name) -> expr.Expression:
        """L, a variable, a --let name or a bracketed part, as a parsed expression."""
        name = name.strip()
        if name == self.root_name:
            return self.function
        if name in self.parts:
            return self.parts[name]
        part = self._expand(expr.parse(name))
        if name not in self.variables and not _contains(self.function.tree, part.tree):
            raise CheckError(f"{name} is not the output {self.root_name}, a variable, a "
                             "--let name or a part of the expression")
        return part


class Derivative:
    """d top / d bottom: the engine's number at a point, and SymPy's formula."""

    def __init__(self, problem, top, bottom, label):
        self.problem, self.label = problem, label
        self.bottom = bottom
        if isinstance(bottom.tree, ast.Name) and bottom.tree.id in problem.variables:
            self.variable = bottom.tree.id
            self.top = top
        else:
            if not _contains(top.tree, bottom.tree):
                raise CheckError(f"{label}: {bottom.text!r} is not a part of {top.text!r}, so "
                                 "the chain rule has no such factor")
            self.variable = PLACEHOLDER
            self.top = _as_expression(_replace(top.tree, {
                _dump(bottom.tree): ast.Name(id=PLACEHOLDER, ctx=ast.Load())}))

    def engine(self, point) -> float:
        """The engine's backward() gradient at the point (a dict of the variables)."""
        values = {n: point[n] for n in self.top.names if n != PLACEHOLDER}
        if self.variable == PLACEHOLDER:
            values[PLACEHOLDER] = expr.evaluate(self.bottom, point)
        root, leaves = expr.build(self.top, values)
        root.backward()
        return leaves[self.variable].grad if self.variable in leaves else 0.0

    def symbolic(self, sympy):
        symbols = {n: sympy.Symbol(n) for n in self.problem.variables + [PLACEHOLDER]}
        functions = expr.backend("sympy")
        top = expr.evaluate(self.top, symbols, functions, number=_rational(sympy))
        result = sympy.diff(top, symbols[self.variable])
        if self.variable == PLACEHOLDER:
            bottom = expr.evaluate(self.bottom, symbols, functions, number=_rational(sympy))
            result = result.subs(symbols[PLACEHOLDER], bottom)
        return result


def _rational(sympy):
    return lambda v: sympy.Rational(repr(float(v))) if isinstance(v, float) else sympy.Integer(v)


class Verdict:
    """right (bool or None: undecided), how it was decided, and a differing point."""

    def __init__(self, right, method, point=None, claimed=None, true=None, formula=None):
        self.right, self.method, self.point = right, method, point
        self.claimed, self.true, self.formula = claimed, true, formula
        self.at = None  # for a formula claim with values: the decision at those values


def _points(problem, derivative, claim, count, seed):
    """Seeded random points where the function, the claim and the engine all compute."""
    rng = random.Random(seed)
    found = []
    for _ in range(count * 20):
        if len(found) == count:
            break
        point = {n: round(rng.uniform(-RANGE, RANGE), 3) for n in problem.variables}
        try:
            true = derivative.engine(point)
            claimed = float(expr.evaluate(claim, point))
        except (ValueError, ZeroDivisionError, OverflowError, ArithmeticError, TypeError):
            continue
        if math.isfinite(true) and math.isfinite(claimed):
            found.append((point, claimed, true))
    return found


def _agree(claimed, true):
    return abs(claimed - true) <= 1e-9 + 1e-7 * abs(true)


def decide(problem, derivative, claim, points=POINTS, seed=0) -> Verdict:
    """Is the claimed formula the derivative? SymPy first, then random points."""
    try:
        import sympy
    except ImportError:
        sympy = None
    formula = None
    if sympy is not None:
        try:
            true = derivative.symbolic(sympy)
            symbols = {n: sympy.Symbol(n) for n in problem.variables}
            claimed = expr.evaluate(claim, symbols, expr.backend("sympy"),
                                    number=_rational(sympy))
            formula = sympy.simplify(true)
            if sympy.simplify(claimed - true) == 0:
                return Verdict(True, "symbolically by SymPy: the claim minus the true "
                                     "derivative simplifies to 0", formula=formula)
        except Exception:  # noqa: BLE001 - any SymPy failure leaves the points to decide
            formula = None
    tried = _points(problem, derivative, claim, points, seed)
    if not tried:
        raise CheckError(f"found no point in [-{RANGE:g}, {RANGE:g}] where the expression and "
                         "the claim can both be computed; check the claim at values: add "
                         "NAME=NUMBER")
    for point, claimed, true in tried:
        if not _agree(claimed, true):
            how = (f"at random points (seed {seed}; SymPy did not find them equal either)"
                   if sympy is not None else f"at random points (seed {seed})")
            return Verdict(False, how, point, claimed, true, formula)
    if sympy is not None and formula is not None:
        return Verdict(True, f"at {len(tried)} random points (seed {seed}), to 1e-7; SymPy "
                             "could not simplify the difference to 0", formula=formula)
    return Verdict(True, f"at {len(tried)} random points (seed {seed}), to 1e-7 (install "
                         "SymPy for a symbolic decision)", formula=formula)


def decide_at(derivative, claim_text, claim, point) -> Verdict:
    """A claim at given values: equal to the engine's gradient to the digits written."""
    true = derivative.engine(point)
    claimed = float(expr.evaluate(claim, point))
    digits = significant_figures(claim_text)
    if digits is not None:
        right = close_enough(claimed, true, digits, text=claim_text)
        figures = "figure" if digits == 1 else "figures"
        how = f"at the values given, to the {digits} significant {figures} written"
    else:
        right = _agree(claimed, true)
        how = "at the values given, to 1e-7"
    return Verdict(right, how, point, claimed, true)


def decide_claim(problem, derivative, claim_text, claim, point, points=POINTS, seed=0):
    """A claim with a variable in it is a formula: decided everywhere (SymPy or random
    points), with its value at the given values reported beside (`verdict.at`). A claim
    without one is a number, compared at the values given (or, without values, a
    constant formula)."""
    if point is None:
        return decide(problem, derivative, claim, points, seed)
    if not claim.names:
        return decide_at(derivative, claim_text, claim, point)
    at = decide_at(derivative, claim_text, claim, point)
    try:
        verdict = decide(problem, derivative, claim, points, seed)
    except CheckError:  # no random point computes: only the given values can decide
        at.method = ("at the values given only: no random point computes the claim, so "
                     "it is not decided as a formula")
        return at
    verdict.at = at
    return verdict


def parse_factor(problem, item):
    """(label, Derivative, claimed text, parsed claim) of one --factor "dA/dB=EXPR"."""
    label, sep, text = item.partition("=")
    match = re.fullmatch(r"\s*d\s*(.+?)\s*/\s*d\s*(.+?)\s*", label)
    if not sep or not match:
        raise CheckError(f"--factor {item!r}: write dA/dB=EXPR, e.g. --factor \"dL/dz=z*(1-z)\"")
    try:
        top, bottom = problem.resolve(match.group(1)), problem.resolve(match.group(2))
        factor = Derivative(problem, top, bottom, label.strip())
        return label.strip(), factor, text, problem.claim(text)
    except CheckError as error:  # say which of several factors it is about
        raise CheckError(f"--factor {item!r}: {error}") from None
    except expr.ExpressionError as error:
        raise expr.ExpressionError(f"--factor {item!r}: {error.message}", error.text,
                                   error.start, error.end) from None


