"""`chainrule train DATASET`: train an MLP and write what came of it.

The loop is nn/trainer.py, its configuration nn/training_config.py, the run folder's
numbers nn/run_folder.py and the pictures visualize/plots.py, drawn here once the numbers
are written; this module is the command line around them: arguments (their choices and
defaults read from nn's tables), the progress bar, Ctrl-C, messages and exit codes.
"""

from __future__ import annotations

import argparse
import os
import sys
import time

from chainrule.argtypes import finite_float, positive_int, shown, whole_number
from chainrule.errors import fail
from nn.datasets import DATASETS


def _dataset_defaults():
    lines = []
    for name, d in DATASETS.items():
        batch = "full batch" if d.batch_size is None else f"batch {d.batch_size}"
        lines.append(f"  {name:<8} {d.samples} samples, hidden {','.join(map(str, d.hidden))}, "
                     f"{d.activation}, {d.loss}, lr {d.lr:g}, {d.epochs} epochs, {batch}")
    return "\n".join(lines)


EXAMPLES = f"""\
examples:
  chainrule train moons --out runs/moons        sigmoid MLP(2, [8, 8, 1]), full batch
  chainrule train xor --batch-size 20          mini-batches of 20, 10 steps an epoch
  chainrule train circles --loss mse --lr 4 --epochs 600   sigmoid output + mse
  chainrule train spiral --hidden 16,16 --epochs 500   wider tanh layers, fewer epochs
  chainrule train sine --activation tanh --hidden 16 --epochs 1000   1-D regression
  chainrule train digits       8x8 handwritten digits, 64-25-10, held-out test split
  chainrule train moons --samples 10000        10,000 points, full batch, in seconds
  chainrule train moons --engine eager --epochs 5   every example's graph, backward()

defaults per dataset (the 2-D sets reach >= 95% training accuracy, digits >= 95%
test accuracy; measured in docs/training.md):
{_dataset_defaults()}

writes into --out (the folder is replaced whole: it holds the complete old run or the
complete new one): model.json (load with nn.MLP.load), metrics.json, loss.png, and
boundary.png for the 2-D datasets, fit.png for sine, confusion.png and
misclassified.png for digits. Ctrl-C stops training and saves what was learned so far.
"""


