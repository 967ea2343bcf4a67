"""micrograd's README example, written once: its expression and its published numbers.

The expression is spelled exactly as the README spells it, so it runs on micrograd's
Value, on autograd_core.micrograd's (only the import changed) and on torch tensors
alike. Pure Python, so that tests/engine/pure (run under PyPy) can use it.
"""

START = {"a": -4.0, "b": 2.0}
# What the README prints: g.data, then a.grad and b.grad after g.backward().
PUBLISHED = {"g": "24.7041", "a.grad": "138.8338", "b.grad": "645.5773"}


def readme_expression(a, b):
    """g, from the README's inputs a and b (given as the Values or tensors to use)."""
    c = a + b
    d = a * b + b**3
    c += c + 1
    c += 1 + c + (-a)
    d += d * 2 + (b + a).relu()
    d += 3 * d + (b - a).relu()
    e = c - d
    f = e**2
    g = f / 2.0
    g += 10.0 / f
    return g
