"""Optimisers: plain gradient descent (the seeds' w <- w - lr * dC/dw), momentum and Adam.

Each follows PyTorch's update exactly (torch.optim.SGD, SGD(momentum=...), Adam), so a
model trained here and one trained in torch float64 from the same weights stay equal
step for step. Every step is all-or-nothing: if any new parameter (or state) would not
be a finite number, nothing changes and OverflowError says which parameter diverged.

`state_dict()` is an optimiser's settings and running state (momentum's velocity, Adam's
averages and step count) as JSON-ready numbers; `load_state_dict(state)` puts them back,
so training resumed from a saved model and its optimiser state continues exactly as the
uninterrupted run (a model file alone restarts momentum and Adam from zero).
"""

from __future__ import annotations

import math

from autograd_core import Value

__all__ = ["SGD", "Momentum", "Adam", "OPTIMIZERS"]


def _number(name, x, what, lo, hi, lo_open=True, hi_open=True):
    ok = not isinstance(x, bool) and isinstance(x, (int, float)) and math.isfinite(x)
    if ok:
        ok = (lo < x if lo_open else lo <= x) and (hi is None or (x < hi if hi_open else x <= hi))
    if not ok:
        raise ValueError(f"{name}: {what}, got {x!r}")
    return float(x)


def _finite_sum(values):
    """True when every value is finite (their exact sum is: an inf or nan makes it inf,
    nan or an error; a sum too large for a float, of finite values, is an error too,
    and then the caller looks value by value)."""
    try:
        total = math.fsum(values)
    except (OverflowError, ValueError):
        return False
    return total - total == 0.0


class _Optimizer:
    """The parameters, zero_grad, and the all-or-nothing update every optimiser shares."""

    def __init__(self, params, lr):
        name = type(self).__name__
        if isinstance(params, Value) or not hasattr(params, "__iter__"):
            raise TypeError(f"{name}: params must be a list of Values (model.parameters()), "
                            f"got {type(params).__name__}")
        self.params = list(params)
        for p in self.params:
            if not isinstance(p, Value):
                raise TypeError(f"{name}: parameters must be Values, got {type(p).__name__}")
        self.lr = _number(name, lr, "lr must be a positive finite number", 0.0, None)

    def _apply(self, new_data, new_state=()):
        """Write new_data into the parameters (and commit new_state) only if all of it is
        finite; otherwise raise naming the first parameter that diverged."""
        if not all(map(_finite_sum, (new_data, *new_state))):  # else one pass, in C
            self._find_divergence(new_data, new_state)
        for p, x in zip(self.params, new_data):
            p.data = x

    def _find_divergence(self, new_data, new_state):
        for i, x in enumerate(new_data):
            if x - x != 0.0 or any(s[i] - s[i] != 0.0 for s in new_state):  # inf or nan
                p = self.params[i]
                label = f" {p.label}" if p.label else ""
                result = f"gives {x!r}" if x - x != 0.0 else "overflows its running averages"
                raise OverflowError(f"{type(self).__name__}: updating the parameter{label} "
                                    f"(data {p.data!r}, grad {p.grad!r}) {result}; the "
                                    "training diverged, use a smaller lr")

    def zero_grad(self):
        for p in self.params:
            p.grad = 0.0

    # What state_dict() holds besides "optimizer": hyperparameters, then running state.
    _settings = ("lr",)
    _running = ()

    def state_dict(self) -> dict:
        """{"optimizer": its name in OPTIMIZERS, the hyperparameters, the running state}:
        plain numbers and lists of them, ready for json.dump."""
        state = {"optimizer": _NAMES[type(self)]}
        for name in self._settings + self._running:
            value = getattr(self, name)
            state[name] = list(value) if isinstance(value, (list, tuple)) else value
        return state

    def load_state_dict(self, state) -> None:
        """Restore what state_dict() gave (for the same parameters, in the same order).
        Everything is checked first: a state that does not fit changes nothing and
        raises ValueError saying what is wrong."""
        name, kind = type(self).__name__, _NAMES[type(self)]
        if not isinstance(state, dict):
            raise ValueError(f"{name}: the optimiser state must be a dict from "
                             f"state_dict(), got {type(state).__name__}")
        if state.get("optimizer") != kind:
            raise ValueError(f"{name}: this optimiser state is for "
                             f"{state.get('optimizer')!r}, not {kind!r}")
        missing = [k for k in self._settings + self._running if k not in state]
        if missing:
            raise ValueError(f"{name}: the optimiser state has no {missing[0]!r}")
        checked = {}
        probe = type(self).__new__(type(self))  # the constructor's checks, on a scratch copy
        try:
            probe._check_settings(**{k: state[k] for k in self._settings})
        except (TypeError, ValueError) as error:
            raise ValueError(f"{name}: the optimiser state's settings are wrong: "
                             f"{error}") from None
        for k in self._settings:
            checked[k] = getattr(probe, k)
        for k in self._running:
            checked[k] = self._check_running(k, state[k])
        for k, value in checked.items():
            setattr(self, k, value)

    def _check_settings(self, lr):
        self.lr = _number(type(self).__name__, lr, "lr must be a positive finite number",
                          0.0, None)

    def _check_running(self, key, value):
        name, n = type(self).__name__, len(self.params)
        if not isinstance(value, list) or len(value) != n:
            size = len(value) if isinstance(value, list) else type(value).__name__
            raise ValueError(f"{name}: the optimiser state's {key!r} must be a list of "
                             f"{n} numbers (one per parameter), got {size}")
        for x in value:
            if isinstance(x, bool) or not isinstance(x, (int, float)) or not math.isfinite(x):
                raise ValueError(f"{name}: the optimiser state's {key!r} holds {x!r}, "
                                 "not a finite number")
        return [float(x) for x in value]


