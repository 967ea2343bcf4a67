"""Losses, each returning one Value; and softmax, which turns logits into probabilities.

mse_loss, binary_cross_entropy and bce_with_logits are means over the examples;
sse_loss is the article's (and Mazur's) 1/2 * sum of squared errors; cross_entropy is
one sample's many-class loss.
"""

from __future__ import annotations

from autograd_core import Value, value_sum

__all__ = ["mse_loss", "sse_loss", "binary_cross_entropy", "bce_with_logits", "softmax",
           "cross_entropy"]


def _pairs(preds, targets, name):
    preds = [preds] if isinstance(preds, (Value, int, float)) else list(preds)
    targets = [targets] if isinstance(targets, (int, float)) else list(targets)
    if len(preds) != len(targets):
        raise ValueError(f"{name}: {len(preds)} predictions but {len(targets)} targets; "
                         "give one target per prediction")
    if not preds:
        raise ValueError(f"{name}: no predictions given")
    return preds, targets


def _target(t, name, lo=None, hi=None):
    if isinstance(t, Value):
        t = t.data
    if isinstance(t, bool) or not isinstance(t, (int, float)) or t != t:
        raise TypeError(f"{name}: targets must be numbers, got {t!r}")
    if lo is not None and not lo <= t <= hi:
        raise ValueError(f"{name}: targets must lie in [{lo}, {hi}], got {t!r}")
    return float(t)


def mse_loss(preds, targets):
    """mean((pred - target)^2)."""
    preds, targets = _pairs(preds, targets, "mse_loss")
    errors = [(p - _target(t, "mse_loss")) ** 2 for p, t in zip(preds, targets)]
    return value_sum(errors) / len(errors)


def sse_loss(preds, targets):
    """1/2 * sum((target - pred)^2): the quadratic cost C = 1/2 sum (y - a)^2 as the
    article writes it, Mazur's E_total. Its derivative dC/da = a - y has no 1/n."""
    preds, targets = _pairs(preds, targets, "sse_loss")
    errors = [0.5 * (_target(t, "sse_loss") - p) ** 2 for p, t in zip(preds, targets)]
    return value_sum(errors)


def binary_cross_entropy(preds, targets):
    """mean(-(t log p + (1 - t) log(1 - p))) for probabilities p in (0, 1)."""
    preds, targets = _pairs(preds, targets, "binary_cross_entropy")
    terms = []
    for p, t in zip(preds, targets):
        t = _target(t, "binary_cross_entropy", 0.0, 1.0)
        data = p.data if isinstance(p, Value) else p
        if not 0.0 < data < 1.0:
            raise ValueError(f"binary_cross_entropy: prediction {data!r} is not inside (0, 1); "
                             "pass logits to bce_with_logits instead")
        p = p if isinstance(p, Value) else Value(p)
        terms.append(-(t * p.log() + (1.0 - t) * (1.0 - p).log()))
    return value_sum(terms) / len(terms)


def bce_with_logits(logits, targets):
    """binary_cross_entropy(sigmoid(z), t) as softplus(z) - t z: finite for any finite z.

    Its derivative is sigmoid(z) - t, the "Z - t" of the textbook.
    """
    logits, targets = _pairs(logits, targets, "bce_with_logits")
    terms = []
    for z, t in zip(logits, targets):
        t = _target(t, "bce_with_logits", 0.0, 1.0)
        z = z if isinstance(z, Value) else Value(z)
        terms.append(z.softplus() - t * z)
    return value_sum(terms) / len(terms)


def _logits(logits, name):
    if isinstance(logits, (Value, int, float, str)):
        raise TypeError(f"{name}: logits must be a list of Values or numbers (one per class), "
                        f"got {type(logits).__name__}")
    logits = [z if isinstance(z, Value) else Value(z) for z in logits]
    if not logits:
        raise ValueError(f"{name}: no logits given; give one per class")
    return logits


def _shifted_exps(logits):
    """exp(z_i - max z) for each logit: the largest is exp(0) = 1, so nothing overflows
    and the sum is at least 1. The shift is a plain number, a constant in the graph:
    softmax does not change when every logit moves by the same amount."""
    top = max(z.data for z in logits)
    return [(z - top).exp() for z in logits], top


def softmax(values):
    """[exp(z_i) / sum_j exp(z_j)] as Values, computed without overflow for any finite
    inputs (as exp(z_i - max z) / sum_j exp(z_j - max z)).

    d softmax_i / d z_j = softmax_i (delta_ij - softmax_j); after cross-entropy the
    gradient reaching each z_i is softmax_i - onehot_i.
    """
    exps, _ = _shifted_exps(_logits(values, "softmax"))
    total = value_sum(exps)
    return [e / total for e in exps]


def cross_entropy(logits, target):
    """-log softmax(logits)[target] for one sample, as log-sum-exp minus the target's logit:

        J = max z + log(sum_j exp(z_j - max z)) - z_target

    finite for any finite logits (+-1000 included). `target` is the class index, an int
    in range(len(logits)). dJ/dz_i = softmax_i - onehot_i.
    """
    logits = _logits(logits, "cross_entropy")
    if isinstance(target, bool) or not isinstance(target, int):
        raise TypeError(f"cross_entropy: target must be the class index (an int), got "
                        f"{target!r}; for a one-hot list use its index of the 1")
    if not 0 <= target < len(logits):
        raise ValueError(f"cross_entropy: target class {target} is out of range for "
                         f"{len(logits)} logits; use 0..{len(logits) - 1}")
    exps, top = _shifted_exps(logits)
    return value_sum(exps).log() + top - logits[target]
