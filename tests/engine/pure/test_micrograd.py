"""autograd_core.micrograd, micrograd's API on chainrule's engine, without torch (runs
under PyPy too): the README's example with only the import changed gives its published
numbers, and the nn module has micrograd's shapes.

The oracle is micrograd's README (tests/micrograd_readme.py). Against PyTorch and
micrograd itself: tests/engine/test_micrograd.py.
"""

import autograd_core as ac
from autograd_core import trace_backward


def test_micrograds_readme_example_with_only_the_import_changed():
    from autograd_core.micrograd import Value
    from tests.micrograd_readme import PUBLISHED, START, readme_expression
    a = Value(START["a"])
    b = Value(START["b"])
    g = readme_expression(a, b)
    assert f'{g.data:.4f}' == PUBLISHED["g"]  # the README's published numbers
    g.backward()
    assert f'{a.grad:.4f}' == PUBLISHED["a.grad"]
    assert f'{b.grad:.4f}' == PUBLISHED["b.grad"]
    assert g._op == "+" and isinstance(g._prev, set) and len(g._prev) == 2
    assert list(trace_backward(g))  # chainrule's tools work on its graphs


def test_micrograd_nn_shapes():
    import random
    from autograd_core.micrograd import MLP, Layer, Neuron, Value
    random.seed(1337)
    model = MLP(2, [16, 16, 1])
    assert len(model.parameters()) == 2 * 16 + 16 + 16 * 16 + 16 + 16 + 1
    out = model([Value(1.0), Value(-2.0)])
    net = ac.weighted_sum([], [], 0.0).op  # the op a net input node stores
    assert isinstance(out, Value) and out._op == net   # linear output
    assert model.layers[0].neurons[0]([1.0, 2.0])._op == "ReLU"
    assert repr(Neuron(3, nonlin=False)) == "LinearNeuron(3)"
    assert len(Layer(2, 3)([1.0, 2.0])) == 3
    out.backward()
    model.zero_grad()
    assert all(p.grad == 0 for p in model.parameters())
