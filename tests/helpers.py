"""Helpers the tests share: the torch float64 oracle and running the chainrule command.

torch is imported only when an oracle is asked for, so that without torch the tests
that need it skip and the rest still run.
"""

import contextlib
import io

import pytest


def torch_or_skip():
    """The torch module, or skip the calling test when torch is not installed."""
    return pytest.importorskip("torch")


def tensor(x):
    """A float64 leaf that needs its gradient; built directly in float64 (never via float32)."""
    torch = torch_or_skip()
    return torch.tensor(x, dtype=torch.float64, requires_grad=True)


def net_op():
    """The op a neuron's net input node stores: the one weighted_sum makes (tests take
    op names from nodes or the table, never from a copy of the name)."""
    from autograd_core import weighted_sum
    return weighted_sum([], [], 0.0).op


def close(a, b, rel=1e-9, abs_=1e-12):
    return abs(a - b) <= abs_ + rel * abs(b)


def run_cli(argv):
    """(exit status, stdout, stderr) of `chainrule ARGV` run in-process, SystemExit included."""
    from chainrule.cli import main
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            status = main(argv)
        except SystemExit as stop:
            status = stop.code
    return status, out.getvalue(), err.getvalue()
