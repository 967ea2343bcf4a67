"""`chainrule quiz`: the student works out every chain-rule step; each answer is checked.

The steps are the narrator's (`visualize.explain.narrate`), the same the `grad` command
prints; for each one the student types the local derivative and the parent's new
gradient. An answer counts when it equals the engine's number to the significant
figures shown (`--digits`), as `student.marking` marks every answer; after a wrong one
the op table's rule is the hint, and a second wrong one shows the answer. Reads answers line by line from standard input, so
a class can also pipe a file of answers in.
"""

from __future__ import annotations

import argparse
import sys

from autograd_core import expr
from chainrule.argtypes import digits
from chainrule.errors import fail

EXAMPLES = """\
examples:
  chainrule quiz "sigmoid(w*x + b)" w=-1.2 x=0.5 b=0.1
  chainrule quiz "x*y + exp(x)" x=1 y=2 --digits 3

Type a number (0.25, -1.5e-3) or a fraction (1/4); an empty line shows the answer
(it scores nothing); q quits. An answer counts when it is the engine's value rounded
to the significant figures it is written with, at least --digits (default 4): for
0.2350037, 0.235 and 0.2350 are right, 0.23 and the over-precise 0.23504 are not.
"""

TRIES = 2


def register(subparsers):
    parser = subparsers.add_parser(
        "quiz", help="work out every chain-rule step yourself; each answer is checked",
        description="For each chain-rule step of the backward pass, type the local "
                    "derivative and the new gradient; get a hint after a wrong answer "
                    "and a score at the end.",
        epilog=EXAMPLES, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("expression", metavar="EXPRESSION",
                        help='the expression, quoted, e.g. "sigmoid(w*x + b)"')
    parser.add_argument("assignments", metavar="NAME=NUMBER", nargs="*",
                        help="a value for each variable, e.g. w=-1.2 x=0.5")
    parser.add_argument("--digits", type=digits, default=4, metavar="N",
                        help="significant figures shown, and the fewest an answer is "
                             "rounded to (default 4)")
    parser.set_defaults(run=run)
    return parser


class Quit(Exception):
    """The student typed q or the input ended."""


def run(args) -> int:
    try:
        parsed = expr.parse(args.expression)
        values = expr.parse_assignments(args.assignments, parsed)
        root, _ = expr.build(parsed, values)
    except expr.ExpressionError as error:
        return fail(str(error), error.where())
    if args.digits < 1:
        return fail("--digits must be at least 1 for a quiz")
    return quiz(root, parsed, values, args.digits, sys.stdin, sys.stdout)


def quiz(root, parsed, values, digits, read, out) -> int:
    from autograd_core.numbers import exact_number, format_number
    from visualize.explain import narrate

    derivation = narrate(root)
    f = lambda x: format_number(x, digits)  # noqa: E731
    steps = derivation.steps
    # As `chainrule grad` says it: the output is L, even when it is a variable itself
    # ("x = x" read as an equation).
    root_name = derivation.root_name if root.parents else expr.root_name(parsed)
    print(f"{root_name} = {parsed.text}", file=out)
    if parsed.names:
        print("at " + "  ".join(f"{n} = {exact_number(values[n])}" for n in parsed.names),
              file=out)
    print(f"value: {root_name} = {f(root.data)}", file=out)
    for row in derivation.legend_lines():
        print(f"where {row}", file=out)
    if not steps:
        print("\nno chain-rule steps here: nothing to ask.", file=out)
        return 0
    print(f"\n{len(steps)} steps, {2 * len(steps)} answers. For each step type the local "
          "derivative, then the new gradient\n(a number or a fraction such as 1/4; an "
          "empty line shows the answer; q quits).", file=out)
    score, asked = 0, 0
    try:
        for k, step in enumerate(steps, 1):
            r, n, p = step.root_name, step.node_name, step.parent_name
            print(f"\nstep {k}/{len(steps)}: d{r}/d{p} {'+=' if step.accumulates else '='} "
                  f"d{r}/d{n} * {step.local_symbol}, with d{r}/d{n} = {f(step.upstream)}",
                  file=out)
            asked += 1
            score += ask(f"  {step.local_symbol} = ", step.local, digits, read, out,
                         hint=f"{step.hint}; here {step.local_symbol} = {step.formula}",
                         answer=f"{step.local_symbol} = " + (
                             f(step.local) if step.formula == f(step.local)
                             else f"{step.formula} = {f(step.local)}"))
            asked += 1
            score += ask(f"  new grad of {p} (it was {f(step.before)}) = ", step.after, digits,
                         read, out,
                         hint=(f"new grad = old grad + d{r}/d{n} * {step.local_symbol}"),
                         answer=f"grad of {p} = {f(step.after)}")
    except Quit:
        print(f"\nstopped. score: {score} / {asked - 1 if asked else 0} answered "
              f"({2 * len(steps)} in all)", file=out)
        return 0
    print(f"\nscore: {score} / {asked}", file=out)
    by_label = {v.label: v for v in derivation.variables()}
    grads = [f"d{derivation.root_name}/d{name} = {f(by_label[name].grad)}"
             for name in parsed.names if name in by_label]  # as the expression orders them
    if grads:
        print("the gradients: " + ", ".join(grads), file=out)
    return 0


def ask(prompt, true, digits, read, out, hint, answer) -> int:
    """Ask up to TRIES times; 1 if right the first time, else 0."""
    from student.marking import is_right

    attempt = 0
    while attempt < TRIES:
        print(prompt, end="", file=out, flush=True)
        line = read.readline()
        if not line or line.strip().lower() in ("q", "quit"):
            raise Quit
        if not line.strip():
            print(f"  answer: {answer}", file=out)
            return 0
        try:
            right = is_right(line, true, digits)
        except ValueError as error:
            print(f"  {error}", file=out)  # a typo is not a wrong answer: ask again
            continue
        attempt += 1
        if right:
            print("  right" + ("" if attempt == 1 else " (second try: no point)"), file=out)
            return 1 if attempt == 1 else 0
        print(f"  not quite. hint: {hint}" if attempt < TRIES else
              f"  not quite. answer: {answer}", file=out)
    return 0
