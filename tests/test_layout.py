"""The package's layout: the teaching modules never import the fast path, no module imports
another in a cycle (every import counted, those inside functions too), and the lecture code
stays on one screen. Each rule is also shown to catch a deliberately added violation."""
from __future__ import annotations

import ast
import doctest
import importlib
import pathlib
import pkgutil
import shutil

import pytest

import mlplab

SRC = pathlib.Path(mlplab.__file__).parent
#: Modules that hold the lectures' formulas (and the trainer): never the fast path.
TEACHING = ("mlplab.activations", "mlplab.losses", "mlplab.optimizers", "mlplab.layers",
            "mlplab.training", "mlplab.models", "mlplab.regularizers", "mlplab.callbacks",
            "mlplab.metrics", "mlplab.autodiff", "mlplab.neurons", "mlplab.gradcheck")


def _module_name(root: pathlib.Path, path: pathlib.Path) -> str:
    parts = ("mlplab",) + path.relative_to(root).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def import_graph(root: pathlib.Path) -> dict[str, set[str]]:
    """{module: the mlplab modules it imports}, from the source alone (every import statement,
    at any depth). ``from . import x`` counts as an import of the submodule x; importing
    a.b.c imports the package a.b too (unless the importer is inside it: then a.b is what
    imports it), except the root package itself, which every module is inside."""
    modules = {_module_name(root, p): p for p in root.rglob("*.py")}
    compiled = {_module_name(root, p) for p in root.rglob("*.c")}  # extension modules
    graph = {}
    for name, path in modules.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        targets = set()
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                bases = [a.name for a in node.names]
                names = [[]] * len(bases)
            elif isinstance(node, ast.ImportFrom):
                if node.level:
                    base = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                    bases = [f"{base}.{node.module}" if node.module else base]
                else:
                    bases = [node.module]
                names = [[a.name for a in node.names]]
            else:
                continue
            for base, imported in zip(bases, names):
                subs = [f"{base}.{n}" for n in imported
                        if f"{base}.{n}" in modules or f"{base}.{n}" in compiled]
                for full in subs or [base]:  # from p import m: the module m, not p's __init__
                    if full in modules:
                        targets.add(full)
                        parts = full.split(".")  # and its packages, unless we are inside
                        targets.update(p for p in (".".join(parts[:i])
                                                   for i in range(2, len(parts)))
                                       if not (name + ".").startswith(p + "."))
        graph[name] = {t for t in targets if t != name and t != "mlplab"}
    return graph


def cycles(graph) -> list[list[str]]:
    """The import cycles of the graph (one path per cycle found by depth-first search)."""
    found, state = [], {}

    def visit(node, path):
        state[node] = "open"
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == "open":
                found.append(path[path.index(nxt):] + [nxt])
            elif nxt not in state:
                visit(nxt, path + [nxt])
        state[node] = "done"

    for node in sorted(graph):
        if node not in state:
            visit(node, [node])
    return found


def fast_imports(graph) -> list[tuple[str, str]]:
    """(teaching module, fast module) pairs where the first imports the second."""
    return [(m, t) for m, targets in graph.items() for t in targets
            if m.startswith(TEACHING) and (t == "mlplab.fast" or t.startswith("mlplab.fast."))]


def test_no_import_cycles():
    assert cycles(import_graph(SRC)) == []


def test_the_teaching_modules_do_not_import_the_fast_path():
    assert fast_imports(import_graph(SRC)) == []


@pytest.fixture
def copy_of_the_package(tmp_path):
    root = tmp_path / "mlplab"
    shutil.copytree(SRC, root, ignore=shutil.ignore_patterns("*.so", "__pycache__"))
    return root


def test_the_rules_catch_added_bait(copy_of_the_package):
    root = copy_of_the_package
    assert cycles(import_graph(root)) == [] and fast_imports(import_graph(root)) == []
    dense = root / "layers" / "dense.py"
    dense.write_text(dense.read_text() + "\n\ndef _bait():\n    from ..fast import kernels\n")
    assert ("mlplab.layers.dense", "mlplab.fast.kernels") in fast_imports(import_graph(root))
    saving = root / "saving.py"
    saving.write_text(saving.read_text() + "\n\ndef _bait():\n    from .models import Sequential\n")
    # the cycle models -> saving -> models, whichever module the search entered it from
    assert any(len(c) == 3 and set(c) == {"mlplab.models", "mlplab.saving"}
               for c in cycles(import_graph(root)))


def _function_lines(path, cls, name):
    tree = ast.parse(path.read_text())
    node = next(n for c in tree.body if isinstance(c, ast.ClassDef) and c.name == cls
                for n in c.body if isinstance(n, ast.FunctionDef) and n.name == name)
    return node.end_lineno - node.lineno + 1


def test_the_lecture_code_fits_on_one_screen():
    assert len((SRC / "models.py").read_text().splitlines()) < 350
    for name in ("forward", "backward", "backward_from_delta"):
        assert _function_lines(SRC / "layers" / "dense.py", "Dense", name) <= 15, name
    assert _function_lines(SRC / "training.py", "Trainer", "reference_step") <= 15


def _modules():
    for info in pkgutil.walk_packages(mlplab.__path__, "mlplab."):
        if not info.name.endswith("__main__"):
            yield info.name


@pytest.mark.parametrize("name", sorted(_modules()))
def test_every_modules_doctests_pass(name):
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.NORMALIZE_WHITESPACE | doctest.ELLIPSIS,
                             extraglobs={"np": __import__("numpy")})
    assert result.failed == 0, name
