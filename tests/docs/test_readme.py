"""The README's Python examples run exactly as written (a reader pastes them)."""

import pathlib
import re

import pytest

README = (pathlib.Path(__file__).parents[2] / "README.md").read_text(encoding="utf-8")
# Blocks that are programs, not printed output: they import what they use.
BLOCKS = [block for block in re.findall(r"```python\n(.*?)```", README, flags=re.S)
          if block.lstrip().startswith(("from ", "import "))]


def test_the_readme_has_examples():
    assert len(BLOCKS) >= 2


@pytest.mark.parametrize("block", BLOCKS, ids=[f"block{i}" for i in range(len(BLOCKS))])
def test_readme_example_runs(block, tmp_path, monkeypatch):
    from autograd_core import OPS
    from autograd_core.methods import undeclare
    monkeypatch.chdir(tmp_path)  # an example that writes a file writes it here
    declared = set(OPS)
    try:
        exec(compile(block, "README.md", "exec"), {"__name__": "readme"})
    finally:  # an op the example declares (softsign) must not leak into later tests
        for name in set(OPS) - declared:
            undeclare(name)
