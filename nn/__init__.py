"""nn: sigmoid multi-layer perceptrons, losses and gradient descent on autograd_core."""

from .layers import ACTIVATIONS, MLP, Layer, Module, Neuron
from .losses import bce_with_logits, binary_cross_entropy, mse_loss
from .optim import SGD

__all__ = ["Module", "Neuron", "Layer", "MLP", "ACTIVATIONS", "mse_loss",
           "binary_cross_entropy", "bce_with_logits", "SGD"]
