"""The layers of docs/architecture.md: each imports only downward, and no import cycle.

Every import counts, at the top of a module or inside a function (a lazy import is
still a dependency); only those under ``if TYPE_CHECKING:`` are left out, since they
never run.
"""

from __future__ import annotations

import ast
from collections.abc import Mapping
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
#: Where each part of the package lives in the clone (pyproject's package-dir).
FOLDERS = {
    "lstm_exam": ROOT / "lstm_exam",
    "lstm_exam.generator": ROOT / "generator",
    "lstm_exam.graders": ROOT / "graders",
}
G = "lstm_exam.generator"
#: Packages that hold nothing but their modules (and the version): any layer may name them.
ROOTS = {"lstm_exam", G}

#: The layers, lowest first: a module's layer is its longest matching prefix.
LAYERS = {
    f"{G}.core": "core",
    f"{G}.spec": "spec",
    f"{G}.variants": "variants",
    f"{G}.runtime": "runtime",
    f"{G}.processes": "runtime",
    f"{G}.store": "store",
    f"{G}.render": "render",
    f"{G}.generate": "generate",
    f"{G}.quiz": "quiz",
    f"{G}.export": "export",
    f"{G}.report": "report",
    f"{G}.send": "send",
    "lstm_exam.graders": "graders",
    "lstm_exam.api": "app",
    "lstm_exam.cli": "app",
    "lstm_exam.__main__": "app",
}
_BELOW_STAGES = {"core", "spec", "variants", "runtime", "store"}
#: What each layer may import (besides itself and the root package's version).
MAY_IMPORT = {
    "core": set(),
    "spec": {"core"},
    "variants": {"core", "spec"},
    "runtime": {"core"},
    "store": {"core", "spec", "variants", "runtime"},
    "render": _BELOW_STAGES,
    "generate": _BELOW_STAGES | {"render"},
    "quiz": _BELOW_STAGES | {"render", "generate"},
    "export": {"core", "spec"},
    "report": {"core", "spec"},
    "send": _BELOW_STAGES,
    "graders": _BELOW_STAGES,
    "app": set(LAYERS.values()),
}


def module_files() -> dict[str, Path]:
    """Every module of the package by its dotted name."""
    out = {}
    for package, folder in FOLDERS.items():
        for path in folder.rglob("*.py"):
            parts = path.relative_to(folder).with_suffix("").parts
            if parts[-1] == "__init__":
                parts = parts[:-1]
            name = ".".join((package, *parts))
            if name in out:  # lstm_exam/ holds no generator/ or graders/ of its own
                raise AssertionError(f"{name} twice: {out[name]} and {path}")
            out[name] = path
    return out


def _type_checking_only(node: ast.If) -> bool:
    return isinstance(node.test, ast.Name) and node.test.id == "TYPE_CHECKING"


def imports_of(name: str, path: Path, modules: Mapping[str, Path]) -> set[str]:
    """The package's modules that module ``name`` imports (run-time imports only)."""
    tree = ast.parse(path.read_text("utf-8"))
    skip = {
        id(n)
        for node in ast.walk(tree)
        if isinstance(node, ast.If) and _type_checking_only(node)
        for n in ast.walk(node)
    }
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(tree):
        if id(node) in skip:
            continue
        if isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                up = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*up, base]) if base else ".".join(up)
            # `from pkg import module` names a module; `from module import name` does not
            targets = [f"{base}.{a.name}" for a in node.names] + [base]
        else:
            continue
        for t in targets:
            while t and t not in modules:
                t = t.rpartition(".")[0]
            if t and t != name:
                found.add(t)
    return found


def import_graph() -> dict[str, set[str]]:
    modules = module_files()
    return {name: imports_of(name, path, modules) for name, path in modules.items()}


def layer_of(module: str) -> str | None:
    best = max(
        (p for p in LAYERS if module == p or module.startswith(p + ".")), key=len, default=""
    )
    return LAYERS.get(best)


def upward_imports(graph: Mapping[str, set[str]]) -> list[str]:
    """Every import of a layer its layer may not import, as ``a -> b (layer -> layer)``."""
    bad = []
    for module, targets in sorted(graph.items()):
        mine = layer_of(module)
        for t in sorted(targets):
            theirs = layer_of(t)
            if t in ROOTS or theirs == mine:
                continue
            if mine is None or theirs is None or theirs not in MAY_IMPORT[mine]:
                bad.append(f"{module} -> {t} ({mine} -> {theirs})")
    return bad


def cycles(graph: Mapping[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in graph.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1 or v in graph.get(v, ()):
                found.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def test_every_module_belongs_to_a_layer():
    assert [m for m in import_graph() if m not in ROOTS and layer_of(m) is None] == []


def test_layers_import_only_downward():
    assert upward_imports(import_graph()) == []


def test_no_import_cycle():
    assert cycles(import_graph()) == []


def test_the_root_packages_import_nothing_of_their_own():
    """Every layer may read ``lstm_exam.__version__``: so the roots must stand on nothing."""
    graph = import_graph()
    assert {root: graph[root] for root in ROOTS} == {root: set() for root in ROOTS}


def test_the_checks_catch_an_upward_import_and_a_cycle():
    core, render = f"{G}.core.notation", f"{G}.render.latex"
    graph = {core: {render}, render: {core}, "lstm_exam.graders.run": {f"{G}.generate"}}
    assert upward_imports(graph) == [
        f"{core} -> {render} (core -> render)",
        f"lstm_exam.graders.run -> {G}.generate (graders -> generate)",
    ]
    assert cycles(graph) == [sorted([core, render])]


def test_the_graph_sees_relative_lazy_and_package_imports(tmp_path):
    path = tmp_path / "m.py"
    path.write_text(
        "from typing import TYPE_CHECKING\n"
        "from . import defaults\n"
        "if TYPE_CHECKING:\n    from lstm_exam.graders import run\n"
        "def f():\n    from ..spec.roster import Student\n"
    )
    modules = {n: path for n in (f"{G}.core.defaults", f"{G}.spec.roster", "lstm_exam.graders.run")}
    assert imports_of(f"{G}.core.m", path, modules) == {f"{G}.core.defaults", f"{G}.spec.roster"}
