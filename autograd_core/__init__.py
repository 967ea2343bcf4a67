"""autograd_core: a scalar reverse-mode automatic differentiation engine.

The chain rule is applied in one loop, `Value.backward` in `engine.py`. Each operation is
declared once, as formula text, in the table in `ops.py`: the engine's methods
(methods.py), compile(), derivatives of derivatives, the step text and the pictures all
follow from it, each backend giving the formulas' names their meaning (vocabulary.py).
"""

from .compiler import CompiledGraph
from .compiling import compile
from .engine import (NonFiniteGradientError, Value, paused_gc, topological_order, value_sum,
                     weighted_sum)
from .methods import declare, maximum, minimum
from .functional import OpCount, forward_grad, grad, hessian, jacobian
from .gradcheck import gradcheck, numerical_gradients
from .ops import OPS, op_info
from .trace import Step, trace_backward

__all__ = ["Value", "topological_order", "gradcheck", "numerical_gradients",
           "trace_backward", "Step", "weighted_sum", "value_sum", "paused_gc",
           "OPS", "op_info", "CompiledGraph", "declare", "maximum", "minimum", "grad",
           "hessian", "jacobian", "forward_grad", "OpCount", "NonFiniteGradientError"]
# `compile` is left out of __all__ so that `from autograd_core import *` cannot hide the
# builtin compile(); import it by name: `from autograd_core import compile`.
