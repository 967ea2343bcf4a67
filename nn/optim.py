"""Plain gradient descent: w <- w - lr * dC/dw."""

from __future__ import annotations

import math

from autograd_core import Value

__all__ = ["SGD"]


class SGD:
    def __init__(self, params, lr):
        self.params = list(params)
        for p in self.params:
            if not isinstance(p, Value):
                raise TypeError(f"SGD: parameters must be Values, got {type(p).__name__}")
        if isinstance(lr, bool) or not isinstance(lr, (int, float)) or not math.isfinite(lr) \
                or lr <= 0:
            raise ValueError(f"SGD: lr must be a positive finite number, got {lr!r}")
        self.lr = float(lr)

    def step(self):
        """p.data -= lr * p.grad for every parameter, or none of them if any result would
        not be a finite number (the training diverged): the model is never half-updated."""
        lr = self.lr
        new = [p.data - lr * p.grad for p in self.params]
        for p, x in zip(self.params, new):
            if x - x != 0.0:  # inf or nan
                name = f" {p.label}" if p.label else ""
                raise OverflowError(f"SGD: updating the parameter{name} (data {p.data!r}, grad "
                                    f"{p.grad!r}) gives {x!r}; the training diverged, use a "
                                    "smaller lr")
        for p, x in zip(self.params, new):
            p.data = x

    def zero_grad(self):
        for p in self.params:
            p.grad = 0.0
