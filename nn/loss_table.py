"""Every loss by name: the one table, for training and for the neuron-level backward pass.

A name means one thing wherever it is used. "bce" is binary cross-entropy on a logit (a
linear output, the sigmoid folded into the stable `bce_with_logits`), in `chainrule
train --loss`, in the Trainer and in `nn.neuron_backward`; binary cross-entropy on a
sigmoid output's probability is "sigmoid_bce". nn.losses' function names are accepted as
other spellings of the same rows ("bce_with_logits" is "bce", "cross_entropy" is "ce").

A row that `trains` (has a batch `function`) is one `chainrule train --loss` offers
(`LOSSES`); a row with a per-example `cost` is one `neuron_backward` states delta rules
for (`NEURON_LOSSES`). A training row also says what its outputs mean: how they become a
class (`threshold`, `class_index`), how they become what `nn.predict` gives
(`probabilities`), and which neuron-level row explains one example of it (`neuron_loss`,
`neuron_factor`): evaluation, prediction and the playground read those fields, never the
loss's name.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable, NamedTuple, Optional

from autograd_core import value_sum
from autograd_core.ops import sigmoid

from .losses import (bce_with_logits, binary_cross_entropy, cross_entropy, mse_loss, softmax,
                     sse_loss)

__all__ = ["Loss", "LOSS_TABLE", "LOSSES", "NEURON_LOSSES", "loss_named", "OutputNeuron"]


# ------------------------------------------------------------ the batch losses
def _mean_cross_entropy(outputs, targets):
    # nn's softmax cross-entropy (log-sum-exp, stable), one sample at a time
    return value_sum([cross_entropy(z, int(t)) for z, t in zip(outputs, targets)]) \
        / len(targets)


# The same losses for ONE sample whose target is a placeholder leaf (a Value standing for
# the sample's label, so that one graph serves a whole batch: nn.step_functions.batch_step).
# nn.losses takes its targets as plain numbers, baked into the graph; these take Values.
# Each is the nn.losses formula term for term (tests/nn/test_train_batch.py holds them
# equal, step by step, to the engine on nn.losses).
def _bce_one_sample(outputs, targets):
    z, (t,) = outputs[0], targets
    return z.softplus() - t * z           # bce_with_logits' term


def _mse_one_sample(outputs, targets):
    return (outputs[0] - targets[0]) ** 2  # mse_loss's term


def _ce_one_sample(outputs, targets):
    """cross_entropy's log-sum-exp with one-hot targets t_j and the shift as a placeholder
    too (it is max z, a constant for the engine): log(sum_j exp(z_j - s)) + s - sum_j t_j z_j."""
    *onehot, shift = targets
    return value_sum([(z - shift).exp() for z in outputs]).log() + shift \
        - value_sum([t * z for t, z in zip(onehot, outputs)])


# ------------------------------------------------ raw outputs as predict gives them
def _probability_of_logit(outputs):
    return [sigmoid(outputs[0])]


def _softmax_floats(outputs):
    top = max(outputs)
    exps = [math.exp(v - top) for v in outputs]
    total = sum(exps)
    return [e / total for e in exps]


# ------------------------------------------------- one example's cost, neuron by neuron
def _summed(per_output):
    """The sum over the outputs of a loss that nn.losses gives as a mean over examples."""
    return lambda outputs, target: value_sum([per_output([o], [t])
                                              for o, t in zip(outputs, target)])


# ------------------------------------------- an output neuron's delta, as the article writes it
class OutputNeuron(NamedTuple):
    """What an output neuron's delta rule reads (nn.neuron_backward gives it)."""
    index: int            # j, from 0
    name: str             # the neuron's name in the rule (o1)
    net: float
    out: float
    slope: float          # f'(net), the activation's local derivative
    symbol: str           # how the rule writes f'(net)
    outputs: list         # every output of the layer (floats)


# Each takes (the neuron, the example's target) and returns (delta, the rule in symbols,
# (the rule with a {} for each number, the numbers)).
def _sse_delta(n, target):
    y = target[n.index]
    return (n.out - y) * n.slope, f"(a - y) * {n.symbol}", ("({} - {}) * {}",
                                                            (n.out, y, n.slope))


def _probability_delta(n, target):
    y = target[n.index]
    return n.out - y, "a - y", ("{} - {}", (n.out, y))


def _logit_delta(n, target):
    y, s = target[n.index], sigmoid(n.net)
    return s - y, f"sigmoid(net_{n.name}) - y", ("{} - {}", (s, y))


