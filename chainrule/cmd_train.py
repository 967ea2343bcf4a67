"""`chainrule train DATASET`: train an MLP with the engine and write what came of it.

The loop, metrics and pictures are in chainrule/training.py; this module is the
command line around them: arguments, the progress bar, messages and exit codes.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile

from chainrule.argtypes import finite_float, whole_number
from chainrule.errors import fail
from nn.datasets import DATASETS

EXAMPLES = """\
examples:
  chainrule train moons --out runs/moons        sigmoid MLP(2, [8, 8, 1]), full batch
  chainrule train xor --batch-size 20 --lr 0.5  mini-batches of 20, 10 steps an epoch
  chainrule train circles --epochs 600
  chainrule train circles --loss mse --lr 4 --epochs 600   sigmoid output + mse
  chainrule train spiral --hidden 16,16 --activation tanh --batch-size 20 --lr 0.1
  chainrule train sine --activation tanh --hidden 16 --epochs 1000   1-D regression

writes into --out: model.json (load with nn.MLP.load), metrics.json, loss.png, and
boundary.png for the 2-D datasets (fit.png for sine).
"""


def register(subparsers):
    parser = subparsers.add_parser(
        "train", help="train an MLP on a small dataset; write model, metrics, pictures",
        description="Train an MLP by gradient descent on a small generated dataset "
                    "(no downloads). The same --seed gives the same data, model and "
                    "metrics, bit for bit.",
        epilog=EXAMPLES, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.error = _fail_usage  # one line, like every chainrule error
    parser.add_argument("dataset", metavar="DATASET", type=_dataset,
                        help=f"one of: {', '.join(DATASETS)}")
    parser.add_argument("--hidden", type=_hidden, default=(8, 8), metavar="SIZES",
                        help="hidden layer sizes, comma separated (default 8,8)")
    parser.add_argument("--activation", type=_activation, default="sigmoid",
                        help="hidden units: sigmoid, tanh or relu (default sigmoid)")
    parser.add_argument("--loss", type=_loss, default=None,
                        help="bce: linear output + stable bce_with_logits; mse: sigmoid "
                             "output (linear for regression). Default: bce for "
                             "classification, mse for sine")
    parser.add_argument("--lr", type=_positive_float, default=None,
                        help="learning rate (default for sigmoid/tanh/relu: 1.5/0.3/0.2; "
                             "for sine 0.15/0.03/0.02). With --loss mse on a "
                             "classification set try a larger one, e.g. 4")
    parser.add_argument("--epochs", type=_positive_int, default=300,
                        help="passes over the data (default 300)")
    parser.add_argument("--batch-size", type=_positive_int, default=None, metavar="N",
                        help="examples per gradient step; the gradient is the batch "
                             "average (default: the whole dataset)")
    parser.add_argument("--seed", type=whole_number, default=0,
                        help="seeds the data, the initial weights and the batch order "
                             "(default 0)")
    parser.add_argument("--samples", type=_positive_int, default=None, metavar="N",
                        help="dataset size (default 200; 100 for sine)")
    parser.add_argument("--noise", type=_noise, default=None,
                        help="std of the noise added to the data (default per dataset)")
    parser.add_argument("--out", default=None, metavar="DIR",
                        help="output directory, made if needed (default runs/DATASET)")
    parser.set_defaults(run=run)
    return parser


# ---------------------------------------------------------------- argument types
def _fail_usage(message):
    print(f"chainrule: error: {message} (see chainrule train --help)", file=sys.stderr)
    sys.exit(2)


def _dataset(text):
    if text not in DATASETS:
        raise argparse.ArgumentTypeError(
            f"unknown dataset {text!r}; use one of: {', '.join(DATASETS)}")
    return text


def _hidden(text):
    parts = [part.strip() for part in text.split(",")]
    if not all(part.isdigit() and int(part) > 0 for part in parts):
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a list of layer sizes; write positive ints separated by "
            "commas, e.g. 8,8")
    return tuple(int(part) for part in parts)


def _choice(name, choices):
    def check(text):
        if text not in choices:
            raise argparse.ArgumentTypeError(
                f"unknown {name} {text!r}; use one of: {', '.join(choices)}")
        return text
    return check


_activation = _choice("activation", ("sigmoid", "tanh", "relu"))
_loss = _choice("loss", ("bce", "mse"))


def _positive_float(text):
    value = finite_float(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be a positive number, got {text}")
    return value


def _noise(text):
    value = finite_float(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be 0 or more, got {text}")
    return value


def _positive_int(text):
    value = whole_number(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {text}")
    return value


# -------------------------------------------------------------------------- run
def _prepare_out(out):
    """Make the output directory and prove it is writable, before any training."""
    try:
        os.makedirs(out, exist_ok=True)
        with tempfile.TemporaryFile(dir=out):
            pass
    except OSError as error:
        raise OSError(f"cannot write to --out {out}: {error.strerror or error}") from None


def run(args):
    from chainrule import training  # here, so `chainrule --help` need not load it

    out = args.out or os.path.join("runs", args.dataset)
    config = training.TrainConfig(
        dataset=args.dataset, hidden=args.hidden, activation=args.activation,
        loss=args.loss, lr=args.lr, epochs=args.epochs, batch_size=args.batch_size,
        seed=args.seed, samples=args.samples, noise=args.noise)
    try:
        config.resolved()
        _prepare_out(out)
    except (ValueError, OSError) as error:
        return fail(str(error))

    interactive = sys.stdout.isatty() and sys.stderr.isatty()
    bar = _progress_bar(config, interactive)

    def on_epoch(epoch, loss, accuracy):
        if bar is not None:
            shown = f"loss={loss:.4f}"
            if accuracy is not None:
                shown += f", acc={100 * accuracy:.1f}%"
            bar.set_postfix_str(shown, refresh=False)
            bar.update(1)

    try:
        result = training.train(config, on_epoch=on_epoch)
    except KeyboardInterrupt:
        return _interrupted()
    except ArithmeticError as error:
        # The engine raises instead of producing inf/nan; that means the steps diverged.
        return fail(f"training diverged ({error}); try a smaller --lr")
    finally:
        if bar is not None:
            bar.close()
    try:
        paths = training.write_run(result, out)
    except (OSError, ValueError) as error:
        return fail(f"could not write the results to {out}: {error}")

    summary = f"{config.dataset}: "
    if result.accuracy is not None:
        summary += f"accuracy {100 * result.accuracy:.1f}%, "
    print(f"{summary}loss {result.final_loss:.4g} after {config.epochs} epochs "
          f"in {result.wall_time:.1f} s")
    print("wrote " + ", ".join(paths))
    return 0


def _progress_bar(config, interactive):
    if not interactive:
        return None
    from tqdm import tqdm
    return tqdm(total=config.epochs, desc=f"train {config.dataset}", unit="epoch",
                dynamic_ncols=True)


def _interrupted():
    print("chainrule: interrupted; nothing was written", file=sys.stderr)
    return 130
