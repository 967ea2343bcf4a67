"""student: the student's side, below the command line and the pages.

Marking a typed answer (`marking`) and the quiz page (`quiz_page`). `chainrule quiz`,
`chainrule grad --html --quiz`, the playground and any later page call this code; it
reads the engine (autograd_core) and the pages (visualize), never the command line.
"""

from .marking import close_enough, is_right, parse_answer, significant_figures, tolerance
from .quiz_page import StepThroughQuiz, quiz_html, quiz_page

__all__ = ["close_enough", "is_right", "parse_answer", "significant_figures", "tolerance",
           "StepThroughQuiz", "quiz_html", "quiz_page"]
