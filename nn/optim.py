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
        lr = self.lr
        for p in self.params:
            p.data -= lr * p.grad

    def zero_grad(self):
        for p in self.params:
            p.grad = 0.0
