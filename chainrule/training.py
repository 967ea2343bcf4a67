"""Training an MLP on a small dataset: the loop, its metrics and its pictures.

The loop is plain (mini-batch) gradient descent. All the calculus happens in one
*step function*, `step(X, y) -> (loss, outputs)`, which must leave d loss / d p in
`p.grad` for every parameter p of the model; `engine_step` builds it from the engine
(forward, `backward()`). A faster step (for instance straight-line code compiled from
the same graph) can be passed to `train(..., make_step=...)` without touching the rest.

Everything is seeded: the same `TrainConfig` gives the same model and metrics, bit for
bit (only the wall time differs).
"""

from __future__ import annotations

import inspect
import json
import math
import os
import random
import time
from dataclasses import asdict, dataclass, field

from autograd_core import compile as compile_graph, paused_gc
from autograd_core.ops import sigmoid
from nn import MLP, SGD, bce_with_logits, mse_loss
from nn.datasets import DATASETS, load_dataset
from nn.serialize import atomic_write

__all__ = ["TrainConfig", "TrainResult", "LOSSES", "default_lr", "engine_step", "train",
           "evaluate", "write_run", "plot_loss", "plot_boundary", "plot_fit"]

# How the loss reads the network's single output.
#   bce: the output is a logit z (linear output layer); loss = bce_with_logits(z, t),
#        stable for any z; class 1 when z > 0.
#   mse: for classification the output is a probability (sigmoid output layer), class 1
#        when it is > 0.5; for regression the output is linear.
LOSSES = {"bce": bce_with_logits, "mse": mse_loss}

# Default learning rates, found by trying (full batch, 300 epochs). Sigmoid units at
# 1.5 take moons to >= 99% for seeds 0-3 with a loss that falls every epoch (2.0
# starts to oscillate near the end); tanh and relu units have larger derivatives and
# need smaller steps. Regression's linear output + mse passes 2 (z - t) back unsquashed,
# so it needs steps about ten times smaller still.
_DEFAULT_LR = {
    "classification": {"sigmoid": 1.5, "tanh": 0.3, "relu": 0.2},
    "regression": {"sigmoid": 0.15, "tanh": 0.03, "relu": 0.02},
}


def default_lr(activation, task="classification"):
    return _DEFAULT_LR[task][activation]


@dataclass
class TrainConfig:
    dataset: str = "moons"
    hidden: tuple = (8, 8)
    activation: str = "sigmoid"
    loss: str | None = None         # None: bce for classification, mse for regression
    lr: float | None = None         # None: default_lr(activation, task)
    epochs: int = 300
    batch_size: int | None = None   # None: the whole dataset (full-batch gradient descent)
    seed: int = 0
    samples: int | None = None      # None: the dataset's default
    noise: float | None = None      # None: the dataset's default

    def resolved(self):
        """A copy with every None default filled in and checked."""
        if self.dataset not in DATASETS:
            raise ValueError(f"unknown dataset {self.dataset!r}; "
                             f"use one of: {', '.join(DATASETS)}")
        task = DATASETS[self.dataset][1]
        loss = self.loss or ("bce" if task == "classification" else "mse")
        if loss not in LOSSES:
            raise ValueError(f"unknown loss {loss!r}; use one of: {', '.join(LOSSES)}")
        if loss == "bce" and task != "classification":
            raise ValueError(f"--loss bce needs 0/1 labels, but {self.dataset} is a "
                             "regression dataset; use --loss mse")
        for name, value, allow_none in (("epochs", self.epochs, False),
                                        ("batch_size", self.batch_size, True)):
            if not (allow_none and value is None) and (
                    isinstance(value, bool) or not isinstance(value, int) or value < 1):
                raise ValueError(f"{name} must be an int >= 1, got {value!r}")
        if self.activation not in _DEFAULT_LR[task]:
            raise ValueError(f"unknown activation {self.activation!r}; "
                             f"use one of: {', '.join(_DEFAULT_LR[task])}")
        lr = default_lr(self.activation, task) if self.lr is None else self.lr
        defaults = inspect.signature(DATASETS[self.dataset][0]).parameters
        samples = defaults["n"].default if self.samples is None else self.samples
        least = 2 if task == "classification" else 1  # a point of each class
        if isinstance(samples, bool) or not isinstance(samples, int) or samples < least:
            raise ValueError(f"{self.dataset} needs at least {least} samples, got {samples!r}")
        noise = defaults["noise"].default if self.noise is None else self.noise
        return TrainConfig(self.dataset, tuple(self.hidden), self.activation, loss, lr,
                           self.epochs, self.batch_size, self.seed, samples, noise)


