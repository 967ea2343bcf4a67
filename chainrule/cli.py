"""The `chainrule` command. Each subcommand lives in its own module (chainrule/cmd_*.py)
that defines `register(subparsers)`; this file only wires them together."""

from __future__ import annotations

import argparse
import difflib
import importlib
import os
import re
import sys

from autograd_core import NonFiniteGradientError
from chainrule.errors import fail
from chainrule.program import run

# Subcommand modules, in the order `chainrule --help` lists them.
COMMANDS = ("cmd_grad", "cmd_quiz", "cmd_drill", "cmd_check", "cmd_demo", "cmd_train",
            "cmd_playground")

EXAMPLES = """\
examples:
  chainrule grad "sigmoid(w*x + b)" w=-1.2 x=0.5 b=0.1     value, gradients, every step
  chainrule grad "sigmoid(w*x + b)" w=-1.2 x=0.5 b=0.1 --step --svg graph.svg
  chainrule grad "x*x + a + a" x=3 a=0.5 --paths --formula  every path, as formulas
  chainrule check "x**3*y" --wrt x "3*x**2*y"               is a hand derivative right?
  chainrule quiz "sigmoid(w*x + b)" w=-1.2 x=0.5 b=0.1     answer each step yourself
  chainrule drill --seed alice --level 2                    a worksheet; then chainrule grade
  chainrule demo neuron                                     dJ/dY = Z - t, step by step
  chainrule demo mazur                                      Mazur's 2-2-2 worked example
  chainrule demo softmax                                    dJ/dz_i = p_i - onehot_i
  chainrule train digits --out runs/digits                  train on handwritten digits
  chainrule playground                                      watch a network learn, live

Each command has its own help with examples, e.g. chainrule grad --help.
"""


class ChainruleParser(argparse.ArgumentParser):
    """argparse, with hints for the mistakes it explains badly."""

    def error(self, message):
        argv = getattr(ChainruleParser, "argv", ())
        # argparse lists NAME=NUMBER as required when EXPRESSION is missing; it is not.
        message = message.replace("EXPRESSION, NAME=NUMBER", "EXPRESSION")
        if "invalid choice" in message and argv:
            known = re.findall(r"'([^']+)'", message.partition("choose from")[2])
            close = difflib.get_close_matches(argv[0], known, n=1)
            if close:
                message += f"\n(did you mean chainrule {close[0]}?)"
        # An expression that starts with '-' looks like an option to argparse; an option
        # misspelt (--bogus) or a command run bare gets no such hint.
        if any(_looks_like_a_negated_expression(item, self) for item in argv[1:]):
            command = f"chainrule {argv[0]}" if argv and not argv[0].startswith("-") else self.prog
            message += ("\n(an expression that starts with '-' goes after '--': "
                        f"{command} -- \"-x**2\" x=3)")
        super().error(message)


def _looks_like_a_negated_expression(item, parser):
    if not item.startswith("-") or item.startswith("--") or item == "-":
        return False
    if item.split("=")[0] in parser._option_string_actions:
        return False
    try:
        float(item)
        return False  # a negative number is read as one
    except ValueError:
        return True


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version
    try:
        return version("chainrule")
    except PackageNotFoundError:
        return "(not installed)"


def build_parser() -> argparse.ArgumentParser:
    parser = ChainruleParser(
        prog="chainrule",
        description="Step through backpropagation: gradients, pictures, demos, training.",
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--version", action="version", version=f"chainrule {_version()}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMANDS:
        importlib.import_module(f"chainrule.{name}").register(sub)
    return parser


def main(argv=None) -> int:
    try:
        status = _main(argv)
        try:
            sys.stdout.flush()  # a closed pipe shows up here, not at interpreter exit
        except BrokenPipeError:
            _discard_stdout()  # the command had finished: its status stands
        return status
    except KeyboardInterrupt:
        # Ctrl-C anywhere (argument parsing, imports, a command without its own
        # handler, a second Ctrl-C inside one's handler): the shell's status, no traceback.
        print("\nchainrule: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # The reader went away (chainrule ... | head) and has all it wanted: stop
        # quietly with success, as Unix tools and `python -m autograd_core` do.
        _discard_stdout()
        return 0


def _discard_stdout():
    # What is still buffered goes nowhere, rather than failing again at interpreter exit.
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())


def _main(argv) -> int:
    parser = build_parser()
    ChainruleParser.argv = tuple(sys.argv[1:] if argv is None else argv)
    args = parser.parse_args(argv)
    if not getattr(args, "run", None):
        parser.print_help()
        return 2
    try:
        return args.run(args) or 0
    except NonFiniteGradientError as error:
        # Any command that differentiates may meet one; the engine's message names the
        # chain-rule step where it first went wrong, and no wrong number gets printed.
        return fail(f"cannot compute the gradients: {error}")


def console() -> int:
    """For scripts installed before the entry point moved to chainrule.entry: they import
    it from here (having imported the commands already)."""
    return run(lambda: main)


if __name__ == "__main__":  # python -m chainrule.cli
    sys.exit(console())
