"""The packages depend one way, and no file waits for itself.

Every import of every .py file in the packages is read with `ast` (those inside
functions too, relative ones resolved) and checked against three rules:

(a) layers: a package imports only packages in layers below its own,

        autograd_core (0) < nn (1) < visualize (2) < student (3) < playground (4)
            < chainrule (5)

    (the command is on top: `chainrule playground` starts the playground's server, and
    nothing below the command may import it);
(b) cycles: no two files import each other, directly or around a cycle (a package's
    __init__.py is a file), and no two packages do;
(c) privacy: no module imports another package's private (`_`-prefixed) name, or reads
    one off a module of another package that it imported.

`from pkg import name` imports pkg/__init__.py (it reads `name` off the package); when
every name is a submodule (`from . import ops`) it imports those modules alone: Python
runs a package's __init__.py before any of its modules anyway, and reads nothing off it.
`import pkg.mod` imports both (it binds pkg, or reads mod off it). `from pkg.mod import
name` imports pkg/mod.py, and pkg/__init__.py only from outside pkg (inside pkg, that file
is already running and nothing is read off it).

The one exception is ALLOWED below: the engine draws a Value in Jupyter by importing
`visualize` inside `Value._repr_mimebundle_`, only when a notebook asks for a picture.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

LAYERS = {"autograd_core": 0, "nn": 1, "visualize": 2, "student": 3, "playground": 4,
          "chainrule": 5}

# (importing file, function the import is in, package imported): the Jupyter picture hook.
ALLOWED = {("autograd_core/engine.py", "_repr_mimebundle_", "visualize")}

ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Import:
    """One import statement's dependency of one file on one file of the packages."""
    file: str              # the importing file, relative to the root: "nn/train.py"
    line: int
    function: str          # the innermost function the import is in, "" at module level
    target: str            # the file it runs: "visualize/__init__.py"
    statement: str         # as written, for the message
    private: tuple = ()    # the `_`-prefixed names it takes from another package
    read: bool = False     # not an import: a name read off a module imported earlier

    @property
    def package(self) -> str:
        return self.file.split("/")[0]

    @property
    def target_package(self) -> str:
        return self.target.split("/")[0]

    @property
    def where(self) -> str:
        inside = f" (in {self.function})" if self.function else ""
        return f"{self.file}:{self.line}{inside}: {self.statement}"

    @property
    def allowed(self) -> bool:
        return (self.file, self.function, self.target_package) in ALLOWED


# --------------------------------------------------------------- reading the imports

def package_files(root: Path, packages=LAYERS) -> dict:
    """{module name: file relative to root} for every .py file of the packages."""
    modules = {}
    for package in packages:
        for path in sorted((root / package).rglob("*.py")) if (root / package).is_dir() else ():
            relative = path.relative_to(root).as_posix()
            parts = relative[:-3].split("/")
            if parts[-1] == "__init__":
                parts.pop()
            modules[".".join(parts)] = relative
    return modules


def _is_private(name: str) -> bool:
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


