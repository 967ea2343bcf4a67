"""student: the student's side, below the command line and the pages.

Checking a hand derivation (`check`), marking a typed answer (`marking`), drills and
their worksheets (`drill`), grading a filled-in answer file (`grading`) and the quiz page
(`quiz`). `chainrule check`, `quiz`, `drill` and `grade`, the playground and any
later page call this code; it reads the engine (autograd_core) and the narrated backward
pass and pages (visualize), never the command line.
"""

from .marking import close_enough, is_right, parse_answer, significant_figures, tolerance
from .check import CheckError, Derivative, Problem, Verdict, decide, decide_claim
from .drill import Exercise, make_exercise, worksheet_latex, worksheet_markdown
from .grading import AnswerFileError, Grade, answer_template, grade, grade_file
from .quiz import StepThroughQuiz, quiz_html, quiz_page

__all__ = ["close_enough", "is_right", "parse_answer", "significant_figures", "tolerance",
           "CheckError", "Derivative", "Problem", "Verdict", "decide", "decide_claim",
           "Exercise", "make_exercise", "worksheet_latex", "worksheet_markdown",
           "AnswerFileError", "Grade", "answer_template", "grade", "grade_file",
           "StepThroughQuiz", "quiz_html", "quiz_page"]