def register(subparsers):
    from nn.loss_table import LOSSES
    from nn.memory_estimate import ENGINES
    from nn.training_config import HIDDEN_ACTIVATIONS, LR_BY_ACTIVATION

    parser = subparsers.add_parser(
        "train", help="train an MLP on a small dataset; write model, metrics, pictures",
        description="Train an MLP by gradient descent on a small dataset (generated, or "
                    "scikit-learn's bundled digits: no downloads). The same --seed gives "
                    "the same data, model and metrics, bit for bit.",
        epilog=EXAMPLES, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.error = _fail_usage  # one line, like every chainrule error
    parser.add_argument("dataset", metavar="DATASET", type=_choice("dataset", DATASETS),
                        help=f"one of: {', '.join(DATASETS)}")
    parser.add_argument("--hidden", type=_hidden, default=None, metavar="SIZES",
                        help="hidden layer sizes, comma separated, e.g. 8,8 "
                             "(default per dataset, below)")
    parser.add_argument("--activation", type=_choice("activation", HIDDEN_ACTIVATIONS),
                        default=None, help=f"hidden units: {', '.join(HIDDEN_ACTIVATIONS)} "
                                           "(default per dataset)")
    parser.add_argument("--loss", type=_choice("loss", LOSSES), default=None,
                        help="; ".join(f"{name}: {spec.description}"
                                       for name, spec in LOSSES.items())
                        + ". Default per dataset (below)")
    parser.add_argument("--lr", type=_positive_float, default=None,
                        help="learning rate (default per dataset; with another "
                             "--activation: " + "; ".join(
                                 f"{task} " + ", ".join(f"{lr:g} {activation}"
                                                        for activation, lr in rates.items())
                                 for task, rates in LR_BY_ACTIVATION.items()) + ")")
    parser.add_argument("--epochs", type=positive_int, default=None,
                        help="passes over the data (default per dataset)")
    parser.add_argument("--batch-size", type=positive_int, default=None, metavar="N",
                        help="examples per gradient step; the gradient is the batch "
                             "average (default per dataset; mostly the whole dataset)")
    parser.add_argument("--seed", type=whole_number, default=0,
                        help="seeds the data, the initial weights and the batch order "
                             "(default 0)")
    parser.add_argument("--samples", type=positive_int, default=None, metavar="N",
                        help="dataset size (default per dataset, below)")
    parser.add_argument("--noise", type=_noise, default=None,
                        help="std of the noise added to the data (default per dataset)")
    parser.add_argument("--engine", type=_choice("engine", ENGINES), default="batch",
                        help="batch (default): one sample's graph compiled for the whole "
                             "batch, run with numpy (or the compiled code per sample "
                             "without numpy); eager: the engine builds every example's "
                             "graph and calls backward(), the same numbers, far slower")
    parser.add_argument("--threads", type=positive_int, default=1, metavar="N",
                        help="threads for numpy's matrix products (default 1: these "
                             "matrices are small, and threads waiting for a busy core "
                             "cost more than they give; see docs/speed.md)")
    parser.add_argument("--out", default=None, metavar="DIR",
                        help="output folder, made if needed, replaced whole by the new "
                             "run (default runs/DATASET)")
    parser.set_defaults(run=run)
    return parser


# ---------------------------------------------------------------- argument types
def _fail_usage(message):
    print(f"chainrule: error: {message} (see chainrule train --help)", file=sys.stderr)
    sys.exit(2)


def _choice(name, choices):
    def check(text):
        if text not in choices:
            raise argparse.ArgumentTypeError(
                f"unknown {name} {shown(text)}; use one of: {', '.join(choices)}")
        return text
    check.__name__ = name  # argparse names the type in its own messages
    return check


def _hidden(text):
    parts = [part.strip() for part in text.split(",")]
    # isdigit() alone would take '²' and other digit-like characters int() refuses
    if not all(part.isascii() and part.isdigit() and int(part) > 0 for part in parts):
        raise argparse.ArgumentTypeError(
            f"{shown(text)} is not a list of layer sizes; write positive whole numbers "
            "separated by commas, e.g. 8,8")
    return tuple(int(part) for part in parts)


def _positive_float(text):
    value = finite_float(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be a positive number, got {shown(text, quote=False)}")
    return value


def _noise(text):
    value = finite_float(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be 0 or more, got {shown(text, quote=False)}")
    return value


# -------------------------------------------------------------------------- run
class _Refused(Exception):
    """A problem with the arguments found before training; its text is the message."""


def _check_out(out):
    """The real path of the run folder, made ready for a new run, or _Refused.

    A run replaces the whole folder, so a folder holding anything but a chainrule run
    is refused rather than thrown away; so is the current folder or one above it.
    """
    from autograd_core.files import remove_stale_staging
    from nn.run_folder import RUN_NUMBERS
    from visualize.plots import PICTURES

    if out == "":
        raise _Refused("--out is empty; give a folder name, e.g. --out runs/moons")
    real = os.path.realpath(out)
    if os.path.lexists(out) and not os.path.isdir(out):
        raise _Refused(f"--out {out} is a file, not a folder; choose a folder name")
    here = os.path.realpath(os.getcwd())
    if real == here or here.startswith(real.rstrip(os.sep) + os.sep) or os.path.ismount(real):
        raise _Refused(f"--out {out} is the current folder, one above it or a mount point; "
                       "a run replaces its folder whole, so give a folder of its own, "
                       "e.g. --out runs/moons")
    if os.path.isdir(real):
        remove_stale_staging(real)
        try:
            foreign = sorted(name for name in os.listdir(real) if name not in RUN_NUMBERS + PICTURES
                             and not (name.startswith(".") and name.endswith(".tmp")))
        except OSError as error:
            raise _Refused(f"cannot read --out {out}: {error.strerror}") from None
        if foreign:
            raise _Refused(f"--out {out} holds files that are not part of a chainrule run "
                           f"({', '.join(foreign[:3])}{', ...' if len(foreign) > 3 else ''}); "
                           "a run replaces its folder whole, so choose a new or empty folder")
    parent = os.path.dirname(real)
    try:
        os.makedirs(parent, exist_ok=True)
        import tempfile
        with tempfile.TemporaryFile(dir=parent):
            pass
    except OSError as error:
        raise _Refused(f"cannot write to --out {out}: {error.strerror or error}") from None
    return real


def run(args):
    try:
        return _run(args)
    except KeyboardInterrupt:  # before training started or while loading
        print("chainrule: interrupted; nothing was written", file=sys.stderr)
        return 130


def _run(args):
    # here, so `chainrule --help` need not load them
    from nn import run_folder
    from nn.blas_threads import set_blas_threads
    from nn.c_allocator import keep_freed_memory
    from nn.datasets import MissingExtraError
    from nn.memory_estimate import check_memory
    from nn.step_functions import STEPS
    from nn.trainer import Trainer
    from nn.training_config import TrainConfig

    # before anything loads numpy: its BLAS reads the thread count when it loads
    set_blas_threads(args.threads)
    keep_freed_memory()  # a process that trains on numpy batches (nn/c_allocator.py)

    out = os.path.join("runs", args.dataset) if args.out is None else args.out
    config = TrainConfig(
        dataset=args.dataset, hidden=args.hidden, activation=args.activation,
        loss=args.loss, lr=args.lr, epochs=args.epochs, batch_size=args.batch_size,
        seed=args.seed, samples=args.samples, noise=args.noise)
    try:
        config = config.resolved()
        _check_out(out)
        check_memory(config, engine=args.engine)
        trainer = Trainer(config, make_step=STEPS[args.engine])
    except (ValueError, _Refused, MissingExtraError) as error:
        return fail(str(error))
    except MemoryError:
        return fail("this training does not fit in memory; use fewer --samples, smaller "
                    "--hidden layers or a smaller --batch-size")

    status = _train(trainer)
    if status is not None and status != "interrupted":
        return status  # an error, already reported
    interrupted = status == "interrupted"
    if interrupted:
        if trainer.steps == 0:
            print("chainrule: interrupted before the first step; nothing was written",
                  file=sys.stderr)
            return 130
        print(f"chainrule: interrupted after {trainer.epoch} of {config.epochs} epochs "
              f"({trainer.steps} steps); saving what was learned so far to {out} "
              "(Ctrl-C again to discard it)", file=sys.stderr)
    try:
        result = trainer.result(interrupted=interrupted)
        paths = run_folder.write_run(result, out, also=lambda folder: _draw(result, folder))
    except KeyboardInterrupt:
        print(f"chainrule: interrupted; {out} was left as it was", file=sys.stderr)
        return 130
    except (OSError, ValueError) as error:
        return fail(f"could not write the results to {out} (it was left as it was): "
                    f"{getattr(error, 'strerror', None) or error}")

    summary = f"{config.dataset}: "
    if result.accuracy is not None:
        summary += f"training accuracy {100 * result.accuracy:.1f}%, "
    if result.test_accuracy is not None:
        summary += f"test accuracy {100 * result.test_accuracy:.1f}% " \
                   f"({len(result.X_test)} held out), "
    print(f"{summary}loss {result.final_loss:.4g} after {trainer.epoch} epochs "
          f"in {result.wall_time:.1f} s")
    print("wrote " + ", ".join(paths))
    if interrupted:
        print(f"chainrule: saved the model after {trainer.epoch} epochs; exiting with "
              "status 130 (interrupted)", file=sys.stderr)
        return 130
    return 0


def _draw(result, folder):
    """The run's pictures, drawn from its numbers into the folder being written."""
    from visualize.plots import write_pictures
    return write_pictures(result, folder)


def _train(trainer):
    """Run the trainer's epochs with progress: None when done, "interrupted" when Ctrl-C
    stopped it, or the exit status of an error already reported."""
    config = trainer.config
    interactive = sys.stdout.isatty() and sys.stderr.isatty()
    bar = _progress_bar(config, interactive)
    last_line = time.monotonic()
    try:
        while trainer.epoch < config.epochs:
            report = trainer.step()
            shown_text = f"loss={report.loss:.4f}"
            if report.accuracy is not None:
                shown_text += f", acc={100 * report.accuracy:.1f}%"
            if bar is not None:
                bar.set_postfix_str(shown_text, refresh=not report.epoch_finished)
                if report.epoch_finished:
                    bar.update(1)
            elif time.monotonic() - last_line >= 30:  # a log, not a terminal: a line now and then
                last_line = time.monotonic()
                print(f"chainrule: epoch {report.epoch} of {config.epochs}, {shown_text}",
                      file=sys.stderr, flush=True)
    except KeyboardInterrupt:
        return "interrupted"
    except ArithmeticError as error:
        # The engine raises instead of producing inf/nan; that means the steps diverged.
        return fail(f"training diverged ({error}); try a smaller --lr")
    except MemoryError:
        return fail("training ran out of memory; use fewer --samples, smaller --hidden "
                    "layers or a smaller --batch-size")
    finally:
        if bar is not None:
            bar.close()
    return None


def _progress_bar(config, interactive):
    if not interactive:
        return None
    from tqdm import tqdm
    return tqdm(total=config.epochs, desc=f"train {config.dataset}", unit="epoch",
                dynamic_ncols=True)
