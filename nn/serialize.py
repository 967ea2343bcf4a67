"""Saving and loading models as JSON, safely.

A model file looks like this (format version 1):

    {"format": "chainrule-model", "version": 1, "kind": "MLP",
     "architecture": {"sizes": [2, 8, 8, 1],
                      "activations": ["sigmoid", "sigmoid", "linear"]},
     "layers": [{"weights": [[w11, w12], ...], "biases": [b1, ...]}, ...]}

`kind` is "MLP", "Layer" or "Neuron"; `sizes` are the input size and then each layer's
number of neurons; layer l has `sizes[l+1]` rows of `sizes[l]` weights (row i is neuron
i's weights, the textbook W_l) and one bias per neuron. Numbers are written with
Python's float repr, so a loaded model is bit-for-bit the saved one.

Saving writes a temporary file beside the target, fsyncs it and renames it over the
target (os.replace is atomic), so a crash never leaves a half-written model: readers
see either the old file or the new one. Loading checks everything before it builds
anything, so it returns a whole model or raises `ModelFileError` (a ValueError) naming
the file and what is wrong with it; a missing file raises FileNotFoundError.
"""

from __future__ import annotations

import json
import math
import os
import stat
import tempfile

__all__ = ["ModelFileError", "FORMAT", "VERSION", "save_model", "load_model",
           "model_to_dict", "model_from_dict", "atomic_write"]

FORMAT = "chainrule-model"
VERSION = 1


class ModelFileError(ValueError):
    """A model file that cannot be loaded; the message names the file and the problem."""


# ----------------------------------------------------------------------- writing
def atomic_write(path, write, mode="w"):
    """Call write(file) on a temporary file beside `path`, then rename it to `path`.

    If anything fails before the rename the temporary file is removed and the old
    `path` (if any) is untouched.
    """
    # Through a symlink to its target, never over a device or folder: a rename would
    # replace them with a plain file.
    path = os.path.realpath(os.fspath(path))
    if os.path.exists(path) and not os.path.isfile(path):
        raise FileExistsError(f"cannot write {path}: it exists and is not a regular file "
                              "(a folder or a device); choose a file name")
    directory = os.path.dirname(path)
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=f".{os.path.basename(path)}.",
                               suffix=".tmp")
    try:
        os.fchmod(fd, _permissions(path))  # mkstemp makes it private (0600)
        with os.fdopen(fd, mode, **({"encoding": "utf-8"} if "b" not in mode else {})) as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise
    _fsync_directory(directory)  # so the rename itself survives a power cut


def _permissions(path):
    """The old file's permissions, or those a plain open() would give a new file."""
    try:
        return stat.S_IMODE(os.stat(path).st_mode)
    except OSError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask


def _fsync_directory(directory):
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return  # not possible on every platform; the data itself is already synced
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def model_to_dict(model):
    """The JSON-ready description of an MLP, Layer or Neuron."""
    from .layers import MLP, Layer, Neuron

    if isinstance(model, MLP):
        layers = model.layers
    elif isinstance(model, Layer):
        layers = [model]
    elif isinstance(model, Neuron):
        layers = [None]
    else:
        raise TypeError(f"can only save an MLP, Layer or Neuron, not {type(model).__name__}")
    described = []
    activations = []
    for layer in layers:
        neurons = [model] if layer is None else layer.neurons
        described.append({"weights": [[w.data for w in n.w] for n in neurons],
                          "biases": [n.b.data for n in neurons]})
        activations.append(neurons[0].activation)
    for p in model.parameters():
        if not math.isfinite(p.data):
            raise ValueError(f"cannot save: parameter {p.label or '?'} is {p.data!r}, "
                             "not a finite number (did training diverge?)")
    sizes = [len(described[0]["weights"][0])] + [len(d["biases"]) for d in described]
    return {"format": FORMAT, "version": VERSION, "kind": type(model).__name__,
            "architecture": {"sizes": sizes, "activations": activations},
            "layers": described}


def save_model(model, path):
    """Write `model` to `path` as JSON, atomically (see the module docstring)."""
    data = model_to_dict(model)
    atomic_write(path, lambda f: (json.dump(data, f, indent=1, allow_nan=False), f.write("\n")))