@dataclass
class TrainResult:
    config: TrainConfig              # resolved
    model: MLP
    X: list
    y: list
    task: str                        # "classification" or "regression"
    losses: list = field(default_factory=list)      # per epoch, mean over its batches
    accuracies: list = field(default_factory=list)  # per epoch (classification only)
    final_loss: float = math.nan     # the trained model on the whole dataset
    accuracy: float | None = None    # idem; None for regression
    wall_time: float = 0.0           # seconds


def build_model(config, nin, task):
    output = "linear" if config.loss == "bce" or task == "regression" else "sigmoid"
    return MLP(nin, list(config.hidden) + [1], activation=config.activation,
               output_activation=output, seed=config.seed)


def engine_step(model, loss_name):
    """The reference step function: the engine's forward pass and backward()."""
    params = model.parameters()
    loss_fn = LOSSES[loss_name]

    def step(X, y):
        for p in params:
            p.grad = 0.0
        with paused_gc():
            outputs = [model(x) for x in X]
            loss = loss_fn(outputs, y)  # a mean, so a batch's gradient is the average
            loss.backward()
        return loss.data, [out.data for out in outputs]

    return step


def compiled_step(model, loss_name):
    """The same step through autograd_core.compile: the graph is built once and replayed
    as straight-line Python, several times faster than building it every epoch.

    The data are baked into the compiled code, so it pays off when every call sees the
    same batch (full-batch training); a different batch is compiled anew.
    """
    params = model.parameters()
    loss_fn = LOSSES[loss_name]
    cache = {"key": None, "function": None}

    def step(X, y):
        key = (tuple(map(tuple, X)), tuple(y))
        if key != cache["key"]:
            with paused_gc():
                outputs = [model(x) for x in X]
                loss = loss_fn(outputs, y)
                cache["function"] = compile_graph(loss, params, watch=outputs)
            cache["key"] = key
        function = cache["function"]
        loss, grads = function([p.data for p in params])
        for p, g in zip(params, grads):
            p.grad = g
        return loss, function.watched_values

    return step


def _threshold(loss_name):
    """Outputs above this are class 1: logits at 0, probabilities at 0.5."""
    return 0.0 if loss_name == "bce" else 0.5


def _accuracy(outputs, y, loss_name):
    cut = _threshold(loss_name)
    return sum((out > cut) == (t > 0.5) for out, t in zip(outputs, y)) / len(y)


def evaluate(model, X, y, loss_name, task):
    """(loss, accuracy) of the model on all of X, y; accuracy is None for regression."""
    loss_fn = LOSSES[loss_name]
    with paused_gc():
        outputs = [model(x) for x in X]
        loss = loss_fn(outputs, y).data
    outs = [out.data for out in outputs]
    return loss, (_accuracy(outs, y, loss_name) if task == "classification" else None)


def train(config, on_epoch=None, make_step=None):
    """Train as `config` says; on_epoch(epoch, loss, accuracy) is called after each epoch.

    make_step: engine_step, compiled_step, or None for compiled_step when training is
    full-batch (one graph shape, compiled once) and engine_step for mini-batches.

    Raises ValueError for a bad config, and ArithmeticError (OverflowError, ...) when
    the training diverges.
    """
    config = config.resolved()
    task = DATASETS[config.dataset][1]
    X, y = load_dataset(config.dataset, n=config.samples, noise=config.noise,
                        seed=config.seed)
    model = build_model(config, len(X[0]), task)
    batch = len(X) if config.batch_size is None else min(config.batch_size, len(X))
    if make_step is None:
        make_step = compiled_step if batch == len(X) else engine_step
    step = make_step(model, config.loss)
    optimizer = SGD(model.parameters(), config.lr)
    order_rng = random.Random(config.seed)  # its own stream: batches, nothing else
    order = list(range(len(X)))
    result = TrainResult(config, model, X, y, task)
    started = time.perf_counter()
    for epoch in range(1, config.epochs + 1):
        if batch < len(X):
            order_rng.shuffle(order)
        total, outputs, targets = 0.0, [], []
        for start in range(0, len(X), batch):
            chosen = order[start:start + batch]
            bx, by = [X[i] for i in chosen], [y[i] for i in chosen]
            loss, outs = step(bx, by)
            optimizer.step()
            total += loss * len(chosen)
            outputs += outs
            targets += by
        # Loss and accuracy of the outputs seen during the epoch (before each update).
        result.losses.append(total / len(X))
        if task == "classification":
            result.accuracies.append(_accuracy(outputs, targets, config.loss))
        if on_epoch:
            on_epoch(epoch, result.losses[-1],
                     result.accuracies[-1] if result.accuracies else None)
    result.final_loss, result.accuracy = evaluate(model, X, y, config.loss, task)
    result.wall_time = time.perf_counter() - started
    return result


