"""`chainrule check`: is a hand-derived derivative right, and which chain-rule factor is not?

    chainrule check "sigmoid(w*x + b)" --wrt w "sigmoid(w*x+b) * (1 - sigmoid(w*x+b)) * x"
    chainrule check "sigmoid(w*x + b)" w=-1.2 x=0.5 b=0.1 --wrt w 0.1175
    chainrule check "sigmoid(w*x + b)" --wrt w "z*(1-z)*w" --let z="sigmoid(w*x + b)" \\
        --let u="w*x + b" --factor "dL/du=z*(1-z)" --factor "du/dw=w"

A claimed formula is decided symbolically by SymPy where it can (the difference of the
claim and the true derivative simplifies to 0), and otherwise at seeded random points of
the domain, comparing the claim with the engine's gradient there; the output says which
decided. A claimed number with NAME=NUMBER values is compared with the engine's
gradient to the significant figures it was written with; without values it is a
constant formula, decided as any formula is. Each `--factor "dA/dB=..."`
is checked the same way against the engine's dA/dB, so a wrong derivation names the
factor that went wrong. A and B are L (the output), a variable, a name given by
`--let NAME=EXPR` (a part of the expression), or a part written out in brackets.

Expressions are read once by `chainrule.expr.parse` and computed by `expr.evaluate`
over floats or SymPy, and by `expr.build` as the engine's graph; every number printed as
the true value is the engine's backward() gradient.
"""

from __future__ import annotations

import argparse
import ast
import math
import random
import re

from autograd_core import expr
from chainrule.errors import fail

EXAMPLES = """\
examples:
  chainrule check "sigmoid(w*x + b)" --wrt w "sigmoid(w*x+b) * (1 - sigmoid(w*x+b)) * x"
  chainrule check "x**3 * y" --wrt x "3*x**2*y"
  chainrule check "sigmoid(w*x + b)" w=-1.2 x=0.5 b=0.1 --wrt w 0.1175
  chainrule check "sigmoid(w*x + b)" --wrt w "s*(1-s)*w" --let s="sigmoid(w*x + b)" \\
      --let u="w*x + b" --factor "dL/du=s*(1-s)" --factor "du/dw=w"

A claim with a variable in it is a formula and is decided as one even when values are
given; its value at those values is reported beside.

Exit status: 0 when the claim and every --factor given are right, 1 when the claim or
any factor is wrong, 2 for a mistake in the command. Without SymPy (pip install 'chainrule[symbolic]') formulas are decided at
random points only.
"""

POINTS = 50
RANGE = 3.0
PLACEHOLDER = "chainrule_part"


class CheckError(Exception):
    """A mistake in the command: one line for the user."""


