"""nn: sigmoid multi-layer perceptrons, losses and gradient descent on autograd_core.

Also: model files (Module.save / Module.load, nn/serialize.py), small seeded datasets
(nn.datasets) and the way on to PyTorch (to_torch / from_torch, nn/torch_bridge.py).
"""

from .layers import ACTIVATIONS, MLP, Layer, Module, Neuron
from .losses import bce_with_logits, binary_cross_entropy, mse_loss
from .optim import SGD
from .serialize import ModelFileError
from .torch_bridge import from_torch, to_torch

__all__ = ["Module", "Neuron", "Layer", "MLP", "ACTIVATIONS", "mse_loss",
           "binary_cross_entropy", "bce_with_logits", "SGD", "ModelFileError",
           "to_torch", "from_torch"]
