"""The way on to PyTorch: the same network as a torch.nn.Sequential, and back.

`to_torch(model)` gives Linear(nin, nout) + activation for each layer (no module after
a linear layer), in float64, with the same numbers: Linear.weight row i is neuron i's
weights and Linear.bias[i] its bias, exactly as in the model file (nn/serialize.py).
`from_torch(seq)` reads such a Sequential back into a new MLP. Either way the two
compute the same outputs and gradients, to rounding.

torch is optional: it is imported only when one of these is called, and without it
they raise ImportError saying what to install.
"""

from __future__ import annotations

from .serialize import ModelFileError, model_from_dict, model_to_dict

__all__ = ["to_torch", "from_torch", "TORCH_REQUIREMENT"]

TORCH_REQUIREMENT = "torch==2.13.0"

# activation name -> torch.nn class name (linear: no module at all)
_TORCH_ACTIVATIONS = {"sigmoid": "Sigmoid", "tanh": "Tanh", "relu": "ReLU"}


def _import_torch():
    try:
        import torch
    except ImportError:
        raise ImportError(f"nn.to_torch / nn.from_torch need PyTorch, which is not "
                          f"installed: pip install {TORCH_REQUIREMENT}") from None
    return torch


def to_torch(model):
    """A float64 torch.nn.Sequential computing what `model` (MLP, Layer, Neuron) does."""
    torch = _import_torch()
    description = model_to_dict(model)
    sizes = description["architecture"]["sizes"]
    modules = []
    for index, (layer, activation) in enumerate(
            zip(description["layers"], description["architecture"]["activations"])):
        linear = torch.nn.Linear(sizes[index], sizes[index + 1], dtype=torch.float64)
        with torch.no_grad():
            linear.weight.copy_(torch.tensor(layer["weights"], dtype=torch.float64))
            linear.bias.copy_(torch.tensor(layer["biases"], dtype=torch.float64))
        modules.append(linear)
        if activation != "linear":
            modules.append(getattr(torch.nn, _TORCH_ACTIVATIONS[activation])())
    return torch.nn.Sequential(*modules)


def from_torch(sequential):
    """A new nn.MLP with the layers and weights of a torch.nn.Sequential.

    Accepted: Linear layers, each followed by at most one Sigmoid, Tanh, ReLU or
    Identity (nothing or Identity means a linear layer). A Linear without bias becomes
    a layer whose biases are 0. Anything else raises ValueError naming the module.
    """
    torch = _import_torch()
    if not isinstance(sequential, torch.nn.Sequential):
        raise ValueError(f"from_torch needs a torch.nn.Sequential, got "
                         f"{type(sequential).__name__}")
    activation_of = {cls: name for name, cls in _TORCH_ACTIVATIONS.items()}
    activation_of["Identity"] = "linear"
    sizes, activations, layers = [], [], []
    expecting_activation = False  # True right after a Linear
    for position, module in enumerate(sequential):
        name = type(module).__name__
        where = f"module {position} ({name})"
        if isinstance(module, torch.nn.Linear):
            if sizes and module.in_features != sizes[-1]:
                raise ValueError(f"from_torch: {where} takes {module.in_features} inputs "
                                 f"but the layer before it gives {sizes[-1]}")
            if not sizes:
                sizes.append(module.in_features)
            sizes.append(module.out_features)
            weight = module.weight.detach().to(torch.float64)
            bias = module.bias.detach().to(torch.float64) if module.bias is not None \
                else torch.zeros(module.out_features, dtype=torch.float64)
            layers.append({"weights": weight.tolist(), "biases": bias.tolist()})
            activations.append("linear")
            expecting_activation = True
        elif type(module) in (torch.nn.Sigmoid, torch.nn.Tanh, torch.nn.ReLU,
                              torch.nn.Identity):
            if not expecting_activation:
                raise ValueError(f"from_torch: {where} must come right after a Linear "
                                 "layer (one activation per layer)")
            activations[-1] = activation_of[name]
            expecting_activation = False
        else:
            raise ValueError(f"from_torch: unsupported {where}; only Linear, Sigmoid, Tanh, "
                             "ReLU and Identity can be converted")
    if not layers:
        raise ValueError("from_torch: the Sequential has no Linear layer")
    description = {"format": "chainrule-model", "version": 1, "kind": "MLP",
                   "architecture": {"sizes": sizes, "activations": activations},
                   "layers": layers}
    try:
        return model_from_dict(description)
    except ModelFileError as error:  # e.g. a non-finite weight
        raise ValueError(f"from_torch: {error}") from None
