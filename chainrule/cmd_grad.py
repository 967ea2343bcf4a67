"""`chainrule grad`: differentiate an expression and show every chain-rule step.

The expression is read by the safe parser in `autograd_core.expr` (never `eval`), built as
a graph of Values whose leaves are labelled by the variable names, and differentiated
step by step by `visualize.explain.narrate`, so each printed line is one
`parent.grad += local * upstream` a student can check by hand. --formula and --paths
come from `visualize.paths`, the LaTeX and the frames from `visualize.export`.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys

from autograd_core import expr
from autograd_core.numbers import DIGITS
from chainrule.argtypes import digits, whole_number
from chainrule.errors import fail
from visualize.paths import LIMIT

EXAMPLES = """\
examples:
  chainrule grad "sigmoid(w*x + b)" w=-1.2 x=0.5 b=0.1
  chainrule grad "x*y + exp(x)" x=1 y=2 --digits 6
  chainrule grad "sigmoid(w*x + b)" w=-1.2 x=0.5 b=0.1 --formula --paths
  chainrule grad "tanh(w1*x1 + w2*x2 + b)" w1=0.3 x1=2 w2=-0.5 x2=1 b=0.1 --svg neuron.svg
  chainrule grad "w*x*w" w=2 x=3 --passes 2 --html twice.html    (why zero_grad)
  chainrule grad "sigmoid(w*x + b)" w=-1.2 x=0.5 b=0.1 --latex steps.tex --gif steps.gif
  chainrule grad "log(1 + exp(-y*z))" y=1 z=0.4 --step          (Enter: next, b: back, q: quit)
  chainrule grad -- "-x**2" x=3                                  (a leading minus goes after --)

allowed: numbers, variables, pi, e, + - * / ** (power), unary - and +, parentheses,
and the functions
  {functions}.
