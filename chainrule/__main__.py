"""`python -m chainrule`: the same as the `chainrule` command."""

import sys

from chainrule.entry import console

sys.exit(console())
