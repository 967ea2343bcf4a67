"""Pictures of a training run (an nn.trainer.TrainResult): loss curve, decision boundary,
regression fit, confusion matrix and the misclassified examples.

Each function draws on matplotlib's Agg canvas directly (never pyplot: no global
backend state, no display) and writes its PNG through autograd_core.files, so a picture
is whole or absent. `write_pictures(result, folder)` draws the ones that fit the run.
"""

from __future__ import annotations

import os

from autograd_core.files import atomic_write

__all__ = ["write_pictures", "PICTURES", "plot_loss", "plot_boundary", "plot_fit", "plot_confusion",
           "plot_misclassified", "confusion_matrix"]


# Every picture a run may have (which ones depends on the dataset: write_pictures).
PICTURES = ("loss.png", "boundary.png", "fit.png", "confusion.png", "misclassified.png")


def write_pictures(result, folder):
    """Draw every picture that fits this run into `folder`; returns the file names."""
    names = ["loss.png"]
    plot_loss(result, os.path.join(folder, "loss.png"))
    nin = len(result.X[0])
    if nin == 2:
        names.append("boundary.png")
        plot_boundary(result, os.path.join(folder, "boundary.png"))
    elif nin == 1:
        names.append("fit.png")
        plot_fit(result, os.path.join(folder, "fit.png"))
    if result.classes > 2:
        names += ["confusion.png", "misclassified.png"]
        plot_confusion(result, os.path.join(folder, "confusion.png"))
        plot_misclassified(result, os.path.join(folder, "misclassified.png"))
    return names


def _figure(width=7.0, height=4.5):
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    fig = Figure(figsize=(width, height), dpi=100, layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def _save(fig, path):
    atomic_write(path, lambda f: fig.savefig(f, format="png"), mode="wb")


def _describe(result):
    from nn.run_folder import architecture
    c = result.config
    sizes = architecture(result.model)["sizes"]
    batch = "full batch" if c.batch_size is None or c.batch_size >= len(result.X) \
        else f"batch {c.batch_size}"
    text = (f"MLP {'-'.join(map(str, sizes))}, {c.activation}, {c.loss}, lr {c.lr:g}, "
            f"{batch}, seed {c.seed}")
    if result.interrupted:
        text += f"; stopped by Ctrl-C after {result.epochs_completed} of {c.epochs} epochs"
    return text


def plot_loss(result, path):
    fig = _figure()
    ax = fig.add_subplot()
    epochs = range(1, len(result.losses) + 1)
    from nn.loss_table import LOSSES
    loss_name = LOSSES[result.config.loss].title
    ax.plot(epochs, result.losses, color="tab:blue", marker="o" if len(epochs) < 30 else None,
            markersize=3, label=f"loss ({loss_name})")
    scale = ""
    if result.losses and all(loss > 0 for loss in result.losses):
        ax.set_yscale("log")  # late progress is orders of magnitude below the start
        from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter
        ax.yaxis.set_major_locator(LogLocator(subs=(1.0, 2.0, 3.0, 5.0)))
        ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))  # 0.05, not 5e-02
        ax.yaxis.set_minor_formatter(NullFormatter())
        scale = ", log scale"
    ax.set_xlabel("epoch")
    from matplotlib.ticker import MaxNLocator
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))  # no epoch 1.5
    ax.set_ylabel(f"training loss ({result.config.loss}{scale})")
    ax.grid(True, which="both", alpha=0.3)
    handles = ax.get_lines()
    if result.accuracies:
        acc_ax = ax.twinx()
        acc_ax.plot(epochs, [100 * a for a in result.accuracies], color="tab:orange",
                    label="training accuracy (%)")
        acc_ax.set_ylabel("training accuracy (%)")
        acc_ax.set_ylim(0, 102)
        handles = handles + acc_ax.get_lines()
    ax.legend(handles=handles, labels=[h.get_label() for h in handles], loc="center right")
    final = f"final loss {result.final_loss:.4g}"
    if result.accuracy is not None:
        final += f", accuracy {100 * result.accuracy:.1f}%"
    if result.test_accuracy is not None:
        final += f", test accuracy {100 * result.test_accuracy:.1f}%"
    ax.set_title(f"{result.config.dataset}: training loss\n{_describe(result)}\n{final}",
                 fontsize=10)
    _save(fig, path)


