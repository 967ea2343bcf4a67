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

Deciding is `student.check`'s (SymPy, random points, the factors); this module reads the
options into it and prints the verdicts; every number printed as the true value is the
engine's backward() gradient.
"""

from __future__ import annotations

import argparse

from autograd_core import expr
from autograd_core.numbers import exact_number, format_number
from chainrule.errors import fail
from student.check import (POINTS, CheckError, Derivative, Problem, decide_claim,
                           parse_factor)

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


def _shown(x):
    # ten figures: a claim that is off in the sixth figure must show it
    return format_number(x, 10)


def _show_point(point):
    return ", ".join(f"{n} = {exact_number(v)}" for n, v in point.items())


def _run(args) -> int:
    if args.points < 1:
        raise CheckError(f"--points must be 1 or more, got {args.points}")
    problem = Problem(args.expression, args.let)
    assignments, claim_text = _split_items(args.items, args.wrt)
    args.wrt = args.wrt[0]
    problem.check_variable(args.wrt)
    point = expr.parse_assignments(assignments, problem.function) if assignments else None
    claim = problem.claim(claim_text)
    factors = [parse_factor(problem, item) for item in args.factor]  # every option read first
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
    report(verdict, f"d{r}/d{args.wrt}")

    wrong_factors = []
    if args.factor:
        print("\nfactors:")
    for label, factor, text, claimed in factors:
        result = decide_claim(problem, factor, text, claimed, point, args.points, args.seed)
        print(f"  {label} = {text.strip()}: ", end="")
        report(result, label, indent="    ")
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


def report(verdict, label, indent=""):
    _report(verdict, label, indent)
    at = getattr(verdict, "at", None)
    if at is None:
        return
    there = (f"{indent}at the values given ({_show_point(at.point)}) the claim gives "
             f"{_shown(at.claimed)} and the engine's {label} is "
             f"{_shown(at.true)}")
    if verdict.right or not at.right:
        print(there)
    else:
        print(f"{there}: right at these values only; as a formula the claim is WRONG")


def _report(verdict, label, indent=""):
    if verdict.right:
        print(f"{'' if indent else 'verdict: '}RIGHT" + (f" (decided {verdict.method})"))
        if verdict.true is not None:
            print(f"{indent}the engine's {label} there is {_shown(verdict.true)}")
        return
    print(f"{'' if indent else 'verdict: '}WRONG (decided {verdict.method})")
    print(f"{indent}at {_show_point(verdict.point)}: the claim gives "
          f"{_shown(verdict.claimed)}, the engine's {label} is "
          f"{_shown(verdict.true)}")
    if verdict.formula is not None:
        print(f"{indent}{label} = {verdict.formula}   (SymPy)")
