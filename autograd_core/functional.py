"""Gradients as functions: grad (any order, with create_graph), hessian, forward mode.

`backward()` writes gradients into `.grad`; these return them instead and touch no
`.grad`, so they can be used inside a function that is itself being differentiated.

- grad(output, inputs): reverse mode, one sweep from the output back; with
  create_graph=True the gradients are Values built from the op table's derivative
  formulas evaluated over Values, so they can be differentiated again.
- forward_grad(outputs, wrt): forward mode, one sweep from one input forward, carrying
  d node / d wrt through the recorded graph.
Both can count their multiply-adds (OpCount): reverse mode pays one sweep per output,
forward mode one per input.
"""

from __future__ import annotations

import ast

from .engine import SUM, Value, _order, _check_data, _describe, _node, topological_order
from .ops import expand, is_operand, python_source
from .steps import chain_rule, describe_node, non_finite_error, NonFiniteGradientError
from .vocabulary import backend

__all__ = ["grad", "hessian", "jacobian", "forward_grad", "OpCount"]


class OpCount:
    """Multiply-adds (local derivative * incoming gradient, added in) and sweeps done."""

    __slots__ = ("multiply_adds", "sweeps")

    def __init__(self):
        self.multiply_adds = 0
        self.sweeps = 0

    def __repr__(self):
        return f"OpCount(multiply_adds={self.multiply_adds}, sweeps={self.sweeps})"


def _check_inputs(output, inputs, who):
    if not isinstance(output, Value):
        raise TypeError(f"{who}: the output must be a Value, got {_describe(output)}")
    if isinstance(inputs, Value) or not hasattr(inputs, "__iter__"):
        raise TypeError(f"{who}: inputs must be a list of Values, got {_describe(inputs)}")
    inputs = list(inputs)
    for i, value in enumerate(inputs):
        if not isinstance(value, Value):
            raise TypeError(f"{who}: input {i} must be a Value, got {_describe(value)}")
    return inputs


def grad(output, inputs, create_graph=False, count=None):
    """[d output / d input for each input], leaving every `.grad` as it was.

    With create_graph=False the results are floats. With create_graph=True they are
    Values in a new graph (built from the derivative formulas over Values), so they can
    be differentiated again, to any order. An input the output does not depend on gets
    0 (a constant Value 0.0 with create_graph). `count`, an OpCount, receives the
    multiply-adds done.
    """
    inputs = _check_inputs(output, inputs, "grad")
    order = _order(output)
    if count is not None:
        count.sweeps += 1
    if create_graph:
        return _grad_graph(output, inputs, order, count)
    grads, first_bad = chain_rule(output, order)
    if count is not None:
        count.multiply_adds += _multiply_adds(output, order)
    result = [float(grads.get(value, 0.0)) for value in inputs]
    for value, g in zip(inputs, result):
        if g - g != 0.0:
            raise non_finite_error(first_bad, "grad", value, g)
    return result


def _multiply_adds(root, order):
    """The multiply-adds chain_rule did: one per edge into a node needing a gradient,
    from a node whose gradient is not zero."""
    return sum(1 for node in order for p in node.parents if p.requires_grad)


# ----------------------------------------------------------- derivatives as Values

_VALUE_CODE = {}  # formula text -> (the operands it names, its code over Values)


def _local_as_value(node, index):
    """d node / d parents[index] as a Value (or a plain number when it is constant),
    from the node's formula (ops.expand) evaluated over the parents' Values."""
    expansion = expand(node.op, len(node.parents))
    parents = node.parents
    formula = expansion.derivatives[index]
    if not isinstance(formula, str):  # a user's Python function: call it with Values
        return formula(*parents, node)
    code = _VALUE_CODE.get(formula)
    if code is None:
        # Conditions in where() compare the numbers (_a is a's float): `a == 0` on two
        # Values would compare identities.
        operands = sorted({name.id for name in ast.walk(ast.parse(formula, mode="eval"))
                           if isinstance(name, ast.Name) and is_operand(name.id)})
        source = python_source(formula, condition_names={k: "_" + k for k in operands})
        code = _VALUE_CODE[formula] = (operands, compile(source, f"<d {formula}>", "eval"))
    namespace = backend("values")  # a fresh dict
    for name in code[0]:
        if name == "out":
            value = node
        elif name in expansion.bindings:
            value = expansion.bindings[name]
        else:
            value = parents[expansion.index_of[name]]
        namespace[name] = value
        namespace["_" + name] = value.data if isinstance(value, Value) else value
    return eval(code[1], {"__builtins__": {}}, namespace)  # noqa: S307 - our own text


