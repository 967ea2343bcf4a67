"""visualize: pictures of computation graphs, of networks and of the backward pass.

Rendering uses graphviz-pure, a self-contained dot engine installed by pip, so the
pictures are the same on every machine and need no system graphviz. Every chain-rule
step these pictures and pages show (terminal, picture, page, quiz, worksheet, slides) is
narrated by `explain.py`. Its names, local derivatives and numbers come from the engine
(`autograd_core.naming`, `autograd_core.numbers.format_number`), which words the one
other list of steps, a failed `assert_derivative`, with the same three.
"""

from autograd_core.numbers import format_number

from .graph import draw_graph, render, dot_binary
from .explain import explain_backward, narrate, node_names, step_line
from .step_through import StepThrough, step_through_html
from .paths import gradient_formula, gradient_paths
from .export import derivation_latex, write_frames, write_gif
from .network import draw_network, render_network

__all__ = ["draw_graph", "render", "dot_binary",
           "explain_backward", "format_number", "narrate", "node_names", "step_line",
           "StepThrough", "step_through_html", "gradient_formula", "gradient_paths",
           "derivation_latex", "write_frames", "write_gif",
           "draw_network", "render_network"]
