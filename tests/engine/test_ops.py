"""Every operation's value and gradients against PyTorch float64 (plain numbers on either
side, constant operands, numpy scalars, ties of maximum and minimum), and its errors.

The oracle is torch in float64; the errors are checked against the messages the engine
promises. The same ops against closed-form derivatives, without torch (and under PyPy):
tests/engine/pure/test_ops.py.
"""

import math

import pytest

from autograd_core import Value, maximum, minimum, value_sum, weighted_sum
from tests.helpers import close, tensor, torch_or_skip


def torch_softplus(t):
    return torch_or_skip().nn.functional.softplus(t)


# (name, chainrule function, torch function, points to test); torch's are tensor methods
# (softplus has none), so the tables are read without torch
BINARY = [
    ("add", lambda a, b: a + b, lambda a, b: a + b, [(1.5, -2.25), (0.0, 3.0)]),
    ("sub", lambda a, b: a - b, lambda a, b: a - b, [(1.5, -2.25), (-4.0, 4.0)]),
    ("mul", lambda a, b: a * b, lambda a, b: a * b, [(1.5, -2.25), (0.0, 7.0)]),
    ("div", lambda a, b: a / b, lambda a, b: a / b, [(1.5, -2.25), (-3.0, 0.5)]),
    ("pow", lambda a, b: a ** b, lambda a, b: a ** b, [(1.5, 2.5), (0.3, -1.7), (2.0, 3.0)]),
]
UNARY = [
    ("neg", lambda a: -a, lambda a: -a, [1.5, -2.0]),
    ("exp", Value.exp, lambda t: t.exp(), [0.0, 1.5, -30.0, 700.0]),
    ("log", Value.log, lambda t: t.log(), [1.0, 0.25, 1e6]),
    ("tanh", Value.tanh, lambda t: t.tanh(), [0.0, 0.7, -3.0, 20.0]),
    ("sigmoid", Value.sigmoid, lambda t: t.sigmoid(), [0.0, 0.7, -3.0, 35.0, -700.0]),
    ("relu", Value.relu, lambda t: t.relu(), [2.0, -2.0, 0.0]),
    ("softplus", Value.softplus, torch_softplus, [0.0, 3.0, -3.0, 50.0, -50.0]),
    ("square", lambda a: a ** 2, lambda a: a ** 2, [3.0, -0.5]),
    ("cube", lambda a: a ** 3, lambda a: a ** 3, [-1.5, 2.0]),
    ("sqrt", lambda a: a ** 0.5, lambda a: a ** 0.5, [4.0, 0.3]),
    ("inverse", lambda a: a ** -1, lambda a: a ** -1, [4.0, -0.3]),
    ("power zero", lambda a: a ** 0, lambda a: a ** 0, [4.0, 0.0]),
]


@pytest.mark.parametrize("name,ours,theirs,points", BINARY, ids=[b[0] for b in BINARY])
def test_binary_op_matches_torch(name, ours, theirs, points):
    for a, b in points:
        va, vb = Value(a), Value(b)
        out = ours(va, vb)
        out.backward()
        ta, tb = tensor(a), tensor(b)
        tout = theirs(ta, tb)
        tout.backward()
        assert close(out.data, tout.item()), (name, a, b)
        assert close(va.grad, ta.grad.item()), (name, a, b, "d/da")
        assert close(vb.grad, tb.grad.item()), (name, a, b, "d/db")


@pytest.mark.parametrize("name,ours,theirs,points", UNARY, ids=[u[0] for u in UNARY])
def test_unary_op_matches_torch(name, ours, theirs, points):
    for a in points:
        va = Value(a)
        out = ours(va)
        out.backward()
        ta = tensor(a)
        tout = theirs(ta)
        tout.backward()
        assert close(out.data, tout.item()), (name, a)
        assert close(va.grad, ta.grad.item()), (name, a)


@pytest.mark.parametrize("number", [2, -3.5, 0.25])
def test_plain_numbers_on_either_side(number):
    """A number on the left or the right gives the same values and gradients as torch."""
    cases = [
        (lambda x: number + x, lambda x: number + x), (lambda x: x + number, lambda x: x + number),
        (lambda x: number - x, lambda x: number - x), (lambda x: x - number, lambda x: x - number),
        (lambda x: number * x, lambda x: number * x), (lambda x: x * number, lambda x: x * number),
        (lambda x: number / x, lambda x: number / x), (lambda x: x / number, lambda x: x / number),
        (lambda x: abs(number) ** x, lambda x: abs(number) ** x),
    ]
    for ours, theirs in cases:
        v, t = Value(1.75), tensor(1.75)
        out = ours(v)
        out.backward()
        tout = theirs(t)
        tout.backward()
        assert close(out.data, tout.item()) and close(v.grad, t.grad.item())


