"""A failed assert_derivative lists the same steps as the pages narrate (explain.py):
the same names, the same local derivative formulas, the same numbers."""

import pytest

from autograd_core import Value, weighted_sum
from autograd_core.testing import chain_rule_factors
from visualize.explain import format_number, kept_grads, narrate

GRAPHS = {
    "neuron": (lambda v: (v[0] * v[1] + v[2]).sigmoid(), [0.5, 2.0, -1.0]),
    "weighted sum": (lambda v: weighted_sum([v[0], 0.5], [v[1], v[2]], 1.0).tanh(),
                     [0.3, -1.2, 2.0]),
    "shared input": (lambda v: (v[0] * v[0] + (v[0] * 3.0).exp()) ** 2 / v[1], [0.4, 1.5]),
}


@pytest.mark.parametrize("name", sorted(GRAPHS))
def test_the_factors_are_the_narrated_steps(name):
    f, at = GRAPHS[name]
    lines = chain_rule_factors(f, at)
    root = f([Value(x, label=f"x{i}") for i, x in enumerate(at)])
    with kept_grads(root):
        steps = narrate(root).steps
    assert len(lines) == len(steps)
    for line, step in zip(lines, steps):
        n, p = step.node_name, step.parent_name
        assert line.startswith(f"step {step.number}: d{n}/d{p} = {step.formula} = "
                               f"{format_number(step.local)} (")
        assert line.endswith(f"upstream d{step.root_name}/d{n} = {format_number(step.upstream)}, "
                             f"adds {format_number(step.contribution)} to d{step.root_name}/d{p}")