class SGD(_Optimizer):
    """w <- w - lr * dC/dw (torch.optim.SGD with no momentum)."""

    def step(self):
        lr = self.lr
        self._apply([p.data - lr * p.grad for p in self.params])


class Momentum(_Optimizer):
    """Gradient descent with momentum, as torch.optim.SGD(lr, momentum) (dampening 0):

        v <- momentum * v + dC/dw        (v starts at 0, so the first v is the gradient)
        w <- w - lr * v
    """

    _settings = ("lr", "momentum")
    _running = ("velocity",)

    def __init__(self, params, lr, momentum=0.9):
        super().__init__(params, lr)
        self.momentum = _number("Momentum", momentum, "momentum must lie in [0, 1)", 0.0, 1.0,
                                lo_open=False)
        self.velocity = [0.0] * len(self.params)

    def _check_settings(self, lr, momentum):
        super()._check_settings(lr)
        self.momentum = _number("Momentum", momentum, "momentum must lie in [0, 1)", 0.0, 1.0,
                                lo_open=False)

    def step(self):
        mu, lr = self.momentum, self.lr
        velocity = [mu * v + p.grad for v, p in zip(self.velocity, self.params)]
        self._apply([p.data - lr * v for p, v in zip(self.params, velocity)], (velocity,))
        self.velocity = velocity


class Adam(_Optimizer):
    """Adam (Kingma and Ba), as torch.optim.Adam: at step t = 1, 2, ...

        m <- beta1 * m + (1 - beta1) * g            g = dC/dw; m, v start at 0
        v <- beta2 * v + (1 - beta2) * g^2
        w <- w - lr / (1 - beta1^t) * m / (sqrt(v) / sqrt(1 - beta2^t) + eps)
    """

    _settings = ("lr", "betas", "eps")
    _running = ("m", "v", "t")

    def __init__(self, params, lr=0.001, betas=(0.9, 0.999), eps=1e-8):
        super().__init__(params, lr)
        self._check_settings(self.lr, betas, eps)
        self.m = [0.0] * len(self.params)
        self.v = [0.0] * len(self.params)
        self.t = 0

    def _check_settings(self, lr, betas, eps):
        super()._check_settings(lr)
        try:
            beta1, beta2 = betas
        except (TypeError, ValueError):
            raise ValueError(f"Adam: betas must be a pair (beta1, beta2), got {betas!r}") from None
        self.betas = (_number("Adam", beta1, "beta1 must lie in [0, 1)", 0.0, 1.0, lo_open=False),
                      _number("Adam", beta2, "beta2 must lie in [0, 1)", 0.0, 1.0, lo_open=False))
        self.eps = _number("Adam", eps, "eps must be a positive finite number", 0.0, None)

    def _check_running(self, key, value):
        if key != "t":
            return super()._check_running(key, value)
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise ValueError(f"Adam: the optimiser state's 't' (steps taken) must be a "
                             f"whole number >= 0, got {value!r}")
        return value

    def step(self):
        (beta1, beta2), eps, t = self.betas, self.eps, self.t + 1
        step_size = self.lr / (1.0 - beta1 ** t)
        root_correction = math.sqrt(1.0 - beta2 ** t)
        grads = [p.grad for p in self.params]
        m = [beta1 * mi + (1.0 - beta1) * g for mi, g in zip(self.m, grads)]
        v = [beta2 * vi + (1.0 - beta2) * g * g for vi, g in zip(self.v, grads)]
        new = [p.data - step_size * mi / (math.sqrt(vi) / root_correction + eps)
               for p, mi, vi in zip(self.params, m, v)]
        self._apply(new, (m, v))
        self.m, self.v, self.t = m, v, t


# Optimisers by name, for commands and configs: name -> class.
OPTIMIZERS = {"sgd": SGD, "momentum": Momentum, "adam": Adam}
_NAMES = {cls: name for name, cls in OPTIMIZERS.items()}
