"""Losses: each returns one Value, the mean over the examples."""

from __future__ import annotations

from autograd_core import Value, value_sum

__all__ = ["mse_loss", "binary_cross_entropy", "bce_with_logits"]


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
