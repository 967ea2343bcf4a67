"""Grading a drill: the answer file a student fills in, read back and marked.

`answer_template(exercise)` writes the file (`chainrule drill` puts it beside the
worksheet): a header naming the seed and level, and one 'key = ' line per blank.
`grade(text)` rebuilds the exercise from that header and marks every blank as
`chainrule quiz` marks an answer (student.marking); `grade_file(path)` does the same for
a file, saying in one line why one cannot be read. The command prints the `Grade`.
"""

from __future__ import annotations

import re

from autograd_core.numbers import DIGITS

from .drill import Exercise, blanks, make_exercise
from .marking import is_right, parse_answer

__all__ = ["answer_template", "read_answers", "read_answer_file", "grade", "grade_file",
           "Grade", "AnswerFileError"]

HEADER = re.compile(r"#\s*chainrule drill answers:\s*seed=(.*?)\s+level=(\d+)\s*$")


def answer_template(exercise: Exercise) -> str:
    """The answer file a student fills in: one 'key = ' line per blank of the sheet."""
    lines = [f"# chainrule drill answers: seed={exercise.seed} level={exercise.level}",
             "# Write a number (0.25, -1.5e-3) or a fraction (1/4) after each '='; keep the",
             "# rest of each line. Then: chainrule grade answers.txt"]
    for key, _, _, _ in blanks(exercise.derivation(), exercise):
        lines.append(f"{key} = ")
    return "\n".join(lines) + "\n"


class AnswerFileError(ValueError):
    """The answer file cannot be read: what is wrong and on which line."""


class Grade:
    """The result: `score`, `total`, `first_wrong` (None, or (key, given, answer, working))
    and `results` [(key, given or None, answer, right)]."""

    def __init__(self, results, first_wrong):
        self.results, self.first_wrong = results, first_wrong
        self.score = sum(1 for r in results if r[3])
        self.total = len(results)

    @property
    def all_right(self) -> bool:
        return self.first_wrong is None


def read_answers(text: str):
    """(seed, level, {key: text}) from an answer file; AnswerFileError when malformed,
    naming the line: no 'KEY = ', a key answered twice, or an answer that is not a
    (finite) number or a fraction, such as nan or 1e999."""
    seed = level = None
    answers = {}
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        header = HEADER.match(line)
        if header:
            seed, level = header.group(1), int(header.group(2))
            continue
        if not line or line.startswith("#"):
            continue
        key, sep, value = line.partition("=")
        if not sep:
            hint = "" if seed is not None else (
                "; is this the answers.txt that chainrule drill wrote? (a worksheet or an "
                "answer key is not)")
            raise AnswerFileError(f"line {number}: expected 'KEY = NUMBER', got "
                                  f"{raw.strip()!r}{hint}")
        key, value = key.strip(), value.strip()
        if key in answers:
            raise AnswerFileError(f"line {number}: {key!r} is answered twice")
        if value:
            try:
                parse_answer(value)
            except ValueError as error:  # nan, 1e999, 'abc': not an answer, right or wrong
                raise AnswerFileError(f"line {number}: {key}: {error}, or leave it "
                                      "empty") from None
        answers[key] = value
    return seed, level, answers


def grade(text: str, seed=None, level=None, digits: int = DIGITS) -> Grade:
    """Check a filled-in answer file against the exercise of its seed and level.

    `seed` and `level` default to the file's header line. Each blank counts when it
    equals the engine's number to `digits` significant figures; an empty or missing
    one counts as wrong.
    """
    file_seed, file_level, answers = read_answers(text)
    seed = seed if seed is not None else file_seed
    level = level if level is not None else file_level
    if seed is None or level is None:
        raise AnswerFileError("the answer file has no '# chainrule drill answers: seed=... "
                              "level=...' line; give --seed and --level")
    exercise = make_exercise(seed, level)
    items = blanks(exercise.derivation(), exercise)
    known = {key for key, _, _, _ in items}
    unknown = [k for k in answers if k not in known]
    if unknown:
        raise AnswerFileError(f"{unknown[0]!r} is not a blank of the seed {seed!r} level "
                              f"{level} sheet; was the file made for another seed?")
    results, first_wrong = [], None
    for key, question, answer, working in items:
        given = answers.get(key, "")
        right = False
        if given:  # read_answers has checked that it is a number
            right = is_right(given, answer, digits)
        results.append((key, given or None, answer, right))
        if not right and first_wrong is None:
            first_wrong = (key, given or None, answer, working)
    return Grade(results, first_wrong)


def read_answer_file(path) -> str:
    """The text of an answer file; AnswerFileError saying, after the path, why it cannot
    be read (missing, a folder, not UTF-8 text)."""
    try:
        with open(path, encoding="utf-8") as f:
            return f.read()
    except FileNotFoundError:
        raise AnswerFileError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise AnswerFileError(f"{path}: that is a folder; give the answers.txt inside "
                              "it") from None
    except UnicodeDecodeError:
        raise AnswerFileError(f"{path}: not a text file (not UTF-8); give the answers.txt "
                              "that chainrule drill wrote") from None
    except OSError as error:
        raise AnswerFileError(f"{path}: cannot read it: {error.strerror or error}") from None


def grade_file(path, seed=None, level=None, digits: int = DIGITS) -> Grade:
    """`grade` of the file at `path`; every AnswerFileError starts with the path."""
    text = read_answer_file(path)
    try:
        return grade(text, seed=seed, level=level, digits=digits)
    except ValueError as error:  # AnswerFileError, or a bad seed
        raise AnswerFileError(f"{path}: {error}") from None