def register(subparsers):
    parser = subparsers.add_parser(
        "check", help="check a derivative you worked out by hand, factor by factor",
        description="Check a claimed derivative (a formula or, with values, a number) "
                    "against the true one; with --factor, find the wrong chain-rule factor.",
        epilog=EXAMPLES, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("expression", metavar="EXPRESSION", help="the function, quoted")
    parser.add_argument("items", metavar="NAME=NUMBER", nargs="*",
                        help="values, for a claim that is a number (optional)")
    parser.add_argument("--wrt", required=True, nargs="+", metavar=("NAME", "CLAIM"),
                        help="the variable the claim differentiates by, then the claimed "
                             "derivative: a formula or a number")
    parser.add_argument("--let", action="append", default=[], metavar="NAME=EXPR",
                        help="name a part of the expression, for claims and factors")
    parser.add_argument("--factor", action="append", default=[], metavar="dA/dB=EXPR",
                        help="a chain-rule factor you derived, checked on its own")
    parser.add_argument("--points", type=int, default=POINTS, metavar="N",
                        help=f"random points tried (default {POINTS})")
    parser.add_argument("--seed", type=int, default=0, help="seed of the random points")
    parser.set_defaults(run=run)
    return parser


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


def _significant(text: str):
    """Significant figures of a plain number as typed ('0.1175' -> 4), else None."""
    from visualize.explain import significant_figures
    return significant_figures(text)


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
    digits = _significant(claim_text)
    if digits is not None:
        from visualize.explain import close_enough
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


# --------------------------------------------------------------------- command

def run(args) -> int:
    try:
        return _run(args)
    except expr.ExpressionError as error:
        return fail(str(error), error.where())
    except CheckError as error:
        return fail(str(error))


def _split_items(items, wrt):
    assignments, claims = [], list(wrt[1:])
    for item in items:
        name, sep, _ = item.partition("=")
        if sep and name.strip().isidentifier() and "==" not in item:
            assignments.append(item)
        else:
            claims.append(item)
    if len(claims) != 1:
        raise CheckError("give exactly one claimed derivative after the expression (a formula "
                         "or a number), got " + (", ".join(repr(c) for c in claims) or "none"))
    return assignments, claims[0]


def _show_point(point):
    from visualize.explain import exact_number
    return ", ".join(f"{n} = {exact_number(v)}" for n, v in point.items())


def _run(args) -> int:
    from visualize.explain import format_number

    if args.points < 1:
        raise CheckError(f"--points must be 1 or more, got {args.points}")
    problem = Problem(args.expression, args.let)
    assignments, claim_text = _split_items(args.items, args.wrt)
    args.wrt = args.wrt[0]
    if args.wrt in expr.constants():
        raise CheckError(f"--wrt {args.wrt}: {args.wrt} is a constant, not a variable, so "
                         "nothing is differentiated by it; its variables are "
                         f"{', '.join(problem.variables) or 'none'}")
    if args.wrt not in problem.variables:
        raise CheckError(f"--wrt {args.wrt}: not a variable of {problem.function.text!r}; "
                         f"its variables are {', '.join(problem.variables) or 'none'}")
    point = expr.parse_assignments(assignments, problem.function) if assignments else None
    claim = problem.claim(claim_text)
    factors = [_factor(problem, item) for item in args.factor]  # every option read first
    if point is not None:  # a value outside the function's domain, before any output
        expr.build(problem.function, point)
    # Without values a number is a formula too (a constant function), decided like any other.
    r = problem.root_name
    total = Derivative(problem, problem.function, expr.parse(args.wrt), f"d{r}/d{args.wrt}")
    print(f"{r} = {problem.function.text}")
    for name, part in problem.parts.items():
        print(f"{name} = {part.text}")
    print(f"claim: d{r}/d{args.wrt} = {claim_text}")
    verdict = decide_claim(problem, total, claim_text, claim, point, args.points, args.seed)
    report(verdict, f"d{r}/d{args.wrt}", format_number)

    wrong_factors = []
    if args.factor:
        print("\nfactors:")
    for label, factor, text, claimed in factors:
        result = decide_claim(problem, factor, text, claimed, point, args.points, args.seed)
        print(f"  {label} = {text.strip()}: ", end="")
        report(result, label, format_number, indent="    ")
        if result.right is False:
            wrong_factors.append(label)
    if not args.factor and verdict.right is False:
        print(f"\n(to find which chain-rule factor is wrong, name the parts with --let and "
              f"give each factor with --factor \"d{r}/dz=...\"; see chainrule check --help)")
    if wrong_factors:
        print(f"\nthe wrong factor{'s' if len(wrong_factors) > 1 else ''}: "
              f"{', '.join(wrong_factors)}")
    elif args.factor and verdict.right is False:
        print("\nevery factor is right: the mistake is in multiplying them together "
              "(a path left out, or one counted twice?)")
    return 0 if verdict.right and not wrong_factors else 1


def _factor(problem, item):
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


def report(verdict, label, format_number, indent=""):
    _report(verdict, label, format_number, indent)
    at = getattr(verdict, "at", None)
    if at is None:
        return
    there = (f"{indent}at the values given ({_show_point(at.point)}) the claim gives "
             f"{format_number(at.claimed, 10)} and the engine's {label} is "
             f"{format_number(at.true, 10)}")
    if verdict.right or not at.right:
        print(there)
    else:
        print(f"{there}: right at these values only; as a formula the claim is WRONG")


def _report(verdict, label, format_number, indent=""):
    if verdict.right:
        print(f"{'' if indent else 'verdict: '}RIGHT" + (f" (decided {verdict.method})"))
        if verdict.true is not None:
            print(f"{indent}the engine's {label} there is {format_number(verdict.true, 10)}")
        return
    print(f"{'' if indent else 'verdict: '}WRONG (decided {verdict.method})")
    print(f"{indent}at {_show_point(verdict.point)}: the claim gives "
          f"{format_number(verdict.claimed, 10)}, the engine's {label} is "
          f"{format_number(verdict.true, 10)}")
    if verdict.formula is not None:
        print(f"{indent}{label} = {verdict.formula}   (SymPy)")