# ----------------------------------------------------------------------- reading
def load_model(path, expected=None):
    """A new model built from the file at `path`.

    `expected` (a class) makes a file holding any other kind of model an error.
    """
    path = os.fspath(path)
    try:
        with open(path, "rb") as f:
            raw = f.read()
    except FileNotFoundError:
        raise FileNotFoundError(f"model file {path}: no such file") from None
    except OSError as error:
        raise ModelFileError(f"model file {path}: cannot be read ({error.strerror})") from None
    try:
        data = json.loads(raw.decode("utf-8"))
    except (ValueError, RecursionError) as error:  # JSONDecodeError, UnicodeDecodeError
        problem = "is empty" if not raw.strip() else \
            f"is not valid JSON, it may be truncated or corrupt ({error})"
        raise ModelFileError(f"model file {path} {problem}") from None
    try:
        model = model_from_dict(data)
    except ModelFileError as error:
        raise ModelFileError(f"model file {path}: {error}") from None
    if expected is not None and not isinstance(model, expected):
        raise ModelFileError(f"model file {path} holds a {type(model).__name__}, "
                             f"not a {expected.__name__}")
    return model


def model_from_dict(data):
    """Check a model description completely, then build the model it describes."""
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise ModelFileError(f"not a chainrule model (no \"format\": \"{FORMAT}\" field)")
    version = data.get("version")
    if version != VERSION:
        raise ModelFileError(f"format version {version!r} is not supported; "
                             f"this chainrule reads version {VERSION}")
    kind = data.get("kind")
    if kind not in ("MLP", "Layer", "Neuron"):
        raise ModelFileError(f"unknown model kind {kind!r}; expected MLP, Layer or Neuron")
    architecture = _field(data, "architecture", dict)
    sizes = _field(architecture, "sizes", list, "architecture")
    activations = _field(architecture, "activations", list, "architecture")
    layers = _field(data, "layers", list)
    if len(sizes) < 2 or not all(type(s) is int and s >= 1 for s in sizes):
        raise ModelFileError(f"architecture sizes must be at least two positive ints, "
                             f"got {sizes!r}")
    if len(activations) != len(sizes) - 1 or len(layers) != len(sizes) - 1:
        raise ModelFileError(f"architecture has {len(sizes) - 1} layers (sizes {sizes}) "
                             f"but {len(activations)} activations and {len(layers)} layers "
                             "of parameters")
    if kind != "MLP" and len(layers) != 1 or kind == "Neuron" and sizes[1] != 1:
        raise ModelFileError(f"a {kind} has exactly one layer"
                             + (" of one neuron" if kind == "Neuron" else ""))
    from .layers import ACTIVATIONS
    weights, biases = [], []
    for index, (layer, activation) in enumerate(zip(layers, activations), 1):
        if activation not in ACTIVATIONS:
            raise ModelFileError(f"layer {index}: unknown activation {activation!r}; "
                                 f"use one of: {', '.join(ACTIVATIONS)}")
        if not isinstance(layer, dict):
            raise ModelFileError(f"layer {index} must be an object with weights and biases")
        nin, nout = sizes[index - 1], sizes[index]
        w = _field(layer, "weights", list, f"layer {index}")
        b = _field(layer, "biases", list, f"layer {index}")
        if len(w) != nout or any(not isinstance(row, list) or len(row) != nin for row in w):
            raise ModelFileError(f"layer {index}: weights must be {nout} rows of {nin} "
                                 f"numbers (sizes {sizes}), got a different shape")
        if len(b) != nout:
            raise ModelFileError(f"layer {index}: {len(b)} biases but the architecture "
                                 f"says {nout} neurons")
        for x in [x for row in w for x in row] + b:
            if not _is_finite_number(x):
                raise ModelFileError(f"layer {index}: parameter {x!r} is not a finite number")
        weights.append(w)
        biases.append(b)
    return _build(kind, sizes, activations, weights, biases)


def _is_finite_number(x):
    if type(x) not in (int, float):  # bool, str, None, lists are not parameters
        return False
    try:
        return math.isfinite(x)
    except OverflowError:  # an int too large for a float
        return False


def _field(obj, name, kind, where="the file"):
    if name not in obj:
        raise ModelFileError(f"{where} has no {name!r} field")
    value = obj[name]
    if not isinstance(value, kind):
        raise ModelFileError(f"{where}: {name!r} must be a {'list' if kind is list else 'object'}")
    return value


def _build(kind, sizes, activations, weights, biases):
    """A new MLP/Layer/Neuron with exactly these activations and parameters."""
    from .layers import MLP, Layer, Neuron

    if kind == "Neuron":
        model = Neuron(sizes[0], activations[0], seed=0)
        layers = [[model]]
    elif kind == "Layer":
        model = Layer(sizes[0], sizes[1], activations[0], seed=0)
        layers = [model.neurons]
    else:
        model = MLP(sizes[0], sizes[1:], activation=activations[0],
                    output_activation=activations[-1], seed=0)
        layers = [layer.neurons for layer in model.layers]
    for neurons, activation, w, b in zip(layers, activations, weights, biases):
        for neuron, row, bias in zip(neurons, w, b):
            neuron.activation = activation  # hidden layers may differ from one another
            for value, x in zip(neuron.w, row):
                value.data = float(x)
            neuron.b.data = float(bias)
    return model