class _Reader(ast.NodeVisitor):
    """The Imports of one file, with the function each is in."""

    def __init__(self, relative, module, modules):
        self.file, self.modules, self.imports = relative, modules, []
        self.package_of_file = module if relative.endswith("__init__.py") \
            else module.rpartition(".")[0]
        self.functions = []
        self.module_names = {}   # local name -> module of another package it is bound to

    def visit_FunctionDef(self, node):
        self.functions.append(node.name)
        self.generic_visit(node)
        self.functions.pop()

    visit_AsyncFunctionDef = visit_FunctionDef

    def _add(self, node, module, private=(), through_packages=False):
        """Imports of `module` (dotted) and of each package above it that the importing
        file is not inside of (or of every one, when the import reads `module` through
        them: `import pkg.mod` binds pkg)."""
        parts = module.split(".")
        chain = [".".join(parts[:k]) for k in range(1, len(parts) + 1)]
        for name in chain:
            inside = self.package_of_file == name or self.package_of_file.startswith(name + ".")
            if name in self.modules and (name == module or through_packages or not inside):
                self.imports.append(Import(
                    self.file, node.lineno, self.functions[-1] if self.functions else "",
                    self.modules[name], ast.unparse(node), private if name == module else ()))

    def _theirs(self, module) -> bool:
        top = module.split(".")[0]
        return top in LAYERS and top != self.file.split("/")[0]

    def visit_Import(self, node):
        for alias in node.names:
            if alias.name.split(".")[0] not in LAYERS:
                continue
            hidden = tuple(p for p in alias.name.split(".") if _is_private(p))
            self._add(node, alias.name, hidden if self._theirs(alias.name) else (),
                      through_packages=True)
            if self._theirs(alias.name):
                bound = alias.asname or alias.name.split(".")[0]
                self.module_names[bound] = alias.name if alias.asname else bound

    def visit_ImportFrom(self, node):
        if node.level:
            base = self.package_of_file.split(".")
            base = base[:len(base) - (node.level - 1)]
            module = ".".join(base + ([node.module] if node.module else []))
        else:
            module = node.module
        if module.split(".")[0] not in LAYERS:
            return
        theirs = self._theirs(module)
        names_private = tuple(a.name for a in node.names if theirs and _is_private(a.name))
        path_private = tuple(p for p in module.split(".") if theirs and _is_private(p))
        submodules = [a for a in node.names if f"{module}.{a.name}" in self.modules]
        if len(submodules) < len(node.names):  # a name is read off the package itself
            self._add(node, module, path_private + names_private)
        for alias in submodules:
            private = path_private + ((alias.name,) if theirs and _is_private(alias.name) else ())
            self._add(node, f"{module}.{alias.name}", private)
            if theirs:
                self.module_names[alias.asname or alias.name] = f"{module}.{alias.name}"

    def visit_Attribute(self, node):
        # module_of_another_package._private, read after importing that module
        if (isinstance(node.value, ast.Name) and node.value.id in self.module_names
                and _is_private(node.attr)):
            self.imports.append(Import(
                self.file, node.lineno, self.functions[-1] if self.functions else "",
                self.modules.get(self.module_names[node.value.id], node.value.id),
                f"{node.value.id}.{node.attr}", (node.attr,), read=True))
        self.generic_visit(node)


def read_imports(root: Path, packages=LAYERS) -> list:
    """Every Import of every file of the packages under `root`."""
    modules = package_files(root, packages)
    imports = []
    for module, relative in modules.items():
        tree = ast.parse((root / relative).read_text(encoding="utf-8"), relative)
        reader = _Reader(relative, module, modules)
        reader.visit(tree)
        imports += reader.imports
    return imports


# ------------------------------------------------------------------------ the rules

def layer_problems(imports) -> list:
    """(a): imports that run up a layer or across the top one."""
    problems = []
    for imp in imports:
        if not (imp.allowed or imp.read) and _upward(imp):
            line = (f"{imp.where}  [{imp.package} (layer {LAYERS[imp.package]}) imports "
                    f"{imp.target_package} (layer {LAYERS[imp.target_package]})]")
            if line not in problems:  # `import a.b` runs a/__init__.py and a/b.py: once
                problems.append(line)
    return problems


def _upward(imp) -> bool:
    mine, theirs = LAYERS[imp.package], LAYERS[imp.target_package]
    return theirs > mine or theirs == mine and imp.package != imp.target_package


def _strongly_connected(graph) -> list:
    """Tarjan's components with more than one member (iterative: no recursion)."""
    index, low, on_stack, stack, components, counter = {}, {}, set(), [], [], [0]
    for start in sorted(graph):
        if start in index:
            continue
        work = [(start, iter(sorted(graph.get(start, ()))))]
        index[start] = low[start] = counter[0]
        counter[0] += 1
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            for child in children:
                if child not in index:
                    index[child] = low[child] = counter[0]
                    counter[0] += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph.get(child, ())))))
                    break
                if child in on_stack:
                    low[node] = min(low[node], index[child])
            else:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
                if low[node] == index[node]:
                    members = []
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        members.append(member)
                        if member == node:
                            break
                    if len(members) > 1:
                        components.append(sorted(members))
    return components