def test_number_operand_keeps_written_order():
    out = 2 - Value(5.0)
    assert out.data == -3.0
    assert [p.data for p in out.parents] == [2.0, 5.0]


def test_weighted_sum_and_sum_match_torch():
    torch = torch_or_skip()
    ws, xs, b = [0.3, -1.2, 2.0], [1.5, 0.25, -0.75], 0.4
    vw, vx, vb = [Value(w) for w in ws], [Value(x) for x in xs], Value(b)
    out = value_sum([weighted_sum(vw, vx, vb), vw[0] * 2.0, 1.0]).tanh()
    out.backward()
    tw, tx, tb = tensor(ws), tensor(xs), tensor(b)
    tout = torch.tanh((tw * tx).sum() + tb + tw[0] * 2.0 + 1.0)
    tout.backward()
    assert close(out.data, tout.item())
    for v, g in zip(vw + vx + [vb], tw.grad.tolist() + tx.grad.tolist() + [tb.grad.item()]):
        assert close(v.grad, g)


def test_saturated_sigmoid_and_tanh_are_exact():
    for x, s in [(1000.0, 1.0), (-1000.0, 0.0)]:
        v = Value(x)
        out = v.sigmoid()
        out.backward()
        assert out.data == s and v.grad == 0.0
        v = Value(x)
        out = v.tanh()
        out.backward()
        assert out.data == math.copysign(1.0, x) and v.grad == 0.0
    big = Value(1000.0).softplus()
    assert big.data == 1000.0 and big.local_grads == (1.0,)
    assert Value(-1000.0).softplus().data == 0.0


def test_relu_gradient_at_zero_is_zero_like_torch():
    torch = torch_or_skip()
    v = Value(0.0)
    v.relu().backward()
    t = tensor(0.0)
    torch.relu(t).backward()
    assert v.grad == t.grad.item() == 0.0


def test_local_grads_are_computed_in_the_forward_pass():
    a, b = Value(3.0), Value(-2.0)
    out = a * b
    assert out.parents == (a, b) and out.local_grads == (-2.0, 3.0) and out.op == "*"
    assert isinstance(out.local_grads, tuple) and isinstance(out.parents, tuple)
    assert a.op == "" and a.parents == () and a.local_grads == () and a.grad == 0.0


# ------------------------------------------------ more ops: sin, cos, sqrt, abs, softplus

MORE_UNARY = [
    ("sin", Value.sin, lambda t: t.sin(), [0.0, 1.3, -2.7]),
    ("cos", Value.cos, lambda t: t.cos(), [0.0, 1.3, -2.7]),
    ("sqrt", Value.sqrt, lambda t: t.sqrt(), [0.04, 2.0, 1e8]),
    ("abs", abs, lambda t: t.abs(), [-1.5, 0.0, 2.5]),      # 0 at the kink, as torch
    ("softplus", Value.softplus, torch_softplus, [-30.0, 0.0, 2.0, 30.0]),
]


@pytest.mark.parametrize("name, ours, theirs, points", MORE_UNARY,
                         ids=[u[0] for u in MORE_UNARY])
def test_new_unary_ops_match_torch(name, ours, theirs, points):
    for x in points:
        v, t = Value(x), tensor(x)
        out, tout = ours(v), theirs(t)
        out.backward()
        tout.backward()
        assert close(out.data, tout.item()) and close(v.grad, t.grad.item()), (name, x)


@pytest.mark.parametrize("a, b", [(1.0, 2.0), (3.0, -1.0), (0.5, 0.5), (-2.0, -2.0)])
def test_maximum_minimum_match_torch_ties_included(a, b):
    torch = torch_or_skip()
    for ours, theirs in ((maximum, torch.maximum), (minimum, torch.minimum)):
        va, vb, ta, tb = Value(a), Value(b), tensor(a), tensor(b)
        out, tout = ours(va, vb), theirs(ta, tb)
        out.backward()
        tout.backward()
        assert out.data == tout.item()
        assert (va.grad, vb.grad) == (ta.grad.item(), tb.grad.item())


def test_constant_operands_match_torch_where_torch_needs_no_constant_gradient():
    # torch never differentiates a constant: 0 ** y and a constant divisor work there too
    torch = torch_or_skip()
    y, ty = Value(0.5), tensor(0.5)
    out, tout = 0.0 ** y, torch.tensor(0.0, dtype=torch.float64) ** ty
    out.backward()
    tout.backward()
    assert (out.data, y.grad) == (tout.item(), ty.grad.item())


