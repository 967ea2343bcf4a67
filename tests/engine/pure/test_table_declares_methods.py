"""Every method of Value that computes an op is the one its row declares (Op.method),
the power with a constant exponent included: methods.py installs them all one way."""

from autograd_core import Value
from autograd_core.micrograd import Value as MicroValue
from autograd_core.ops import OPS


def test_each_row_with_a_method_installs_it_under_that_name():
    for info in OPS.values():
        if info.nary or not info.method:
            continue
        method = getattr(Value, info.method)
        assert method.__name__ == info.method
        assert method.__doc__ == info.doc
    assert OPS["**n"].method == "_pow_constant"


def test_the_constant_power_is_the_declared_method():
    x = Value(3.0)
    y = x ** 2
    assert y.op == "**2" and y.data == 9.0 and y.local_grads == (6.0,)
    m = MicroValue(3.0) ** 2  # micrograd's ** takes a plain number exponent
    assert type(m) is MicroValue and m.data == 9.0 and m.local_grads == (6.0,)
