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

Saving goes through autograd_core.files.atomic_write (a temporary file beside the
target, fsynced and renamed over it), so a crash never leaves a half-written model:
readers see either the old file or the new one. Loading reads only a regular file of at
most `MAX_MODEL_BYTES`, parses it strictly (a key given twice, NaN or a number where a
string belongs are errors, not guesses) and checks everything before it builds
anything, so it returns a whole model or raises `ModelFileError` (a ValueError) naming
the file and what is wrong with it; a missing file raises FileNotFoundError. Memory
while loading stays proportional to the file (the JSON text, then the numbers).
"""

from __future__ import annotations

import json
import math
import os

from autograd_core import files

from .model_kinds import ACTIVATIONS, MODEL_KINDS

__all__ = ["ModelFileError", "FORMAT", "VERSION", "MAX_MODEL_BYTES", "save_model",
           "load_model", "model_to_dict", "model_from_dict", "atomic_write"]

FORMAT = "chainrule-model"
VERSION = 1
# The largest model file `load` reads: 256 MB, about ten million parameters (a weight
# takes ~20 characters). A bigger file is refused before a byte of it is read; so is
# anything that is not a regular file (a device such as /dev/zero, a FIFO).
MAX_MODEL_BYTES = 256 * 1024 * 1024


class ModelFileError(ValueError):
    """A model file that cannot be loaded; the message names the file and the problem."""


# ----------------------------------------------------------------------- writing
# One atomic writer for the whole project (autograd_core/files.py); re-exported here
# because callers have imported it from this module.
atomic_write = files.atomic_write


def model_to_dict(model):
    """The JSON-ready description of an MLP, Layer or Neuron."""
    MLP, Layer, Neuron = (MODEL_KINDS[kind] for kind in ("MLP", "Layer", "Neuron"))
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
        raw = files.read_regular_file(path, MAX_MODEL_BYTES, what="model file")
    except FileNotFoundError:
        raise FileNotFoundError(f"model file {path}: no such file") from None
    except files.FileTooLargeError as error:
        raise ModelFileError(str(error)) from None
    except OSError as error:
        if error.filename is None and error.strerror and "model file" in error.strerror:
            raise ModelFileError(error.strerror) from None  # ours: a folder, FIFO, device
        raise ModelFileError(f"model file {path}: cannot be read "
                             f"({error.strerror or error})") from None
    try:
        data = json.loads(raw.decode("utf-8"), object_pairs_hook=_no_duplicate_keys,
                          parse_constant=_no_constants)
    except _StrictJSONError as error:
        raise ModelFileError(f"model file {path}: {error}") from None
    except (ValueError, RecursionError) as error:  # JSONDecodeError, UnicodeDecodeError
        problem = "is empty" if not raw.strip() else \
            f"is not valid JSON, it may be truncated or corrupt ({_first_line(error)})"
        raise ModelFileError(f"model file {path} {problem}") from None
    try:
        model = model_from_dict(data)
    except ModelFileError as error:
        raise ModelFileError(f"model file {path}: {error}") from None
    if expected is not None and not isinstance(model, expected):
        raise ModelFileError(f"model file {path} holds a {type(model).__name__}, "
                             f"not a {expected.__name__}")
    return model


class _StrictJSONError(ValueError):
    """JSON that Python's parser accepts but a model file must not contain."""


def _no_duplicate_keys(pairs):
    seen = {}
    for key, value in pairs:
        if key in seen:
            raise _StrictJSONError(f"the key {_shown(key)} appears twice in one object; "
                                   "a model file gives each field once")
        seen[key] = value
    return seen


def _no_constants(name):
    raise _StrictJSONError(f"{name} is not a number a model file may hold "
                           "(JSON has no NaN or Infinity)")


def _first_line(error):
    return str(error).splitlines()[0][:200] if str(error) else type(error).__name__


def _shown(value, limit=40):
    """A value from the file, as a message shows it: short, one line."""
    text = repr(value)
    if isinstance(value, int) and not isinstance(value, bool) and len(text) > limit:
        return f"an integer of {len(text)} digits"
    return text if len(text) <= limit else f"{text[:limit]}..."


def _type_name(value):
    return {dict: "an object", list: "a list", str: "a string", bool: "true/false",
            type(None): "null", int: "a number", float: "a number"}.get(type(value),
                                                                       type(value).__name__)


