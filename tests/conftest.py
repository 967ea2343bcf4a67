"""Shared test helpers: the torch float64 oracle."""

import pytest

torch = pytest.importorskip("torch")


def tensor(x):
    """A float64 leaf that needs its gradient; built directly in float64 (never via float32)."""
    return torch.tensor(x, dtype=torch.float64, requires_grad=True)


def close(a, b, rel=1e-9, abs_=1e-12):
    return abs(a - b) <= abs_ + rel * abs(b)
