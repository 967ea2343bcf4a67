"""The README's "What is where" table matches the tree: every folder of the repository
has a row, every row names a folder that exists, and every file a row names is there."""

import pathlib
import re
import subprocess

ROOT = pathlib.Path(__file__).resolve().parents[2]


def _table():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## What is where", 1)[1].split("\n## ", 1)[0]
    rows = {}
    for line in section.splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if len(cells) == 2 and re.fullmatch(r"`[^`]+/`", cells[0]):
            rows[cells[0].strip("`").rstrip("/")] = cells[1]
    return rows


def _folders():
    """The top-level folders git tracks (a fresh clone has exactly these)."""
    try:
        listed = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True,
                                text=True, check=True).stdout.split()
    except (OSError, subprocess.CalledProcessError):  # not a git checkout: look at disk
        return {p.name for p in ROOT.iterdir() if p.is_dir() and not p.name.startswith(".")
                and p.name not in ("build", "__pycache__") and not p.name.endswith(".egg-info")}
    return {path.split("/", 1)[0] for path in listed
            if "/" in path and not path.startswith(".")}


def test_every_folder_has_a_row_and_every_row_a_folder():
    rows, folders = _table(), _folders()
    assert rows, "README.md has no 'What is where' table"
    missing = sorted(folders - set(rows))
    extra = sorted(set(rows) - folders)
    assert not missing, f"folders without a row in README's What is where: {missing}"
    assert not extra, f"rows in README's What is where for folders that do not exist: {extra}"


def test_every_file_a_row_names_exists():
    wrong = []
    for folder, text in _table().items():
        for name in re.findall(r"`([\w./-]+\.(?:py|sh|md|js|css|html))`", text):
            if not (ROOT / folder / name).exists():
                wrong.append(f"{folder}/{name}")
    assert not wrong, f"README's What is where names files that are not there: {wrong}"



def test_every_module_of_a_package_is_named_in_its_row():
    """A newcomer finds a module from the table: each package's row names every module
    in it (a `cmd_*.py` in a row stands for the command files)."""
    unnamed = []
    for folder, text in _table().items():
        package = ROOT / folder
        if folder == "tests" or not (package / "__init__.py").exists():
            continue  # the tests are found by folder (the row names each folder)
        named = set(re.findall(r"`([\w*.]+\.py)`", text))
        for module in sorted(package.glob("*.py")):
            if module.name in ("__init__.py", "__main__.py") or module.name in named:
                continue
            if any("*" in pattern and module.match(pattern) for pattern in named):
                continue
            unnamed.append(f"{folder}/{module.name}")
    assert not unnamed, f"modules README's What is where does not name: {unnamed}"
