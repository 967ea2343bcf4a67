"""`chainrule drill` writes a seeded chain-rule worksheet; `chainrule grade` checks one.

Both only read options, call the student package and print: `student.drill` makes the
exercise of a seed (the same seed always gives the same exercise) and its sheets,
`student.grading` writes the answer file and marks a filled-in one.
"""

from __future__ import annotations

import argparse
import os

from chainrule.argtypes import whole_number
from chainrule.errors import fail

DRILL_EXAMPLES = """\
examples:
  chainrule drill --seed alice --level 1              writes drill-alice-1/
  chainrule drill --seed "Bob Jones" --level 3 --out sheets/bob

It writes worksheet.md and worksheet.tex (blanks), answer-key.md and answer-key.tex,
and answers.txt, the file the student fills in and checks with `chainrule grade`.
Level 1: two variables, two operations; level 2: three variables, one used twice, with
functions; level 3: a 2-2-1 sigmoid network with squared error. The same seed and level
always give the same exercise.
"""

GRADE_EXAMPLES = """\
examples:
  chainrule grade drill-alice-1/answers.txt
  chainrule grade answers.txt --seed alice --level 1

Prints the score and the first wrong answer with the right one. Exit status 0 when
every answer is right, 1 when some are wrong, 2 when the file cannot be read.
"""

FILES = ("worksheet.md", "worksheet.tex", "answer-key.md", "answer-key.tex", "answers.txt")


def level(text):
    number = whole_number(text)
    if number not in (1, 2, 3):
        raise argparse.ArgumentTypeError(f"{number} is not a level; use 1, 2 or 3")
    return number


def register(subparsers):
    drill = subparsers.add_parser(
        "drill", help="write a seeded chain-rule worksheet and its answer key",
        description="Make the exercise of a seed (a student's name) and write it as a "
                    "Markdown and LaTeX worksheet with blanks, an answer key and an answer "
                    "file.",
        epilog=DRILL_EXAMPLES, formatter_class=argparse.RawDescriptionHelpFormatter)
    drill.add_argument("--seed", required=True, metavar="NAME",
                       help="any name; each name gets its own exercise")
    drill.add_argument("--level", type=level, default=1, metavar="1..3",
                       help="1: an expression, 2: a harder one, 3: a small network (default 1)")
    drill.add_argument("--out", metavar="FOLDER",
                       help="where to write the files (default drill-SEED-LEVEL)")
    drill.add_argument("--force", action="store_true",
                       help="replace the files if the folder already has them")
    drill.set_defaults(run=run_drill)

    grade = subparsers.add_parser(
        "grade", help="check a filled-in drill answer file",
        description="Check a filled-in answers.txt against the exercise of its seed: the "
                    "score and the first wrong step.",
        epilog=GRADE_EXAMPLES, formatter_class=argparse.RawDescriptionHelpFormatter)
    grade.add_argument("answers", metavar="FILE", help="the filled-in answers.txt")
    grade.add_argument("--seed", metavar="NAME", help="the seed (default: the file's header)")
    grade.add_argument("--level", type=level, metavar="1..3",
                       help="the level (default: the file's header)")
    grade.set_defaults(run=run_grade)


def run_drill(args) -> int:
    from student import drill
    from student.grading import answer_template
    from autograd_core.files import write_bytes

    try:
        exercise = drill.make_exercise(args.seed, args.level)
    except ValueError as error:
        return fail(str(error))
    folder = args.out or f"drill-{_safe(exercise.seed)}-{exercise.level}"
    parent = os.path.dirname(os.path.abspath(folder))
    if os.path.exists(folder) and not os.path.isdir(folder):
        return fail(f"--out {folder}: that is a file, not a folder")
    if not os.path.isdir(parent):
        return fail(f"--out {folder}: the folder {parent} does not exist; create it first")
    existing = [name for name in FILES if os.path.exists(os.path.join(folder, name))]
    if existing and not args.force:
        return fail(f"{os.path.join(folder, existing[0])} exists (a filled-in answer file "
                    "would be lost); choose another --out or add --force")
    contents = {
        "worksheet.md": drill.worksheet_markdown(exercise),
        "worksheet.tex": drill.worksheet_latex(exercise),
        "answer-key.md": drill.worksheet_markdown(exercise, key=True),
        "answer-key.tex": drill.worksheet_latex(exercise, key=True),
        "answers.txt": answer_template(exercise),
    }
    try:
        os.makedirs(folder, exist_ok=True)
        for name in FILES:
            write_bytes(os.path.join(folder, name), contents[name].encode("utf-8"))
    except OSError as error:
        return fail(f"--out {folder}: cannot write: {error.strerror or error}")
    print(f"seed {exercise.seed!r}, level {exercise.level}: L = {exercise.text}")
    print(f"wrote {', '.join(FILES)} into {folder}")
    print(f"(pdflatex {os.path.join(folder, 'worksheet.tex')} makes the PDF)")
    return 0


def _safe(seed):
    return "".join(ch if ch.isalnum() or ch in "-_" else "_" for ch in seed)[:40] or "seed"


def run_grade(args) -> int:
    from autograd_core.numbers import format_number
    from student.grading import AnswerFileError, grade_file

    try:
        result = grade_file(args.answers, seed=args.seed, level=args.level)
    except AnswerFileError as error:
        return fail(str(error))
    print(f"score: {result.score} / {result.total}")
    if result.all_right:
        print("every answer is right.")
        return 0
    key, given, answer, working = result.first_wrong
    shown = "nothing" if given is None else repr(given)
    print(f"first wrong: {key}: you wrote {shown}, the answer is {format_number(answer)} "
          f"({working})")
    return 1
