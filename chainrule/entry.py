"""The `chainrule` program itself: the console script and `python -m chainrule` call
`console()`.

This module is kept tiny on purpose: it imports nothing but `signal` and `sys`, so the
Ctrl-C handling below already covers the second or so that importing the commands (the
engine, the pictures, argparse) takes. A Ctrl-C then exits 130 quietly, as at any later
moment, instead of a KeyboardInterrupt traceback from the middle of an import.
"""

import signal
import sys


def console() -> int:
    imported = False
    try:
        from chainrule.cli import main  # every heavy import happens here, inside the try
        imported = True
        status = main()
    except KeyboardInterrupt:
        # Ctrl-C during the imports, or a second Ctrl-C while main() was answering the
        # first (main has said "interrupted" then).
        if not imported:
            print("\nchainrule: interrupted", file=sys.stderr)
        status = 130
    # The command has finished and said all it had to say (after a Ctrl-C, that it was
    # interrupted): a Ctrl-C arriving while the interpreter shuts down must not turn its
    # exit status into a death by signal (exit -2).
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    return status


if __name__ == "__main__":
    sys.exit(console())