def plot_boundary(result, path, resolution=80):
    """P(class 1) over a grid, the 0.5 contour, and the data points on top."""
    from nn.evaluation import predict
    xs = [p[0] for p in result.X]
    ys = [p[1] for p in result.X]
    pad_x = 0.1 * (max(xs) - min(xs)) or 1.0
    pad_y = 0.1 * (max(ys) - min(ys)) or 1.0
    gx = [min(xs) - pad_x + i * (max(xs) - min(xs) + 2 * pad_x) / (resolution - 1)
          for i in range(resolution)]
    gy = [min(ys) - pad_y + j * (max(ys) - min(ys) + 2 * pad_y) / (resolution - 1)
          for j in range(resolution)]
    probs = [out[0] for out in predict(result.model, [[x, y] for y in gy for x in gx],
                                       result.config.loss)]
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
    ax.set_title(f"{result.config.dataset}: decision boundary, training accuracy "
                 f"{100 * result.accuracy:.1f}%\n{_describe(result)}", fontsize=10)
    _save(fig, path)


def plot_fit(result, path, resolution=200):
    """1-D regression: the data and the model's curve."""
    from nn.evaluation import predict
    xs = [p[0] for p in result.X]
    lo, hi = min(xs), max(xs)
    grid = [lo + i * (hi - lo) / (resolution - 1) for i in range(resolution)]
    curve = [out[0] for out in predict(result.model, [[x] for x in grid], result.config.loss)]
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


def _held_out(result):
    """The examples the pictures judge the model on: the test split, if there is one."""
    if result.X_test:
        return result.X_test, result.y_test, "test"
    return result.X, result.y, "training"


def _predicted(result, X):
    from nn.evaluation import predict
    probabilities = predict(result.model, X, result.config.loss)
    return [max(range(len(p)), key=p.__getitem__) for p in probabilities], probabilities


def confusion_matrix(true, predicted, classes):
    """counts[t][p]: how many examples of class t were predicted as p."""
    counts = [[0] * classes for _ in range(classes)]
    for t, p in zip(true, predicted):
        counts[int(t)][int(p)] += 1
    return counts


def plot_confusion(result, path):
    """Rows: the true class; columns: the predicted one; on the test split if any."""
    X, y, which = _held_out(result)
    predicted, _ = _predicted(result, X)
    k = result.classes
    counts = confusion_matrix(y, predicted, k)
    right = sum(counts[i][i] for i in range(k))
    fig = _figure(6.4, 6.0)
    ax = fig.add_subplot()
    image = ax.imshow(counts, cmap="Blues")
    fig.colorbar(image, ax=ax, shrink=0.8, label="examples")
    top = max(max(row) for row in counts) or 1
    for t in range(k):
        for p in range(k):
            if counts[t][p]:
                ax.text(p, t, str(counts[t][p]), ha="center", va="center", fontsize=9,
                        color="white" if counts[t][p] > top / 2 else
                        ("tab:red" if t != p else "black"))
    ax.set_xticks(range(k))
    ax.set_yticks(range(k))
    ax.set_xlabel("predicted class")
    ax.set_ylabel("true class")
    ax.set_title(f"{result.config.dataset}: confusion matrix on the {len(y)} {which} "
                 f"examples\n{right} right ({100 * right / len(y):.1f}%), "
                 f"{len(y) - right} wrong (off the diagonal)\n{_describe(result)}",
                 fontsize=9)
    _save(fig, path)


def plot_misclassified(result, path, limit=40):
    """The misclassified examples as 8 x 8 images, each with true -> predicted."""
    X, y, which = _held_out(result)
    predicted, probabilities = _predicted(result, X)
    wrong = [i for i, (t, p) in enumerate(zip(y, predicted)) if int(t) != p]
    shown = wrong[:limit]
    columns = 8
    rows = max(1, -(-len(shown) // columns))
    fig = _figure(1.3 * columns, 1.55 * rows + 0.9)
    side = int(round(len(X[0]) ** 0.5))
    title = (f"{result.config.dataset}: {len(wrong)} of {len(y)} {which} examples "
             f"misclassified" + (f" (the first {limit} shown)" if len(wrong) > limit else "")
             + "\nlabel: true -> predicted (probability)")
    fig.suptitle(title, fontsize=10)
    if not shown:
        ax = fig.add_subplot()
        ax.axis("off")
        ax.text(0.5, 0.5, "none: every example is classified right", ha="center")
    for slot, i in enumerate(shown):
        ax = fig.add_subplot(rows, columns, slot + 1)
        pixels = [X[i][r * side:(r + 1) * side] for r in range(side)]
        ax.imshow(pixels, cmap="gray_r", vmin=0.0, vmax=1.0, interpolation="nearest")
        ax.set_xticks([])
        ax.set_yticks([])
        ax.set_title(f"{int(y[i])} -> {predicted[i]} ({probabilities[i][predicted[i]]:.2f})",
                     fontsize=9, color="tab:red")
    _save(fig, path)