def model_from_dict(data):
    """Check a model description completely, then build the model it describes."""
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise ModelFileError(f"not a chainrule model (no \"format\": \"{FORMAT}\" field)")
    version = data.get("version")
    if type(version) is not int or version != VERSION:  # true == 1 in Python, not here
        raise ModelFileError(f"format version {_shown(version)} is not supported; "
                             f"this chainrule reads version {VERSION}")
    kind = data.get("kind")
    if type(kind) is not str or kind not in ("MLP", "Layer", "Neuron"):
        raise ModelFileError(f"unknown model kind {_shown(kind)}; expected MLP, Layer or "
                             "Neuron")
    _only(data, ("format", "version", "kind", "architecture", "layers"), "in the file")
    architecture = _field(data, "architecture", dict)
    _only(architecture, ("sizes", "activations"), "in the architecture")
    sizes = _field(architecture, "sizes", list, "architecture")
    activations = _field(architecture, "activations", list, "architecture")
    layers = _field(data, "layers", list)
    # no file within the size limit holds more weights than it has bytes
    if len(sizes) < 2 or not all(type(s) is int and 1 <= s <= MAX_MODEL_BYTES for s in sizes):
        raise ModelFileError(f"architecture sizes must be at least two positive ints, "
                             f"got {_shown(sizes)}")
    if len(activations) != len(sizes) - 1 or len(layers) != len(sizes) - 1:
        raise ModelFileError(f"architecture has {len(sizes) - 1} layers (sizes "
                             f"{_shown(sizes)}) but {len(activations)} activations and "
                             f"{len(layers)} layers of parameters")
    if kind != "MLP" and len(layers) != 1 or kind == "Neuron" and sizes[1] != 1:
        raise ModelFileError(f"a {kind} has exactly one layer"
                             + (" of one neuron" if kind == "Neuron" else ""))
    weights, biases = [], []
    for index, (layer, activation) in enumerate(zip(layers, activations), 1):
        if type(activation) is not str or activation not in ACTIVATIONS:
            raise ModelFileError(f"layer {index}: the activation must be one of "
                                 f"{', '.join(ACTIVATIONS)}, got {_shown(activation)}"
                                 if type(activation) is not str else
                                 f"layer {index}: unknown activation {_shown(activation)}; "
                                 f"use one of: {', '.join(ACTIVATIONS)}")
        if not isinstance(layer, dict):
            raise ModelFileError(f"layer {index} must be an object with weights and biases, "
                                 f"not {_type_name(layer)}")
        nin, nout = sizes[index - 1], sizes[index]
        _only(layer, ("weights", "biases"), f"in layer {index}")
        w = _field(layer, "weights", list, f"layer {index}")
        b = _field(layer, "biases", list, f"layer {index}")
        if len(w) != nout or any(not isinstance(row, list) or len(row) != nin for row in w):
            raise ModelFileError(f"layer {index}: weights must be {nout} rows of {nin} "
                                 f"numbers (sizes {_shown(sizes)}), got a different shape")
        if len(b) != nout:
            raise ModelFileError(f"layer {index}: {len(b)} biases but the architecture "
                                 f"says {nout} neurons")
        for row in w + [b]:
            for x in row:
                if not _is_finite_number(x):
                    raise ModelFileError(f"layer {index}: parameter {_shown(x)} is not a "
                                         "finite number")
                if type(x) is int and float(x) != x:  # 2**53 + 1 would load as 2**53
                    raise ModelFileError(f"layer {index}: parameter {_shown(x)} has more "
                                         "digits than a float keeps (it would load as "
                                         f"{float(x)!r}); write the value it should have")
        weights.append(w)
        biases.append(b)
    return _build(kind, sizes, activations, weights, biases)


def _only(obj, names, where):
    for key in obj:
        if key not in names:
            what = f"layer {where.split()[-1]} has an unknown field" if where.startswith(
                "in layer") else "unknown field"
            raise ModelFileError(f"{what} {_shown(key)}"
                                 + ("" if where.startswith("in layer") else f" {where}")
                                 + f"; a model file has only {', '.join(names)} there")


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
        raise ModelFileError(f"{where}: {name!r} must be "
                             f"{'a list' if kind is list else 'an object'}, "
                             f"not {_type_name(value)}")
    return value


def _build(kind, sizes, activations, weights, biases):
    """A new MLP/Layer/Neuron with exactly these activations and parameters."""
    MLP, Layer, Neuron = (MODEL_KINDS[kind] for kind in ("MLP", "Layer", "Neuron"))
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
