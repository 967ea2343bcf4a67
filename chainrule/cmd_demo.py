"""`chainrule demo`: worked examples for class, every number computed by the engine.

  neuron  the chain rule through one sigmoid neuron, J = L(h(g(W))), with the
          cross-entropy (dJ/dY = Z - t) and the quadratic cost (delta = (a - y) sigma')
  mazur   Matt Mazur's 2-2-2 backpropagation example neuron by neuron (the delta rules),
          side by side with his numbers
  softmax softmax + cross-entropy over many classes: dJ/dz_i = p_i - onehot_i
"""

from __future__ import annotations

import argparse

from chainrule.argtypes import digits, finite_float, whole_number
from chainrule.errors import fail

EXAMPLES = """\
examples:
  chainrule demo neuron                       W = 0.6, X = 1.5, t = 1
  chainrule demo neuron --W -2 --X 3 --t 1    saturated and wrong: sigma' is tiny
  chainrule demo mazur                        the 2-2-2 network, 9 decimals
  chainrule demo mazur --digits 12
  chainrule demo softmax                      logits 2, 1, 0.1; target class 0
  chainrule demo softmax --logits 1000 -1000 0 --target 1
"""


def register(subparsers):
    parser = subparsers.add_parser(
        "demo", help="worked examples: one neuron's chain rule, Mazur's 2-2-2 network, softmax",
        description="Worked examples of backpropagation. Every number is computed by the\n"
                    "engine and checked against the textbook's closed form.",
        epilog=EXAMPLES, formatter_class=argparse.RawDescriptionHelpFormatter)
    demos = parser.add_subparsers(dest="demo", metavar="DEMO", required=True)

    neuron = demos.add_parser(
        "neuron", help="J = L(h(g(W))) for one sigmoid neuron",
        description="The chain rule through one neuron: Y = W*X, Z = sigmoid(Y), J = "
                    "cross-entropy of Z against t; dJ/dY simplifies to Z - t. Then the "
                    "quadratic cost, whose delta is (a - y) * sigma'(net).",
        epilog="examples:\n  chainrule demo neuron\n  chainrule demo neuron --W 0.5 --X -2 "
               "--t 0 --digits 6\n",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    neuron.add_argument("--W", type=finite_float, default=0.6, help="the weight (default 0.6)")
    neuron.add_argument("--X", type=finite_float, default=1.5, help="the input (default 1.5)")
    neuron.add_argument("--t", type=finite_float, default=1.0,
                        help="the target, in [0, 1] (default 1)")
    neuron.add_argument("--digits", type=digits, default=4, metavar="N",
                        help="significant figures (default 4)")
    neuron.set_defaults(run=run_neuron)

    mazur = demos.add_parser(
        "mazur", help="Mazur's 2-2-2 worked example, with the published numbers",
        description="Matt Mazur's 'A Step by Step Backpropagation Example': forward values, "
                    "the backward pass neuron by neuron (output deltas, hidden deltas, "
                    "dE/dw = o_i * delta_j), dE/dw for all eight weights and the updated "
                    "weights next to the published ones.",
        epilog="examples:\n  chainrule demo mazur\n  chainrule demo mazur --digits 12\n",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    mazur.add_argument("--digits", type=digits, default=9, metavar="N",
                       help="significant figures (default 9, as published)")
    mazur.set_defaults(run=run_mazur)

    softmax = demos.add_parser(
        "softmax", help="softmax + cross-entropy: dJ/dz_i = p_i - onehot_i",
        description="Softmax over one sample's logits and the cross-entropy against a target "
                    "class: the engine's dJ/dz_i next to the closed form p_i - onehot_i, and "
                    "the same through the softmax's own nodes.",
        epilog="examples:\n  chainrule demo softmax\n  chainrule demo softmax --logits 0.5 "
               "-1 3 0 --target 2\n  chainrule demo softmax --logits 1000 -1000 0 --target 1\n",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    softmax.add_argument("--logits", type=finite_float, nargs="+", default=[2.0, 1.0, 0.1],
                         metavar="Z", help="one logit per class (default 2 1 0.1)")
    softmax.add_argument("--target", type=whole_number, default=0, metavar="INDEX",
                         help="the target class index, 0 for the first logit (default 0)")
    softmax.add_argument("--digits", type=digits, default=4, metavar="N",
                         help="significant figures (default 4)")
    softmax.set_defaults(run=run_softmax)
    return parser



def run_neuron(args) -> int:
    from chainrule.demos import neuron_demo
    try:
        text, _ = neuron_demo(args.W, args.X, args.t, digits=args.digits)
    except (ValueError, ZeroDivisionError, OverflowError) as error:
        return fail(str(error))
    print(text)
    return 0


def run_mazur(args) -> int:
    from chainrule.demos import mazur_demo
    text, _ = mazur_demo(digits=args.digits)
    print(text)
    return 0


def run_softmax(args) -> int:
    from chainrule.demos import softmax_demo
    try:
        text, _ = softmax_demo(args.logits, args.target, digits=args.digits)
    except ValueError as error:
        return fail(str(error))
    print(text)
    return 0
