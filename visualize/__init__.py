"""visualize: pictures of computation graphs and of the backward pass.

Rendering uses graphviz-pure, a self-contained dot engine installed by pip, so the
pictures are the same on every machine and need no system graphviz.
"""

from .graph import draw_graph, render, dot_binary

__all__ = ["draw_graph", "render", "dot_binary"]