# ----------------------------------------------------------------------- output
def chainrule_version():
    from importlib.metadata import PackageNotFoundError, version
    try:
        return version("chainrule")
    except PackageNotFoundError:
        return "unknown"


def metrics(result):
    c = result.config
    return {
        "dataset": c.dataset,
        "task": result.task,
        "args": asdict(c) | {"hidden": list(c.hidden)},
        "architecture": _architecture(result.model),
        "epochs": c.epochs,
        "final_loss": result.final_loss,
        "accuracy": result.accuracy,
        "loss_history": result.losses,
        "wall_time_seconds": round(result.wall_time, 3),
        "seed": c.seed,
        "chainrule_version": chainrule_version(),
    }


def _architecture(model):
    sizes = [len(model.layers[0].neurons[0].w)] + [len(l.neurons) for l in model.layers]
    return {"sizes": sizes,
            "activations": [layer.neurons[0].activation for layer in model.layers]}


def write_run(result, out_dir):
    """Write model.json, metrics.json, loss.png and boundary.png (2-D) or fit.png (1-D).

    Each file is written atomically. Returns the paths written.
    """
    paths = {name: os.path.join(out_dir, name)
             for name in ("model.json", "loss.png", "metrics.json")}
    result.model.save(paths["model.json"])
    plot_loss(result, paths["loss.png"])
    if len(result.X[0]) == 2:
        paths["boundary.png"] = os.path.join(out_dir, "boundary.png")
        plot_boundary(result, paths["boundary.png"])
    elif len(result.X[0]) == 1:
        paths["fit.png"] = os.path.join(out_dir, "fit.png")
        plot_fit(result, paths["fit.png"])
    data = metrics(result)
    atomic_write(paths["metrics.json"],
                 lambda f: (json.dump(data, f, indent=2, allow_nan=False), f.write("\n")))
    return list(paths.values())


# --------------------------------------------------------------------- pictures
def _figure(width=7.0, height=4.5):
    # The Agg canvas directly, never pyplot: no global backend state, no display.
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    fig = Figure(figsize=(width, height), dpi=100, layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def _save(fig, path):
    atomic_write(path, lambda f: fig.savefig(f, format="png"), mode="wb")


def _describe(result):
    c = result.config
    sizes = _architecture(result.model)["sizes"]
    batch = "full batch" if c.batch_size is None or c.batch_size >= len(result.X) \
        else f"batch {c.batch_size}"
    return (f"MLP {'-'.join(map(str, sizes))}, {c.activation}, {c.loss}, lr {c.lr:g}, "
            f"{batch}, seed {c.seed}")


def plot_loss(result, path):
    fig = _figure()
    ax = fig.add_subplot()
    epochs = range(1, len(result.losses) + 1)
    loss_name = "binary cross-entropy" if result.config.loss == "bce" else "mean squared error"
    ax.plot(epochs, result.losses, color="tab:blue", label=f"loss ({loss_name})")
    scale = ""
    if all(loss > 0 for loss in result.losses):
        ax.set_yscale("log")  # late progress is orders of magnitude below the start
        from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter
        ax.yaxis.set_major_locator(LogLocator(subs=(1.0, 2.0, 3.0, 5.0)))
        ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))  # 0.05, not 5e-02
        ax.yaxis.set_minor_formatter(NullFormatter())
        scale = ", log scale"
    ax.set_xlabel("epoch")
    ax.set_ylabel(f"training loss ({result.config.loss}{scale})")
    ax.grid(True, which="both", alpha=0.3)
    handles = ax.get_lines()
    if result.accuracies:
        acc_ax = ax.twinx()
        acc_ax.plot(epochs, [100 * a for a in result.accuracies], color="tab:orange",
                    label="accuracy (%)")
        acc_ax.set_ylabel("training accuracy (%)")
        acc_ax.set_ylim(0, 102)
        handles = handles + acc_ax.get_lines()
    ax.legend(handles=handles, labels=[h.get_label() for h in handles], loc="center right")
    final = f"final loss {result.final_loss:.4g}"
    if result.accuracy is not None:
        final += f", accuracy {100 * result.accuracy:.1f}%"
    ax.set_title(f"{result.config.dataset}: training loss\n{_describe(result)}; {final}",
                 fontsize=10)
    _save(fig, path)