def _shortest_path(graph, start, goal, inside) -> list:
    """[start, ..., goal] through `inside` (breadth first)."""
    came_from, frontier = {start: None}, [start]
    while goal not in came_from:
        reached = []
        for node in frontier:
            for nxt in sorted(graph.get(node, ())):
                if nxt in inside and nxt not in came_from:
                    came_from[nxt] = node
                    reached.append(nxt)
        frontier = reached
    path = [goal]
    while path[-1] != start:
        path.append(came_from[path[-1]])
    return path[::-1]


def cycle_problems(imports) -> list:
    """(b): every cycle between files, as the imports around it, and between packages.

    Each import between two files of a strongly connected group lies on a cycle: the
    shortest such cycle is shown for each, hop by hop. A cycle between packages always
    has an import up or across a layer in it: those are listed (they are in (a) too).
    """
    real = [imp for imp in imports if not (imp.allowed or imp.read)]
    problems = []
    graph, statements = {}, {}
    for imp in real:
        if imp.file != imp.target:
            graph.setdefault(imp.file, set()).add(imp.target)
            statements.setdefault((imp.file, imp.target), {})[imp.where] = None
    for members in _strongly_connected(graph):
        inside, cycles = set(members), []
        for a in members:
            for b in sorted(graph[a] & inside):
                path = [a] + _shortest_path(graph, b, a, inside)
                hops = list(zip(path, path[1:]))
                turn = hops.index(min(hops))  # the same cycle, seen from anywhere
                hops = hops[turn:] + hops[:turn]
                if hops not in cycles:
                    cycles.append(hops)
        problems.append(f"a cycle between files {', '.join(members)}:")
        for hops in sorted(cycles, key=len):
            problems.append("    " + " -> ".join(a for a, _ in hops) + f" -> {hops[0][0]}")
            problems += [f"        {where}" for hop in hops for where in statements[hop]]
    packages = {}
    for imp in real:
        if imp.package != imp.target_package:
            packages.setdefault(imp.package, set()).add(imp.target_package)
    for members in _strongly_connected(packages):
        problems.append(f"a cycle between packages {', '.join(members)}, closed by:")
        problems += list(dict.fromkeys(
            f"    {imp.where}" for imp in real if _upward(imp)
            and imp.package in members and imp.target_package in members))
    return problems


def private_problems(imports) -> list:
    """(c): another package's `_`-prefixed names, imported or read off its module."""
    return [f"{imp.where}  [private: {', '.join(imp.private)}]"
            for imp in imports if imp.private]


def problems_in(root: Path, packages=LAYERS) -> dict:
    imports = read_imports(root, packages)
    return {"layers": layer_problems(imports), "cycles": cycle_problems(imports),
            "private": private_problems(imports)}


ADVICE = {
    "layers": "an import runs up a layer (autograd_core < nn < visualize < student < "
              "playground < chainrule): move the code it needs down to the lower "
              "package, or pass it in from above",
    "cycles": "files or packages import each other: move what both need into a file "
              "below both, or have one of them pass it to the other",
    "private": "a module uses another package's private name: make it public there "
               "(no leading _, in __all__) or ask for what it needs through a public "
               "function",
}


def report(problems: dict) -> str:
    parts = []
    for kind, lines in problems.items():
        if lines:
            parts.append(f"{kind}: {ADVICE[kind]}\n  " + "\n  ".join(lines))
    return "\n\n".join(parts)


# -------------------------------------------------------------------------- the test

def test_the_packages_depend_one_way_without_cycles_or_private_names():
    problems = problems_in(ROOT)
    assert not any(problems.values()), "\n" + report(problems)


def test_the_one_exception_is_still_there_to_be_allowed():
    # If the Jupyter hook moves or goes, ALLOWED must change with it (no silent pass).
    assert any(imp.allowed for imp in read_imports(ROOT)), ALLOWED


# ------------------------------------------------------- the rules catch each kind

def _tree(tmp_path, files):
    for name, text in files.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return problems_in(tmp_path)


def test_a_clean_tree_and_the_jupyter_hook_pass(tmp_path):
    problems = _tree(tmp_path, {
        "autograd_core/__init__.py": "from .engine import Value\nfrom . import ops\n",
        "autograd_core/ops.py": "",
        "autograd_core/engine.py": (
            "from .ops import table\n"
            "class Value:\n"
            "    def _repr_mimebundle_(self):\n"
            "        import visualize\n"),
        "nn/__init__.py": "from autograd_core import Value\n",
        "visualize/__init__.py": "from nn import Value\nfrom autograd_core.ops import x\n",
        "chainrule/cli.py": "import visualize.graph as g\n",
        "visualize/graph.py": "import os\nimport numpy\n",
    })
    assert problems == {"layers": [], "cycles": [], "private": []}


