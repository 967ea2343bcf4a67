"""`compile()`: the one entry for both compiled forms.

    compile(loss, params)                          the graph as straight-line Python
                                                   (compiler.py)
    compile(loss, params, batch=[...], reduce=...) one sample's graph run for a whole
                                                   mini-batch (batch.py)
"""

from __future__ import annotations

from .batch import REDUCE_MEAN, compile_batch
from .compiler import compile_graph

__all__ = ["compile"]


def compile(root, inputs, watch=(), *, batch=None, reduce=REDUCE_MEAN):  # noqa: A001
    """Compile the graph of `root` into straight-line Python (compiler.py).

    inputs: the leaf Values of the graph whose values change between calls, in the order
    the compiled function takes and returns them.
    watch: other nodes of the graph whose values each call also records, in
    `.watched_values` (a training loop's per-example outputs, for instance; with batch=,
    one list of them per sample).
    batch, reduce: `root` is the loss of one sample and `batch` its placeholder leaves;
    the result runs a whole mini-batch at once (batch.py).
    """
    if batch is not None:
        return compile_batch(root, inputs, batch, reduce, watch)
    if reduce != REDUCE_MEAN:
        raise ValueError("compile: reduce= only applies with batch=[placeholders]")
    return compile_graph(root, inputs, watch)