def test_numpy_scalars_are_numbers_on_either_side_and_numpy_bools_are_not():
    np = pytest.importorskip("numpy")
    for number in (np.float32(1.5), np.float64(1.5), np.int64(2)):
        left, right = number + Value(2.0), Value(2.0) + number
        assert isinstance(left, Value) and isinstance(right, Value)
        assert left.data == right.data == float(number) + 2.0
        assert (number * Value(3.0)).data == (Value(3.0) * number).data
    assert Value(np.float32(0.25)).data == 0.25
    with pytest.raises(TypeError):
        Value(np.bool_(True))
    with pytest.raises(TypeError):
        Value(1.0) + np.bool_(True)


# ------------------------------------------------------------------ bad data and bad math

@pytest.mark.parametrize("bad", [True, False, "1.0", None, 1 + 2j, [1.0], object(),
                                 __import__("fractions").Fraction(1, 2),
                                 __import__("decimal").Decimal("0.5")])
def test_value_rejects_non_numbers_with_typeerror_naming_it(bad):
    with pytest.raises(TypeError, match=type(bad).__name__):
        Value(bad)


@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf])
def test_value_rejects_nan_and_inf(bad):
    with pytest.raises(ValueError, match=repr(bad)):
        Value(bad)


def test_value_stores_ints_as_float():
    v = Value(3)
    assert type(v.data) is float and v.data == 3.0 and v.label == ""


@pytest.mark.parametrize("bad", ["2", None, True, math.nan])
def test_arithmetic_with_a_bad_operand_names_it(bad):
    with pytest.raises((TypeError, ValueError), match=r"\+"):
        Value(1.0) + bad
    with pytest.raises((TypeError, ValueError), match=r"\*"):
        bad * Value(1.0)


@pytest.mark.parametrize("x", [0.0, -1.0, -1e-300])
def test_log_of_non_positive_raises_naming_log_and_operand(x):
    with pytest.raises(ValueError, match=rf"log.*{x!r}"):
        Value(x).log()


def test_division_by_zero_names_the_operation():
    with pytest.raises(ZeroDivisionError, match=r"^/: .*1\.0 / 0\.0"):
        Value(1.0) / 0
    with pytest.raises(ZeroDivisionError, match=r"^/: .*2\.5 / 0\.0"):
        2.5 / Value(0.0)
    with pytest.raises(ZeroDivisionError, match=r"^\*\*: .*-1"):
        Value(0.0) ** -1


def test_negative_base_to_non_integer_power():
    with pytest.raises(ValueError, match=r"-8\.0"):
        Value(-8.0) ** (1 / 3)
    with pytest.raises(ValueError, match=r"^\*\*: .*negative.*-2\.0"):
        Value(-2.0) ** Value(0.5)
    assert (Value(-2.0) ** 3).data == -8.0  # integer powers of negatives are fine


def test_exp_overflow_names_the_input():
    with pytest.raises(OverflowError, match=r"^exp: exp\(710\.0\)"):
        Value(710.0).exp()


@pytest.mark.parametrize("x", [1000.0, -1000.0, 1e308, -1e308])
def test_sigmoid_tanh_softplus_never_overflow(x):
    for method in (Value.sigmoid, Value.tanh):
        out = method(Value(x))
        assert math.isfinite(out.data) and math.isfinite(out.local_grads[0])
    assert math.isfinite(Value(x).softplus().data)


def test_overflowing_arithmetic_raises_instead_of_making_inf():
    with pytest.raises(OverflowError, match=r"\*"):
        Value(1e200) * 1e200
    with pytest.raises(OverflowError, match=r"\+"):
        Value(1e308) + 1e308
    with pytest.raises(OverflowError, match=r"\*\*"):
        Value(1e200) ** 2


def test_label_must_be_text():
    with pytest.raises(TypeError, match="label"):
        Value(1.0, label=3)


def test_overflowing_sums_name_their_operation():
    from autograd_core import value_sum, weighted_sum
    with pytest.raises(OverflowError, match="^sum: "):
        value_sum([Value(1e308), Value(1e308)])
    with pytest.raises(OverflowError, match="^wsum: "):
        weighted_sum([1e308, 1e308], [1.0, 1.0], 0.0)


def test_division_by_a_subnormal_raises_instead_of_an_inf_derivative():
    with pytest.raises(OverflowError, match="^/: "):
        Value(0.0) / 1e-320


def test_huge_int_and_tiny_log_input_have_clear_messages():
    with pytest.raises(ValueError, match="401 digits"):
        Value(10 ** 400)
    with pytest.raises(OverflowError, match="derivative d out/da = 1 / a"):
        Value(1e-320).log()
