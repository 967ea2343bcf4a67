"""A training run's folder: model.json and metrics.json, written as one whole.

`write_run(result, out)` writes the numbers; the pictures of a run are drawn by its
caller (visualize.plots.write_pictures, as `chainrule train` does) into the same staged
folder, through `write_run(..., also=...)`, so the folder still changes all at once.
"""

from __future__ import annotations

import json
import os

from autograd_core import files

from .serialize import save_model
from .training_config import config_dict

__all__ = ["write_run", "metrics", "architecture", "RUN_NUMBERS", "chainrule_version"]


def chainrule_version():
    from importlib.metadata import PackageNotFoundError, version
    try:
        return version("chainrule")
    except PackageNotFoundError:
        return "unknown"


def architecture(model):
    sizes = [len(model.layers[0].neurons[0].w)] + [len(l.neurons) for l in model.layers]
    return {"sizes": sizes,
            "activations": [layer.neurons[0].activation for layer in model.layers]}


def metrics(result):
    c = result.config
    data = {
        "dataset": c.dataset,
        "task": result.task,
        "args": config_dict(c),
        "architecture": architecture(result.model),
        "epochs": c.epochs,
        "epochs_completed": result.epochs_completed,
        "interrupted": result.interrupted,
        "final_loss": result.final_loss,
        "accuracy": result.accuracy,
        "loss_history": result.losses,
        "wall_time_seconds": round(result.wall_time, 3),
        "seed": c.seed,
        "chainrule_version": chainrule_version(),
    }
    if result.X_test:
        data.update(train_samples=len(result.X), test_samples=len(result.X_test),
                    test_loss=result.test_loss, test_accuracy=result.test_accuracy)
    return data


# The files a run folder holds from nn; the caller's `also` adds its own (pictures).
RUN_NUMBERS = ("model.json", "metrics.json")


def write_run(result, out, also=None):
    """Write model.json and metrics.json into folder `out`, and beside them whatever
    `also(folder)` writes (it returns the names of its files; `chainrule train` draws
    the pictures there, after the numbers).

    The whole run is written into a new sibling folder and swapped in at the end, so
    `out` holds the complete old run or the complete new one, whatever happens (Ctrl-C,
    a full disk, a killed process). Returns the paths of the files, as they are in `out`.
    """
    data = metrics(result)
    out = os.fspath(out)
    with files.staged_folder(out) as folder:
        save_model(result.model, os.path.join(folder, "model.json"))
        files.atomic_write(os.path.join(folder, "metrics.json"),
                           lambda f: (json.dump(data, f, indent=2, allow_nan=False),
                                      f.write("\n")))
        names = list(RUN_NUMBERS)
        if also is not None:
            names += also(folder)
    return [os.path.join(out, name) for name in names]
