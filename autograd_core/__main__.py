"""`python -m autograd_core`: print the table of operations and their derivatives."""

import os
import sys

from autograd_core.ops import as_markdown

try:
    print(as_markdown())
    sys.stdout.flush()
except BrokenPipeError:  # `python -m autograd_core | head`: the reader left; stop quietly
    os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
