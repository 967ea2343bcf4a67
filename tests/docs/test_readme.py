"""The README's Python examples run exactly as written (a reader pastes them)."""

import os
import pathlib
import re
import subprocess
import sys

import pytest

README = (pathlib.Path(__file__).parents[2] / "README.md").read_text(encoding="utf-8")
# Blocks that are programs, not printed output: they import what they use.
BLOCKS = [block for block in re.findall(r"```python\n(.*?)```", README, flags=re.S)
          if block.lstrip().startswith(("from ", "import "))]


def test_the_readme_has_examples():
    assert len(BLOCKS) >= 2


@pytest.mark.parametrize("block", BLOCKS, ids=[f"block{i}" for i in range(len(BLOCKS))])
def test_readme_example_runs(block, tmp_path):
    # Each block runs in a fresh interpreter, as a reader's paste does: an op it declares
    # (the README declares softsign) must not stay in the table of the tests after it.
    # It runs in tmp_path, so an example that writes a file writes it there.
    root = str(pathlib.Path(__file__).resolve().parents[2])
    env = dict(os.environ, PYTHONPATH=root + os.pathsep + os.environ.get("PYTHONPATH", ""),
               MPLBACKEND="Agg")
    done = subprocess.run([sys.executable, "-c", block], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, f"README example failed:\n{block}\n{done.stderr}"
