"""The `chainrule` program itself: the console script (setup.cfg) and `python -m
chainrule` call `console()`.

This module is kept tiny on purpose: it imports only chainrule.program (itself only
`signal` and `sys`), and the commands inside `console()`, so the Ctrl-C handling of
`program.run` already covers the second or so that importing the commands takes.
"""

import sys

from chainrule.program import run


def console() -> int:
    return run(_load_main)


def _load_main():
    from chainrule.cli import main  # every heavy import happens here, inside run's try
    return main


if __name__ == "__main__":
    sys.exit(console())