The output is called L in the step lines; a short subexpression is called by its own
text, e.g. (w*x), and a longer one n1, n2, ... (listed under "where"). Numbers are
shown to --digits significant figures.
"""

OUTPUTS = ("svg", "png", "html", "latex", "gif")
SUFFIX = {"svg": ".svg", "png": ".png", "html": ".html", "latex": ".tex", "gif": ".gif"}


class CommandError(Exception):
    """An error for the user: printed as one 'chainrule: error: ...' message, exit 2."""


def register(subparsers):
    parser = subparsers.add_parser(
        "grad", help="differentiate an expression and show every chain-rule step",
        description="Differentiate an expression with respect to each of its variables and "
                    "print the value, the gradients and every chain-rule step of the "
                    "backward pass.",
        epilog=EXAMPLES.format(functions=", ".join(f"{name}()" for name in expr.functions())),
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("expression", metavar="EXPRESSION",
                        help='the expression, quoted, e.g. "sigmoid(w*x + b)"')
    parser.add_argument("assignments", metavar="NAME=NUMBER", nargs="*",
                        help="a value for each variable, e.g. w=-1.2 x=0.5")
    parser.add_argument("--digits", type=digits, default=DIGITS, metavar="N",
                        help=f"significant figures shown (default {DIGITS})")
    parser.add_argument("--formula", action="store_true",
                        help="print each gradient as a formula from the op table's local "
                             "derivatives (and simplified by SymPy when it is installed)")
    parser.add_argument("--paths", action="store_true",
                        help="list every path from the output to each variable, the product "
                             "of local derivatives along it, and their sum")
    parser.add_argument("--max-paths", type=positive, default=LIMIT, metavar="N",
                        help=f"list at most N paths per variable (default {LIMIT}); beyond "
                             "that only their number is given")
    parser.add_argument("--passes", type=passes_count, default=1, metavar="N",
                        help="show N calls of backward() in the steps and the --html page "
                             "(inputs accumulate, results are recomputed: why zero_grad)")
    parser.add_argument("--svg", metavar="FILE", help="also draw the graph as SVG to FILE")
    parser.add_argument("--png", metavar="FILE", help="also draw the graph as PNG to FILE")
    parser.add_argument("--html", metavar="FILE",
                        help="also write a self-contained step-through web page to FILE")
    parser.add_argument("--quiz", action="store_true",
                        help="make the --html page a quiz: gradients blank until answered")
    parser.add_argument("--latex", metavar="FILE",
                        help="also write the steps as a LaTeX align* environment to FILE (.tex)")
    parser.add_argument("--frames", metavar="FOLDER",
                        help="also draw the backward pass as SVG frames, one per step, into "
                             "FOLDER (new, or holding no frame_* files)")
    parser.add_argument("--gif", metavar="FILE",
                        help="also draw the backward pass as an animated GIF (needs Pillow)")
    parser.add_argument("--step", action="store_true",
                        help="in a terminal, show one step per key press: Enter next, "
                             "b back, q quit (prints everything when not a terminal)")
    parser.set_defaults(run=run)
    return parser


def positive(text):
    number = whole_number(text)
    if number < 1:
        raise argparse.ArgumentTypeError(f"{number} is too small; give 1 or more")
    return number


def passes_count(text):
    number = whole_number(text)
    if not 1 <= number <= 5:
        raise argparse.ArgumentTypeError(f"{number} is out of range; use 1 to 5")
    return number


def run(args) -> int:
    try:
        return _run(args)
    except expr.ExpressionError as error:
        return fail(str(error), error.where())
    except CommandError as error:
        return fail(str(error))


def _run(args) -> int:
    from autograd_core.numbers import exact_number, format_number
    from visualize.explain import kept_grads, narrate

    parsed = expr.parse(args.expression)
    values = expr.parse_assignments(args.assignments, parsed)
    outputs = [(option, getattr(args, option)) for option in OUTPUTS
               if getattr(args, option) is not None]
    for option, path in outputs:
        check_writable(path, option)
    if args.frames is not None:
        check_folder(args.frames)
    if args.quiz and args.html is None:
        raise CommandError("--quiz makes the --html page a quiz; give --html FILE too, or "
                           "use `chainrule quiz` for a quiz in the terminal")
    root, leaves = expr.build(parsed, values)
    root_name = root.label if root.parents else expr.root_name(parsed)
    derivation = narrate(root)  # the backward pass: every leaf's grad is now filled in
    if args.passes > 1:
        with kept_grads(root):
            derivation = narrate(root, passes=args.passes)
    # Files first: if one cannot be written, the run fails before printing anything.
    for option, path in outputs:
        write_output(root, path, option, args)
    if args.frames is not None:
        write_frames_folder(root, args)

    fmt = lambda x: format_number(x, args.digits)  # noqa: E731
    out = sys.stdout
    print(f"{root_name} = {parsed.text}", file=out)
    if parsed.names:
        print("at " + "  ".join(f"{name} = {exact_number(values[name])}" for name in parsed.names),
              file=out)
    print(f"\nvalue: {root_name} = {fmt(root.data)}", file=out)
    print_legend(derivation, out)
    interactive = args.step and sys.stdin.isatty()
    if interactive:
        pass  # the gradients are the answers: --step lets them fill in one step at a time
    elif parsed.names:
        print("\ngradients:", file=out)
        for name in parsed.names:
            print(f"  d{root_name}/d{name} = {fmt(leaves[name].grad)}", file=out)
    else:
        print("\nno variables: there is nothing to differentiate.", file=out)
    if args.formula and parsed.names and not interactive:
        print_formulas(root, root_name, parsed.names, leaves, args.max_paths, out)
    if args.paths and parsed.names and not interactive:
        print_paths(root, derivation, parsed.names, leaves, args, out)
    for option, path in outputs:
        print(f"wrote {path}", file=out)
    if args.frames is not None:
        print(f"wrote {len(derivation.steps) + 1} frames into {args.frames}", file=out)

    if interactive:
        return step_through_terminal(derivation.steps, parsed.names, args.digits, out)
    if parsed.names:  # without variables, "nothing to differentiate" has said it all
        print_steps(derivation, args.digits, out, parsed.names)
    return 0


def print_legend(derivation, out):
    """What the names n1, n2, ... in the steps stand for."""
    rows = derivation.legend_lines()
    if rows:
        print("\nwhere " + "\n      ".join(rows), file=out)


def print_formulas(root, root_name, variables, leaves, limit, out):
    """Each gradient as the sum over paths of the op table's local derivatives."""
    from visualize.paths import gradient_formula, simplified_formula

    wrt = [leaves[name] for name in variables]
    formulas = gradient_formula(root, wrt, limit)
    simple = simplified_formula(root, wrt, limit)
    print("\nas formulas (local derivatives from the op table, multiplied along each path):",
          file=out)
    for name in variables:
        text = formulas[name]
        if text is None:
            print(f"  d{root_name}/d{name}: more than {limit} paths; too long to write out "
                  "(raise --max-paths)", file=out)
            continue
        print(f"  d{root_name}/d{name} = {text}", file=out)
        if simple is not None and simple.get(name) and simple[name] != text:
            print(f"  {' ' * len(f'd{root_name}/d{name}')} = {simple[name]}   (SymPy)",
                  file=out)
    if simple is None:
        print("  (pip install sympy for a simplified form)", file=out)


def print_paths(root, derivation, variables, leaves, args, out):
    from visualize.paths import gradient_paths

    print("\npaths from the output to each variable (the sum of their products is the "
          "gradient):", file=out)
    for path_set in gradient_paths(root, [leaves[n] for n in variables], args.max_paths):
        text = path_set.text(derivation.names, derivation.root_name, args.digits)
        print("  " + text.replace("\n", "\n  "), file=out)


