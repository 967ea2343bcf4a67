"""visualize: pictures of computation graphs, of networks and of the backward pass.

Rendering uses graphviz-pure, a self-contained dot engine installed by pip, so the
pictures are the same on every machine and need no system graphviz.
"""

from .graph import draw_graph, render, dot_binary

__all__ = ["draw_graph", "render", "dot_binary"]
from .explain import explain_backward, node_names, step_line  # noqa: E402

__all__ += ["explain_backward", "node_names", "step_line"]
from .step_through import step_through_html  # noqa: E402

__all__ += ["step_through_html"]
from .network import draw_network, render_network  # noqa: E402

__all__ += ["draw_network", "render_network"]
