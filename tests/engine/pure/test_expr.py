"""The expression parser without torch (runs under PyPy too): one parse evaluated over the
float and Value backends, and no SyntaxWarning before the parser's own error.

The oracle is the graph expr.build makes from the same parse. The parser's other tests
(whitelist, carets, limits): tests/engine/test_expr.py.
"""

import warnings

import pytest

from autograd_core import Value
from tests.helpers import close


def test_parse_once_evaluate_over_backends():
    from autograd_core import expr
    parsed = expr.parse("maximum(x, sin(pi*x)) + e**x / sqrt(abs(y)) + softplus(y)")
    values = {"x": 0.3, "y": -2.0}
    as_float = expr.evaluate(parsed, values, expr.backend("floats"))
    root, _ = expr.build(parsed, values)
    assert close(as_float, root.data, rel=1e-14)
    as_values = expr.evaluate(parsed, {k: Value(v) for k, v in values.items()},
                              expr.backend("values"))
    assert close(as_values.data, root.data, rel=1e-14)
    assert parsed.names == ["x", "y"]


def test_no_syntax_warning_leaks_before_the_error():
    from autograd_core import expr
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with pytest.raises(expr.ExpressionError) as info:
            expr.parse("1in x")
    assert caught == []
    # Python 3.12 reads "1in" as a number running into a name; 3.9 as "1 in x"
    assert "write a * between" in str(info.value) or "comparison" in str(info.value)
