"""`python -m chainrule`: the same as the `chainrule` command."""

import sys

from chainrule.cli import console

sys.exit(console())