def test_an_import_up_a_layer_is_caught_even_inside_a_function(tmp_path):
    problems = _tree(tmp_path, {
        "autograd_core/__init__.py": "",
        "autograd_core/engine.py": "def picture():\n    from visualize import draw\n",
        "nn/train.py": "def run():\n    import visualize.plots\n",
        "visualize/plots.py": "",
        "visualize/__init__.py": "",
        "playground/__init__.py": "import chainrule.cli\n",
        "chainrule/cli.py": "",
    })
    layers = "\n".join(problems["layers"])
    assert "autograd_core/engine.py:2 (in picture): from visualize import draw" in layers
    assert "nn/train.py:2 (in run)" in layers
    assert "playground/__init__.py:1" in layers and "chainrule (layer 5)" in layers
    assert len(problems["layers"]) == 3


def test_a_cycle_between_files_or_packages_is_caught(tmp_path):
    problems = _tree(tmp_path, {
        "nn/layers.py": "def save():\n    from .serialize import save\n",
        "nn/serialize.py": "from .layers import Layer\n",
        "visualize/__init__.py": "from .drill import drill\nfrom .paths import paths\n",
        "visualize/drill.py": "import visualize\n",   # a file and its own package
        "visualize/paths.py": "from . import graph, DRILLS\n",   # reads DRILLS off visualize
        "visualize/graph.py": "",
        "autograd_core/__init__.py": "from . import engine\n",
        "autograd_core/engine.py": "from .ops import table\n",   # no package: no cycle
        "autograd_core/ops.py": "",
        "nn/__init__.py": "from .layers import Layer\nfrom .optim import SGD\n",
        "nn/optim.py": "import nn.layers as layers\n",   # reads layers off nn: a cycle
    })
    cycles = "\n".join(problems["cycles"])
    assert "a cycle between files nn/layers.py, nn/serialize.py:" in cycles
    assert "nn/layers.py:2 (in save): from .serialize import save" in cycles
    assert "nn/serialize.py:1: from .layers import Layer" in cycles
    assert "a cycle between files visualize/__init__.py, visualize/drill.py, " \
        "visualize/paths.py:" in cycles
    assert "visualize/paths.py:1: from . import graph, DRILLS" in cycles
    assert "autograd_core" not in cycles
    assert "nn/optim.py:1: import nn.layers as layers" in cycles
    package_cycle = _tree(tmp_path / "two", {
        "chainrule/cli.py": "import playground\n",
        "playground/__init__.py": "from chainrule import cli\n",
    })
    assert any(p.startswith("a cycle between packages chainrule, playground")
               for p in package_cycle["cycles"])


def test_another_packages_private_name_is_caught(tmp_path):
    problems = _tree(tmp_path, {
        "autograd_core/__init__.py": "",
        "autograd_core/engine.py": "_METHODS = {}\ndef _apply(): pass\n",
        "autograd_core/ops.py": "from .engine import _METHODS\n",   # its own: fine
        "chainrule/expr.py": (
            "from autograd_core.engine import _METHODS, Value\n"
            "from autograd_core import engine\n"
            "import autograd_core._secret\n"
            "def f():\n"
            "    return engine._apply()\n"),
        "autograd_core/_secret.py": "",
    })
    private = "\n".join(problems["private"])
    assert "chainrule/expr.py:1: from autograd_core.engine import _METHODS, Value" in private
    assert "chainrule/expr.py:3: import autograd_core._secret" in private
    assert "chainrule/expr.py:5 (in f): engine._apply  [private: _apply]" in private
    assert "autograd_core/ops.py" not in private
    assert len(problems["private"]) == 3


def test_the_report_says_what_to_do(tmp_path):
    problems = _tree(tmp_path, {"nn/a.py": "import chainrule\n", "chainrule/__init__.py": ""})
    text = report(problems)
    assert "nn/a.py:1: import chainrule" in text and "move the code it needs down" in text
