"""The quiz page: the step-through page (visualize.step_through) marked by the student
package, so the page marks a typed answer exactly as `chainrule quiz` does.

The page is visualize's; what marks it is this package's: `PAGE_MARKING` gives the page
student/static/quiz_marking.js (student.marking's rule in JavaScript) and, for each
blank, the answer that script reads. `chainrule grad --html FILE --quiz` writes
`quiz_html`, the playground's quiz serves `quiz_page`, and `StepThroughQuiz(root)` shows
the quiz inline in Jupyter.
"""

from __future__ import annotations

import math
from importlib import resources

from visualize.step_through import StepThrough, step_through_html, step_through_page

from .marking import tolerance

__all__ = ["PageMarking", "PAGE_MARKING", "quiz_page", "quiz_html", "StepThroughQuiz"]


class PageMarking:
    """What the step-through page needs to mark its quiz: `script` (JavaScript defining
    ChainruleMarking.isRight(text, answer)) and `answer(value, digits)`, the answer that
    function is given for each blank."""

    @property
    def script(self) -> str:
        return (resources.files("student").joinpath("static", "quiz_marking.js")
                .read_text(encoding="utf-8"))

    def answer(self, value: float, digits: int) -> dict:
        # The script marks with `value` and `digits` as close_enough does; `tolerance`
        # (half a unit of the last figure shown) is kept for scripts that read it.
        return {"value": value if math.isfinite(value) else None,  # JSON has no inf/NaN
                "digits": digits, "tolerance": tolerance(value, digits)}


PAGE_MARKING = PageMarking()


def quiz_page(root, **options) -> str:
    """The step-through page of root's backward pass as a quiz, as HTML text; options as
    visualize.step_through.step_through_page."""
    return step_through_page(root, quiz=True, marking=PAGE_MARKING, **options)


def quiz_html(root, path, **options) -> str:
    """Write the quiz page of root's backward pass to `path`; return `path`. Options and
    errors as visualize.step_through.step_through_html; the graph's grads are left as
    they were."""
    return step_through_html(root, path, quiz=True, marking=PAGE_MARKING, **options)


class StepThroughQuiz(StepThrough):
    """The quiz page shown inline in Jupyter, as StepThrough shows the page:
    `StepThroughQuiz(root)` as the last line of a cell; `.save(path)` writes it."""

    def __init__(self, root, height: int = 720, **options):
        super().__init__(root, height, quiz=True, marking=PAGE_MARKING, **options)