def print_steps(derivation, digits, out, variables=()):
    steps = derivation.steps
    if not steps:
        print("\nno chain-rule steps: no variable goes through an operation here.", file=out)
        return
    count = f"{len(steps)} step{'s' if len(steps) != 1 else ''}"
    calls = f" in {derivation.passes} calls of backward()" if derivation.passes > 1 else ""
    print(f"\nchain rule, step by step ({count}{calls}, output to inputs; "
          "+= adds one path's share):", file=out)
    width = len(str(len(steps)))
    for i, step in enumerate(steps, 1):
        if derivation.passes > 1 and step.number == 1:
            print(f"  backward() call {step.pass_number}:" + (
                "  (results start again from 0; inputs keep their grad and add to it)"
                if step.pass_number > 1 else ""), file=out)
        print(f"  {i:>{width}}. {step.line(digits)}", file=out)
    if derivation.passes > 1:
        # What the repeated calls leave in .grad, beside the gradients printed above.
        from autograd_core.numbers import format_number
        by_label = {v.label: v for v in derivation.variables()}
        held = ", ".join(f"{name}.grad = "
                         f"{format_number(derivation.gradients[by_label[name]], digits)}"
                         for name in variables if name in by_label)
        print(f"\nafter {derivation.passes} calls of backward(): {held} ({derivation.passes}"
              " times the gradient: call zero_grad() before each backward())", file=out)


def check_folder(folder):
    if not folder.strip():
        raise CommandError("--frames needs a folder name, got an empty one")
    if os.path.exists(folder) and not os.path.isdir(folder):
        raise CommandError(f"--frames {folder}: that is a file, not a folder")
    parent = os.path.dirname(os.path.abspath(folder))
    if not os.path.isdir(parent):
        raise CommandError(f"--frames {folder}: the folder {parent} does not exist; create it "
                           "or choose another path")
    if os.path.isdir(folder):
        try:
            old_frames = [n for n in os.listdir(folder) if n.startswith("frame_")]
        except OSError as error:
            raise CommandError(f"--frames {folder}: cannot read the folder: "
                               f"{error.strerror or error}") from None
        if old_frames:  # a shorter run would leave some of them behind, mixed with its own
            raise CommandError(f"--frames {folder}: the folder already holds frame files "
                               f"({min(old_frames)}, ...); give an empty or new folder")


def write_frames_folder(root, args):
    from visualize.export import write_frames
    try:
        write_frames(root, args.frames, passes=args.passes, digits=args.digits)
    except OSError as error:
        raise CommandError(f"--frames {args.frames}: cannot write: "
                           f"{error.strerror or error}") from None


def check_writable(path, option):
    """Fail before any work if an output file cannot be written."""
    if not path.strip():
        raise CommandError(f"--{option} needs a file name, got an empty one")
    folder = os.path.dirname(os.path.abspath(path)) or "."
    if os.path.exists(path) and not os.path.isfile(os.path.realpath(path)):
        raise CommandError(f"--{option} {path}: that is a folder or a device, not a file; "
                           "give a file name")
    if not path.lower().endswith(SUFFIX[option]):
        raise CommandError(f"--{option} {path}: the name should end in {SUFFIX[option]}, or "
                           "the file's contents and its name would disagree")
    if os.path.exists(folder) and not os.path.isdir(folder):
        raise CommandError(f"--{option} {path}: {folder} is a file, not a folder")
    if not os.path.isdir(folder):
        raise CommandError(f"--{option} {path}: the folder {folder} does not exist; create it "
                           "or choose another path")
    if not os.access(folder, os.W_OK):
        raise CommandError(f"--{option} {path}: cannot write in {folder} (permission denied); "
                           "choose another path")


def write_output(root, path, option, args):
    """A picture, the step-through page, the LaTeX steps or the GIF; each leaves the
    graph's grads as they are."""
    try:
        if option == "html" and args.quiz:
            from student.quiz import quiz_html
            quiz_html(root, path, passes=args.passes, digits=args.digits)
        elif option == "html":
            from visualize.step_through import step_through_html
            step_through_html(root, path, passes=args.passes, digits=args.digits)
        elif option == "latex":
            from visualize.export import derivation_latex
            from autograd_core.files import write_bytes
            write_bytes(path, derivation_latex(root, args.digits, args.passes).encode("utf-8"))
        elif option == "gif":
            from visualize.export import write_gif
            write_gif(root, path, passes=args.passes, digits=args.digits)
        else:
            from visualize import render
            render(root, path, format=option, digits=args.digits)
    except ImportError as error:
        raise CommandError(f"--{option} {path}: {error}") from None
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
    from autograd_core.numbers import format_number
    fmt = lambda x: format_number(x, digits)  # noqa: E731
    total = len(steps)
    print(f"\nchain rule, one step at a time ({total} steps).  {PROMPT}", file=out)
    position = 0

    def show():
        if position == 0:
            print(f"\n[0/{total}] forward pass only: no gradient is known yet", file=out)
        else:
            step = steps[position - 1]
            print(f"\n[{position}/{total}] {step.line(digits)}", file=out)
            print(f"        {step.change(digits)}", file=out)
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
