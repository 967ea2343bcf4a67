"""nn: sigmoid multi-layer perceptrons, losses, softmax and optimisers on autograd_core.

nn.backprop is the same backward pass neuron by neuron (deltas, dC/dw = o_i * delta_j).
Also: model files (Module.save / Module.load, nn/serialize.py), small seeded datasets
(nn.datasets) and the way on to PyTorch (to_torch / from_torch, nn/torch_bridge.py).

Training, one module a job (imported by name, not from here): nn.training_config
(TrainConfig), nn.loss_table (every loss name), nn.step_functions, nn.evaluation,
nn.trainer (Trainer, train), nn.run_folder (write_run), nn.memory_estimate,
nn.blas_threads and nn.c_allocator (the calls a training program makes).
"""

from .backprop import neuron_backward
from .layers import ACTIVATIONS, MLP, Layer, Module, Neuron
from .losses import (bce_with_logits, binary_cross_entropy, cross_entropy, mse_loss, softmax,
                     sse_loss)
from .optim import OPTIMIZERS, SGD, Adam, Momentum
from .serialize import ModelFileError
from .torch_bridge import from_torch, to_torch

__all__ = ["Module", "Neuron", "Layer", "MLP", "ACTIVATIONS", "mse_loss", "sse_loss",
           "binary_cross_entropy", "bce_with_logits", "softmax", "cross_entropy",
           "SGD", "Momentum", "Adam", "OPTIMIZERS", "ModelFileError", "to_torch", "from_torch",
           "neuron_backward"]
