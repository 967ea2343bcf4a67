"""How the `chainrule` program starts and ends, however it is started: the console
script and `python -m chainrule` (through chainrule.entry) and `python -m chainrule.cli`.

It imports nothing but `signal` and `sys`, so it can wrap the imports of the commands
themselves. It takes the command line's `main` as a function that fetches it, rather
than importing chainrule.cli, because chainrule.cli uses it too: the two must not
import each other.
"""

import signal
import sys


def run(load_main) -> int:
    """`load_main()` then the `main()` it returns; the exit status.

    A Ctrl-C during `load_main()` (the second or so that importing the engine, the
    pictures and argparse takes) exits 130 quietly, as one at any later moment does,
    instead of a KeyboardInterrupt traceback from the middle of an import.
    """
    loaded = False
    try:
        main = load_main()
        loaded = True
        status = main()
    except KeyboardInterrupt:
        # Ctrl-C while loading, or a second Ctrl-C while main() was answering the
        # first (main has said "interrupted" then).
        if not loaded:
            print("\nchainrule: interrupted", file=sys.stderr)
        status = 130
    # The command has finished and said all it had to say (after a Ctrl-C, that it was
    # interrupted): a Ctrl-C arriving while the interpreter shuts down must not turn its
    # exit status into a death by signal (exit -2).
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    return status
