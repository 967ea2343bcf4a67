"""The terminal samples in README.md and docs/student.md are what the program prints.

Each ```console block is run as written, in a fresh folder, through bash with the
installed `chainrule` first on PATH: a `$ ` line is a command (a trailing backslash or a
here-document continues it), the lines under it are what it prints, stdout and stderr
together as a terminal shows them. In the printed part, a line `...` stands for any
number of lines and `...` inside a line for any text, so a sample may leave out what
does not matter to it; everything it does show must be printed, in that order. A
command with nothing under it is shown for the command alone: it is run, not compared.
"""

import os
import pathlib
import re
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).parents[2]
DOCS = ["README.md", "docs/student.md"]


def samples(text):
    """[(command, [printed lines])] of every ```console block, in order, one list per
    block (commands in a block share a folder: a drill, then its grade)."""
    blocks = []
    for block in re.findall(r"```console\n(.*?)```", text, flags=re.S):
        commands, lines = [], block.splitlines()
        i = 0
        while i < len(lines):
            if not lines[i].startswith("$ "):
                raise AssertionError(f"printed text without a command: {lines[i]!r}")
            command = [lines[i][2:]]
            i += 1
            while command[-1].endswith("\\") or ("<<'EOF'" in command[0]
                                                 and command[-1] != "EOF"):
                command.append(lines[i])
                i += 1
            printed = []
            while i < len(lines) and not lines[i].startswith("$ "):
                printed.append(lines[i])
                i += 1
            while printed and not printed[-1]:  # the blank line before the next command
                printed.pop()
            commands.append(("\n".join(command), printed))
        blocks.append(commands)
    return blocks


def pattern(printed):
    """A regex for the printed lines, with `...` as described above."""
    parts = []
    for line in printed:
        if line.strip() == "...":
            parts.append(r"(?:[^\n]*\n)*?")
        else:
            parts.append(".*?".join(map(re.escape, line.split("..."))) + r"\n")
    return "".join(parts)


def run(command, folder):
    env = dict(os.environ, PATH=os.path.dirname(sys.executable) + os.pathsep
               + os.environ.get("PATH", ""), COLUMNS="200")
    proc = subprocess.run(["bash", "-c", command], cwd=folder, env=env, text=True,
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=300)
    return "".join(line.rstrip() + "\n" for line in proc.stdout.splitlines())


def test_the_parser_reads_commands_continuations_and_gaps():
    text = ("```console\n$ chainrule a \\\n    --b\nline 1\n...\nend ... here\n"
            "$ cat > f <<'EOF'\nx = 1\nEOF\n```\n")
    (first, second), = samples(text)
    assert first == ("chainrule a \\\n    --b", ["line 1", "...", "end ... here"])
    assert second == ("cat > f <<'EOF'\nx = 1\nEOF", [])
    assert re.fullmatch(pattern(first[1]), "line 1\nskipped\nend of it here\n")
    assert not re.fullmatch(pattern(first[1]), "line 1\nend here\nextra\n")


def _ids():
    return [f"{doc} block {n + 1}" for doc in DOCS
            for n in range(len(samples((ROOT / doc).read_text(encoding="utf-8"))))]


@pytest.mark.parametrize("doc, block", [
    (doc, block) for doc in DOCS
    for block in samples((ROOT / doc).read_text(encoding="utf-8"))], ids=_ids())
def test_doc_sample_is_what_the_program_prints(doc, block, tmp_path):
    if not os.access(os.path.join(os.path.dirname(sys.executable), "chainrule"), os.X_OK):
        pytest.skip("the chainrule command is not installed (pip install -e .)")
    for command, printed in block:
        output = run(command, tmp_path)
        if not printed:
            continue
        assert re.fullmatch(pattern(printed), output), (
            f"{doc}: `{command}` prints\n{output}\nbut the sample shows\n"
            + "\n".join(printed))


def python_samples(text):
    """[(program, [printed lines])]: a ```python block followed by the ```text block of
    what it prints."""
    return [(program, printed.splitlines()) for program, printed in re.findall(
        r"```python\n((?:(?!```).)*)```\s*```text\n((?:(?!```).)*)```", text, flags=re.S)]


@pytest.mark.parametrize("program, printed", python_samples(
    (ROOT / "docs/networks.md").read_text(encoding="utf-8")))
def test_networks_doc_sample_is_what_python_prints(program, printed, capsys):
    exec(compile(program, "docs/networks.md", "exec"), {"__name__": "doc"})
    output = "".join(line.rstrip() + "\n" for line in capsys.readouterr().out.splitlines())
    assert re.fullmatch(pattern(printed), output), output
