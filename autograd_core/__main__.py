"""`python -m autograd_core`: print the table of operations and their derivatives."""

from autograd_core.ops import as_markdown

print(as_markdown())
