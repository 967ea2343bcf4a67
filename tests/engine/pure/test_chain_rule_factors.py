"""assert_derivative's chain-rule factors (autograd_core.testing) name the nodes as every
page does (autograd_core.naming: results n1, n2, ... in forward order, a constant by its
value), give each local derivative as the op table's formula in those names, and write
the numbers with format_number. The worked example: sigmoid(w*x + b) at w = 0.5, x = 2,
b = -1, where w*x + b = 0, so L = 0.5 and dL/dnet = L(1 - L) = 0.25."""

import math

import pytest

from autograd_core import weighted_sum
from autograd_core.testing import assert_derivative, chain_rule_factors


def neuron(v):
    return (v[0] * v[1] + v[2]).sigmoid()


def test_the_worked_example_step_by_step():
    assert chain_rule_factors(neuron, [0.5, 2.0, -1.0]) == [
        "step 1: dL/dn2 = L * (1 - L) = 0.25 (σ), upstream dL/dL = 1, adds 0.25 to dL/dn2",
        "step 2: dn2/dn1 = 1 = 1 (+), upstream dL/dn2 = 0.25, adds 0.25 to dL/dn1",
        "step 3: dn2/dx2 = 1 = 1 (+), upstream dL/dn2 = 0.25, adds 0.25 to dL/dx2",
        "step 4: dn1/dx0 = x1 = 2 (*), upstream dL/dn1 = 0.25, adds 0.5 to dL/dx0",
        "step 5: dn1/dx1 = x0 = 0.5 (*), upstream dL/dn1 = 0.25, adds 0.125 to dL/dx1",
    ]


def test_a_weighted_sums_factor_names_its_real_operand():
    # d(w*x + b)/dx = w: for the input x1 that weight is the node x0, not "w_1"
    lines = chain_rule_factors(lambda v: weighted_sum([v[0]], [v[1]], v[2]), [0.5, 2.0, -1.0])
    assert lines[0] == "step 1: dL/dx0 = x1 = 2 (Σwx+b), upstream dL/dL = 1, adds 2 to dL/dx0"
    assert lines[1] == ("step 2: dL/dx1 = x0 = 0.5 (Σwx+b), upstream dL/dL = 1, "
                        "adds 0.5 to dL/dx1")
    assert not any("w_" in line or "x_" in line for line in lines)


def test_a_constant_is_named_by_its_value_in_the_one_number_format():
    lines = chain_rule_factors(lambda v: (v[0] * 1.23456e-7).tanh(), [0.5])
    assert lines[1] == ("step 2: dn1/dx0 = (1.235e-7) = 1.235e-7 (*), upstream dL/dn1 = 1, "
                        "adds 1.235e-7 to dL/dx0")


def test_the_failure_message_says_what_each_name_is():
    sig = lambda z: 1 / (1 + math.exp(-z))  # noqa: E731
    with pytest.raises(AssertionError) as info:
        assert_derivative(neuron, 0, lambda w, x, b: sig(w * x + b) * (1 - sig(w * x + b)) * w)
    message = str(info.value)
    assert "factors there (where n1 = x0 * x1; n2 = n1 + x2; L = sigmoid(n2)):" in message
    assert "\n  step 4: dn1/dx0 = x1 = " in message
