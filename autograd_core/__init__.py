"""autograd_core: a scalar reverse-mode automatic differentiation engine.

The chain rule is applied in one loop, `Value.backward` in `engine.py`; each operation's
forward value and local derivatives are in its method there, and the same derivatives as
text in the table in `ops.py`.
"""

from .compiler import CompiledGraph, compile
from .engine import Value, paused_gc, topological_order, value_sum, weighted_sum
from .gradcheck import gradcheck, numerical_gradients
from .ops import OPS, op_info
from .trace import Step, trace_backward

__all__ = ["Value", "topological_order", "gradcheck", "numerical_gradients",
           "trace_backward", "Step", "weighted_sum", "value_sum", "paused_gc",
           "OPS", "op_info", "CompiledGraph"]
# `compile` is left out of __all__ so that `from autograd_core import *` cannot hide the
# builtin compile(); import it by name: `from autograd_core import compile`.
