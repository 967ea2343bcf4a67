"""`chainrule grad`: differentiate an expression and show every chain-rule step.

The expression is read by the safe parser in `chainrule.expr` (never `eval`), built as
a graph of Values whose leaves are labelled by the variable names, and differentiated
step by step with `visualize.explain_backward`, so each printed line is one
`parent.grad += local * upstream` a student can check by hand.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys

from chainrule import expr
from chainrule.argtypes import digits
from chainrule.errors import fail

EXAMPLES = """\
examples:
  chainrule grad "sigmoid(w*x + b)" w=-1.2 x=0.5 b=0.1
  chainrule grad "x*y + exp(x)" x=1 y=2 --digits 6
  chainrule grad "tanh(w1*x1 + w2*x2 + b)" w1=0.3 x1=2 w2=-0.5 x2=1 b=0.1 --svg neuron.svg
  chainrule grad "log(1 + exp(-y*z))" y=1 z=0.4 --step          (Enter: next, b: back, q: quit)
  chainrule grad -- "-x**2" x=3                                  (a leading minus goes after --)

allowed: numbers, variables, + - * / ** (power), unary - and +, parentheses, and
exp(), log(), tanh(), sigmoid(), relu() with one argument each. The output is called L
in the step lines; a short subexpression is called by its own text, e.g. (w*x).
"""


class CommandError(Exception):
    """An error for the user: printed as one 'chainrule: error: ...' message, exit 2."""


def register(subparsers):
    parser = subparsers.add_parser(
        "grad", help="differentiate an expression and show every chain-rule step",
        description="Differentiate an expression with respect to each of its variables and "
                    "print the value, the gradients and every chain-rule step of the "
                    "backward pass.",
        epilog=EXAMPLES, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("expression", metavar="EXPRESSION",
                        help='the expression, quoted, e.g. "sigmoid(w*x + b)"')
    parser.add_argument("assignments", metavar="NAME=NUMBER", nargs="*",
                        help="a value for each variable, e.g. w=-1.2 x=0.5")
    parser.add_argument("--digits", type=digits, default=4, metavar="N",
                        help="decimal places shown (default 4)")
    parser.add_argument("--svg", metavar="FILE", help="also draw the graph as SVG to FILE")
    parser.add_argument("--png", metavar="FILE", help="also draw the graph as PNG to FILE")
    parser.add_argument("--html", metavar="FILE",
                        help="also write a self-contained step-through web page to FILE")
    parser.add_argument("--step", action="store_true",
                        help="in a terminal, show one step per key press: Enter next, "
                             "b back, q quit (prints everything when not a terminal)")
    parser.set_defaults(run=run)
    return parser



def run(args) -> int:
    try:
        return _run(args)
    except expr.ExpressionError as error:
        return fail(str(error), error.where())
    except CommandError as error:
        return fail(str(error))


def _run(args) -> int:
    parsed = expr.parse(args.expression)
    values = expr.parse_assignments(args.assignments, parsed)
    outputs = [(option, path) for option, path in
               (("svg", args.svg), ("png", args.png), ("html", args.html)) if path is not None]
    for option, path in outputs:
        check_writable(path, option)
    sources = {}
    root, leaves = expr.build(parsed, values, sources=sources)
    root_name = root.label if root.parents else expr.root_name(parsed)
    steps = backward_steps(root, args.digits)
    # Files first: if one cannot be written, the run fails before printing anything.
    for option, path in outputs:
        write_output(root, path, option)

    fmt = f"{{:.{args.digits}f}}".format
    out = sys.stdout
    print(f"{root_name} = {parsed.text}", file=out)
    if parsed.names:
        print("at " + "  ".join(f"{name} = {values[name]!r}" for name in parsed.names),
              file=out)
    print(f"\nvalue: {root_name} = {fmt(root.data)}", file=out)
    print_legend(root, sources, out)
    interactive = args.step and sys.stdin.isatty()
    if interactive:
        pass  # the gradients are the answers: --step lets them fill in one step at a time
    elif parsed.names:
        print("\ngradients:", file=out)
        for name in parsed.names:
            print(f"  d{root_name}/d{name} = {fmt(leaves[name].grad)}", file=out)
    else:
        print("\nno variables: there is nothing to differentiate.", file=out)
    for option, path in outputs:
        print(f"wrote {path}", file=out)

    if interactive:
        return step_through_terminal(steps, parsed.names, args.digits, out)
    print_steps(steps, out)
    return 0


def print_legend(root, sources, out):
    """What the names n1, n2, ... in the steps stand for."""
    from visualize.explain import node_names
    names = node_names(root)
    legend = sorted(((names[v], text) for v, text in sources.items()
                     if v is not root and names[v] != text), key=lambda p: int(p[0][1:]))
    if legend:
        print("\nwhere " + "\n      ".join(f"{name} = {text}" for name, text in legend),
              file=out)


class ShownStep:
    """A chain-rule step as printed: its line and the gradient it fills in."""

    __slots__ = ("number", "line", "parent_name", "before", "after")

    def __init__(self, number, line, parent_name, before, after):
        self.number, self.line = number, line
        self.parent_name, self.before, self.after = parent_name, before, after


def backward_steps(root, digits):
    """Run the backward pass; each step records the parent's gradient before and after it,
    for the --step display. Steps into constants (the 2 in 2*x) are kept, so the text,
    the picture and the step-through page show the same steps with the same numbers."""
    from visualize.explain import explain_backward, node_names

    names = node_names(root)
    shown = []
    for step, line in explain_backward(root, digits=digits):  # runs the backward pass
        parent = step.parent
        after = parent.grad
        shown.append(ShownStep(len(shown) + 1, line, names[parent],
                               after - step.contribution, after))
    return shown


def print_steps(steps, out):
    if not steps:
        print("\nno chain-rule steps: no variable goes through an operation here.", file=out)
        return
    count = f"{len(steps)} step{'s' if len(steps) != 1 else ''}"
    print(f"\nchain rule, step by step ({count}, output to inputs; "
          "+= adds one path's share):", file=out)
    width = len(str(len(steps)))
    for step in steps:
        print(f"  {step.number:>{width}}. {step.line}", file=out)


def check_writable(path, option):
    """Fail before any work if an output file cannot be written."""
    if not path.strip():
        raise CommandError(f"--{option} needs a file name, got an empty one")
    folder = os.path.dirname(os.path.abspath(path)) or "."
    if os.path.exists(path) and not os.path.isfile(os.path.realpath(path)):
        raise CommandError(f"--{option} {path}: that is a folder or a device, not a file; "
                           "give a file name")
    if not path.lower().endswith("." + option):
        raise CommandError(f"--{option} {path}: the name should end in .{option}, or the "
                           "file's contents and its name would disagree")
    if os.path.exists(folder) and not os.path.isdir(folder):
        raise CommandError(f"--{option} {path}: {folder} is a file, not a folder")
    if not os.path.isdir(folder):
        raise CommandError(f"--{option} {path}: the folder {folder} does not exist; create it "
                           "or choose another path")
    if not os.access(folder, os.W_OK):
        raise CommandError(f"--{option} {path}: cannot write in {folder} (permission denied); "
                           "choose another path")


def write_output(root, path, option):
    """The picture or the step-through page (which leaves the graph's grads as they are)."""
    try:
        if option == "html":
            from visualize.step_through import step_through_html
            step_through_html(root, path)
        else:
            from visualize import render
            render(root, path, format=option)
    except OSError as error:
        raise CommandError(f"--{option} {path}: cannot write it: "
                           f"{error.strerror or error}") from None
    except (ValueError, RuntimeError) as error:
        raise CommandError(f"--{option} {path}: {error}") from None


# ---------------------------------------------------------------- the --step display

PROMPT = "[Enter] next   [b] back   [q] quit"
# Right/down arrows step forward, left/up step back.
ARROWS = {b"\x1b[C": "n", b"\x1b[B": "n", b"\x1b[D": "b", b"\x1b[A": "b",
          b"\x1bOC": "n", b"\x1bOB": "n", b"\x1bOD": "b", b"\x1bOA": "b"}


def step_through_terminal(steps, variables, digits, out, read_key=None) -> int:
    """One step per key press, the receiving node's gradient filling in each time.

    Step 0 is the forward pass alone: every gradient still blank. Going back shows the
    previous step again. Returns the exit status (0; 130 after Ctrl-C).
    """
    if read_key is None:
        with _terminal_keys() as read_key:
            return step_through_terminal(steps, variables, digits, out, read_key)
    fmt = f"{{:.{digits}f}}".format
    total = len(steps)
    print(f"\nchain rule, one step at a time ({total} steps).  {PROMPT}", file=out)
    position = 0

    def show():
        if position == 0:
            print(f"\n[0/{total}] forward pass only: no gradient is known yet", file=out)
        else:
            step = steps[position - 1]
            print(f"\n[{position}/{total}] {step.line}", file=out)
            print(f"        grad of {step.parent_name}: {fmt(step.before)} -> "
                  f"{fmt(step.after)}", file=out)
        known = {}
        for step in steps[:position]:
            if step.parent_name in variables:
                known[step.parent_name] = step.after
        print("        so far: " + "  ".join(
            f"{name}={fmt(known[name]) if name in known else '?'}" for name in variables),
              file=out)
        out.flush()

    show()
    try:
        while True:
            key = read_key()
            if key in ("q", "Q", "\x04", ""):  # q, Ctrl-D, end of input
                print("quit", file=out)
                return 0
            if key in ("b", "B", "p", "\x7f", "\x08"):
                if position == 0:
                    print("(already at the start)", file=out)
                    out.flush()
                    continue
                position -= 1
            elif key in ("\n", "\r", " ", "n", "N"):
                if position == total:
                    print("\ndone: every gradient is in (see 'gradients' above).", file=out)
                    return 0
                position += 1
            else:
                print(f"({PROMPT})", file=out)
                out.flush()
                continue
            show()
    except KeyboardInterrupt:
        print("", file=out)
        return 130


@contextlib.contextmanager
def _terminal_keys():
    """Yield a function that reads one key press; the terminal is in cbreak mode (keys
    arrive at once, unechoed) for the whole session and restored afterwards. Where
    termios is missing (Windows) it reads one line per step instead."""
    try:
        import select
        import termios
        import tty
    except ImportError:
        def read_line():
            try:
                line = input()
            except EOFError:
                return ""
            return line.strip()[:1] or "\n"
        yield read_line
        return

    fd = sys.stdin.fileno()

    def read_key():
        data = os.read(fd, 1)
        if data == b"\x1b" and select.select([fd], [], [], 0.05)[0]:
            data += os.read(fd, 8)  # an arrow key: ESC [ C
        return ARROWS.get(data, data.decode("latin-1"))

    saved = termios.tcgetattr(fd)
    # TCSANOW, not the default TCSAFLUSH: keys typed ahead must not be thrown away.
    tty.setcbreak(fd, termios.TCSANOW)
    try:
        yield read_key
    finally:
        termios.tcsetattr(fd, termios.TCSANOW, saved)