def _predict(model, points, loss_name):
    """The model's output for each point, as a probability for classification."""
    with paused_gc():
        outs = [model(p).data for p in points]
    if loss_name == "bce":
        outs = [sigmoid(z) for z in outs]
    return outs


def plot_boundary(result, path, resolution=80):
    """P(class 1) over a grid, the 0.5 contour, and the data points on top."""
    xs = [p[0] for p in result.X]
    ys = [p[1] for p in result.X]
    pad_x = 0.1 * (max(xs) - min(xs)) or 1.0
    pad_y = 0.1 * (max(ys) - min(ys)) or 1.0
    gx = [min(xs) - pad_x + i * (max(xs) - min(xs) + 2 * pad_x) / (resolution - 1)
          for i in range(resolution)]
    gy = [min(ys) - pad_y + j * (max(ys) - min(ys) + 2 * pad_y) / (resolution - 1)
          for j in range(resolution)]
    probs = _predict(result.model, [[x, y] for y in gy for x in gx], result.config.loss)
    grid = [probs[j * resolution:(j + 1) * resolution] for j in range(resolution)]

    width = max(xs) - min(xs) + 2 * pad_x
    height = max(ys) - min(ys) + 2 * pad_y
    fig = _figure(7.5, max(3.5, min(8.5, 2.4 + 5.2 * height / width)))
    ax = fig.add_subplot()
    filled = ax.contourf(gx, gy, grid, levels=[i / 10 for i in range(11)], cmap="RdBu_r",
                         alpha=0.75)
    fig.colorbar(filled, ax=ax, label="model's P(class 1)", shrink=0.9)
    ax.contour(gx, gy, grid, levels=[0.5], colors="black", linewidths=1.5)
    for label, color, marker in ((0.0, "tab:blue", "o"), (1.0, "tab:red", "^")):
        chosen = [p for p, t in zip(result.X, result.y) if t == label]
        ax.scatter([p[0] for p in chosen], [p[1] for p in chosen], c=color, marker=marker,
                   edgecolors="black", linewidths=0.5, s=22, label=f"class {int(label)}")
    from matplotlib.lines import Line2D
    handles = ax.get_legend_handles_labels()[0] + [
        Line2D([], [], color="black", linewidth=1.5, label="decision boundary (P = 0.5)")]
    ax.legend(handles=handles, loc="upper center", bbox_to_anchor=(0.5, -0.13), ncol=3,
              fontsize=9, frameon=False)
    ax.set_xlabel("x1")
    ax.set_ylabel("x2")
    ax.set_aspect("equal")
    ax.set_title(f"{result.config.dataset}: decision boundary, accuracy "
                 f"{100 * result.accuracy:.1f}%\n{_describe(result)}", fontsize=10)
    _save(fig, path)


def plot_fit(result, path, resolution=200):
    """1-D regression: the data and the model's curve."""
    xs = [p[0] for p in result.X]
    lo, hi = min(xs), max(xs)
    grid = [lo + i * (hi - lo) / (resolution - 1) for i in range(resolution)]
    with paused_gc():
        curve = [result.model([x]).data for x in grid]
    fig = _figure()
    ax = fig.add_subplot()
    ax.scatter(xs, result.y, s=14, color="tab:gray", label="data")
    ax.plot(grid, curve, color="tab:red", linewidth=2, label="model")
    ax.set_xlabel("x")
    ax.set_ylabel("y")
    ax.grid(True, alpha=0.3)
    ax.legend()
    ax.set_title(f"{result.config.dataset}: fit, final loss {result.final_loss:.4g}\n"
                 f"{_describe(result)}", fontsize=10)
    _save(fig, path)