def _softmax_delta(n, target):
    j = n.index
    onehot = 1.0 if j == target else 0.0
    p = softmax(n.outputs)[j].data
    return p - onehot, f"softmax_{j + 1} - onehot_{j + 1}", (f"{{}} - {onehot:g}", (p,))


@dataclass(frozen=True)
class Loss:
    """A loss: what it reads, how a batch's or one example's cost is built from nn.losses."""
    name: str
    title: str                # how a picture or a page names it
    description: str
    reads: Optional[str]      # the output activation it reads ("linear": logits,
                              # "sigmoid": probabilities), None: any (mse: by task)
    function: Optional[Callable] = None  # (outputs: per-example lists of Values, targets)
                                         # -> the mean Value; None: not a training loss
    classes: tuple = ()       # numbers of classes it trains on (0: regression)
    one_sample: Optional[Callable] = None  # (one sample's outputs, target placeholders)
    cost: Optional[Callable] = None  # (one example's outputs, its target) -> its cost, the
                                     # one neuron_backward states delta rules for
    output_delta: Optional[Callable] = None  # (OutputNeuron, target) -> that rule for an
                                             # output neuron (see _sse_delta)
    spellings: tuple = ()     # other names for this same loss
    # What a trained output means. A one-output model predicts class 1 where its output
    # is above `threshold` (a logit at 0, a probability at 0.5); with `class_index` the
    # target is a class index (one-hot placeholders in the batch graph, an int for
    # neuron_backward) and the prediction is the class of the largest output.
    threshold: float = 0.5
    class_index: bool = False
    probabilities: Optional[Callable] = None  # one example's raw outputs (floats) -> what
                                              # nn.predict gives; None: the outputs as they are
    # The neuron_backward loss whose delta rules explain one example of this loss (named
    # as the playground's derivation shows it), and the factor from that example's cost to
    # its share of the batch's mean: mse's (o - y)^2 is twice sse's 1/2 (y - o)^2.
    neuron_loss: Optional[str] = None
    neuron_factor: float = 1.0
    note: str = ""            # what a menu says beside the name

    @property
    def trains(self):
        return self.function is not None

    def output_activation(self, task):
        """The output layer's activation this loss expects when training on `task`."""
        if self.reads is not None:
            return self.reads
        return "sigmoid" if task == "classification" else "linear"  # mse on 0/1 labels


LOSS_TABLE = {loss.name: loss for loss in (
    Loss("bce", "binary cross-entropy",
         "binary cross-entropy on a logit: a linear output and the stable bce_with_logits "
         "(sigmoid + cross-entropy, finite for any logit)", "linear",
         lambda outs, ys: bce_with_logits([o[0] for o in outs], ys), (2,), _bce_one_sample,
         _summed(bce_with_logits), _logit_delta, spellings=("bce_with_logits",),
         threshold=0.0, probabilities=_probability_of_logit, neuron_loss="bce_with_logits",
         note="with logits"),
    Loss("mse", "mean squared error",
         "mean squared error: a sigmoid output for 0/1 labels, a linear one for regression",
         None, lambda outs, ys: mse_loss([o[0] for o in outs], ys), (0, 2), _mse_one_sample,
         neuron_loss="sse", neuron_factor=2.0),
    Loss("ce", "softmax cross-entropy",
         "softmax cross-entropy over the classes (one logit per class)", "linear",
         _mean_cross_entropy, tuple(range(3, 1000)), _ce_one_sample, cross_entropy,
         _softmax_delta, spellings=("cross_entropy",), class_index=True,
         probabilities=_softmax_floats, neuron_loss="cross_entropy",
         note="softmax cross-entropy"),
    Loss("sse", "quadratic cost",
         "the article's quadratic cost C = 1/2 sum (y - a)^2 (nn.sse_loss), any output", None,
         cost=sse_loss, output_delta=_sse_delta),
    Loss("sigmoid_bce", "binary cross-entropy of probabilities",
         "sigmoid outputs, C = the sum of their binary cross-entropies "
         "(nn.binary_cross_entropy)", "sigmoid", cost=_summed(binary_cross_entropy),
         output_delta=_probability_delta),
)}

# The losses `chainrule train --loss` and the Trainer offer.
LOSSES = {name: loss for name, loss in LOSS_TABLE.items() if loss.trains}

# The names nn.neuron_backward takes, each spelling included.
NEURON_LOSSES = tuple(name for loss in LOSS_TABLE.values() if loss.cost is not None
                      for name in (loss.name, *loss.spellings))


def loss_named(name):
    """The table's row for `name` or one of its spellings; None when there is none."""
    for loss in LOSS_TABLE.values():
        if name == loss.name or name in loss.spellings:
            return loss
    return None
