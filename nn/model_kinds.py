"""What a model is made of, by name: its kinds and its activations.

nn/layers.py registers its classes here (`@model_kind`), and nn/serialize.py recognises
and builds a model file's kind ("MLP", "Layer", "Neuron") through `MODEL_KINDS`; so a
model file module below the layers needs no import of them (layers -> serialize only).
"""

from __future__ import annotations

from autograd_core import Value

__all__ = ["ACTIVATIONS", "MODEL_KINDS", "model_kind", "check_activation"]

# What each activation name calls on a neuron's net input.
ACTIVATIONS = {
    "sigmoid": Value.sigmoid,
    "tanh": Value.tanh,
    "relu": Value.relu,
    "linear": None,
}

# Each kind of model a file may hold, by its class name (filled by nn/layers.py).
MODEL_KINDS = {}


def model_kind(cls):
    """Class decorator: `cls` is a kind of model that files may hold, by its name."""
    MODEL_KINDS[cls.__name__] = cls
    return cls


def check_activation(name):
    if name not in ACTIVATIONS:
        raise ValueError(f"unknown activation {name!r}; use one of: {', '.join(ACTIVATIONS)}")
    return name