def _grad_graph(output, inputs, order, count):
    grads = {output: Value(1.0, requires_grad=False)}
    number = 0
    for node in reversed(order):
        upstream = grads.get(node)
        if upstream is None:
            continue
        for index, parent in enumerate(node.parents):
            if not parent.requires_grad:
                continue
            number += 1
            try:
                local = _local_as_value(node, index)
                if not isinstance(local, Value):
                    if local == 0.0:
                        continue  # exactly zero whatever the inputs: nothing flows
                    contribution = upstream if local == 1.0 else (
                        -upstream if local == -1.0 else upstream * local)
                else:
                    contribution = upstream * local
                    if count is not None:
                        count.multiply_adds += 1
                total = grads.get(parent)
                grads[parent] = contribution if total is None else total + contribution
            except OverflowError as error:
                raise NonFiniteGradientError(
                    f"grad: the gradient is not finite: chain-rule step {number}, from "
                    f"{describe_node(node)} into its operand {index + 1} "
                    f"{describe_node(parent)}: {error}") from None
    zero = Value(0.0, requires_grad=False)
    return [grads.get(value, zero) for value in inputs]


def hessian(f, at):
    """The matrix of second derivatives of f at the floats `at` (f: list of Values ->
    Value), by differentiating each first derivative again (grad with create_graph)."""
    if not callable(f):
        raise TypeError(f"hessian: f must be callable, got {_describe(f)}")
    xs = [Value(_check_data(x, f"hessian: input {i}"), label=f"x{i}")
          for i, x in enumerate(at)]
    if not xs:
        raise ValueError("hessian: needs at least one input point, e.g. hessian(f, [1.0, 2.0])")
    out = f(xs)
    first = grad(out, xs, create_graph=True)
    return [grad(g, xs) for g in first]


# ------------------------------------------------------------------ forward mode

def forward_grad(outputs, wrt, count=None):
    """d output / d wrt in one forward sweep (forward mode) over the recorded graph.

    `outputs` is a Value or a list of Values (one sweep gives all of them: forward mode
    pays per input, not per output). Returns a float, or a list of floats.
    Each node's tangent is sum_i local_grads[i] * tangent(parents[i]), the chain rule
    read forwards; `count`, an OpCount, receives the multiply-adds.
    """
    single = isinstance(outputs, Value)
    outputs = [outputs] if single else list(outputs)
    if not isinstance(wrt, Value):
        raise TypeError(f"forward_grad: wrt must be a Value, got {_describe(wrt)}")
    for i, out in enumerate(outputs):
        if not isinstance(out, Value):
            raise TypeError(f"forward_grad: output {i} must be a Value, got {_describe(out)}")
    top = _node(0.0, tuple(outputs), (1.0,) * len(outputs), SUM)  # to walk them all at once
    order = topological_order(top)[:-1]
    tangent = {wrt: 1.0} if wrt.requires_grad else {}
    if count is not None:
        count.sweeps += 1
    for node in order:
        if not node.parents or node is wrt:
            continue
        total, reached = 0.0, False
        for parent, local in zip(node.parents, node.local_grads):
            t = tangent.get(parent)
            if t is None or not parent.requires_grad:
                continue
            reached = True
            if count is not None:
                count.multiply_adds += 1
            if local != 0.0:  # an exactly-zero local derivative passes nothing on
                total += local * t
        if reached:
            if total - total != 0.0:
                raise NonFiniteGradientError(
                    f"forward_grad: the derivative of {describe_node(node)} with respect to "
                    f"{describe_node(wrt)} is {total!r}: a chain-rule product overflowed")
            tangent[node] = total
    result = [tangent.get(out, 0.0) for out in outputs]
    return result[0] if single else result


def jacobian(outputs, inputs, mode="reverse", count=None):
    """rows[i][j] = d outputs[i] / d inputs[j]: reverse mode (one grad per output) or
    forward mode (one forward_grad per input). The numbers agree; the work differs."""
    outputs, inputs = list(outputs), list(inputs)
    if mode == "reverse":
        return [grad(out, inputs, count=count) for out in outputs]
    if mode == "forward":
        columns = [forward_grad(outputs, x, count=count) for x in inputs]
        return [[columns[j][i] for j in range(len(inputs))] for i in range(len(outputs))]
    raise ValueError(f"jacobian: mode must be 'reverse' or 'forward', got {mode!r}")
