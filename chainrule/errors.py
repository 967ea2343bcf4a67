"""How every chainrule command reports a user's mistake: one line, exit status 2."""

import sys


def fail(message: str, where: str = "") -> int:
    """Print 'chainrule: error: MESSAGE' (and, under it, where in the input) to stderr."""
    print(f"chainrule: error: {message}", file=sys.stderr)
    if where:
        print(where, file=sys.stderr)
    return 2
