"""The engine builds its parts once and hands them down: no module of ``sysjobs.jobs`` takes
the ``Engine`` back, and the modules' imports form no circle — ``TYPE_CHECKING`` imports
included, so a signature cannot hide a back-reference either."""

from __future__ import annotations

import ast
from pathlib import Path

import sysjobs.jobs

PACKAGE = "sysjobs.jobs"
FOLDER = Path(sysjobs.jobs.__file__).parent


def _modules() -> dict[str, ast.Module]:
    return {
        path.stem: ast.parse(path.read_text(encoding="utf-8"), str(path))
        for path in sorted(FOLDER.glob("*.py"))
        if path.stem != "__init__"
    }


def _imported(tree: ast.Module, known: set[str]) -> set[str]:
    """Modules of the package ``tree`` imports, anywhere (functions and TYPE_CHECKING too)."""
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module is not None:
            if node.module == PACKAGE:  # from sysjobs.jobs import caps
                found |= {a.name for a in node.names if a.name in known}
            elif node.module.startswith(f"{PACKAGE}."):
                found.add(node.module.removeprefix(f"{PACKAGE}.").split(".")[0])
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith(f"{PACKAGE}."):
                    found.add(alias.name.removeprefix(f"{PACKAGE}.").split(".")[0])
    return found & known


def _graph() -> dict[str, set[str]]:
    modules = _modules()
    return {name: _imported(tree, set(modules)) for name, tree in modules.items()}


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import circle in ``graph`` (as a path that returns to its start), or None."""
    done: set[str] = set()

    def visit(node: str, path: list[str]) -> list[str] | None:
        if node in path:
            return [*path[path.index(node) :], node]
        if node in done:
            return None
        for target in sorted(graph[node]):
            found = visit(target, [*path, node])
            if found is not None:
                return found
        done.add(node)
        return None

    for start in sorted(graph):
        found = visit(start, [])
        if found is not None:
            return found
    return None


def test_the_jobs_modules_import_each_other_without_a_circle() -> None:
    graph = _graph()
    assert {"engine", "leases", "control", "caps", "waiting", "context", "registry"} <= set(graph)
    assert _cycle(graph) is None, " -> ".join(_cycle(graph) or [])


def test_the_cycle_check_finds_a_circle_when_there_is_one() -> None:
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert _cycle({"a": {"b"}, "b": set()}) is None


def test_only_engine_py_names_the_engine() -> None:
    named = {
        name
        for name, tree in _modules().items()
        for node in ast.walk(tree)
        if (isinstance(node, ast.Name) and node.id == "Engine")
        or (isinstance(node, ast.ImportFrom) and any(a.name == "Engine" for a in node.names))
        or (isinstance(node, ast.Constant) and node.value == "Engine")
    }
    assert named <= {"engine"}, sorted(named)


def test_nothing_below_the_engine_imports_it() -> None:
    importers = {name for name, imported in _graph().items() if "engine" in imported}
    assert importers == set(), sorted(importers)


MUTABLE_CALLS = {"dict", "list", "set", "WeakKeyDictionary", "WeakValueDictionary", "Counter",
                 "OrderedDict", "defaultdict", "deque"}


def _mutable(value: ast.expr | None) -> bool:
    if isinstance(value, ast.Dict | ast.List | ast.Set | ast.DictComp | ast.ListComp):
        return True
    if isinstance(value, ast.Call):
        func = value.func
        name = func.id if isinstance(func, ast.Name) else getattr(func, "attr", "")
        return name in MUTABLE_CALLS
    return False


def test_no_module_of_the_engine_keeps_mutable_state() -> None:
    """Caps, line counts, id sequences live in an engine's parts, never in a module.
    (UPPER_CASE tables are constants: the transition tables, never written.)"""
    found = []
    for name, tree in _modules().items():
        for node in tree.body:
            targets: list[ast.expr] = []
            if isinstance(node, ast.Assign):
                targets, value = node.targets, node.value
            elif isinstance(node, ast.AnnAssign):
                targets, value = [node.target], node.value
            else:
                continue
            names = [t.id for t in targets if isinstance(t, ast.Name)]
            state = [n for n in names if n != "__all__" and not n.isupper()]
            if _mutable(value) and state:
                found.append(f"{name}.{','.join(names)}")
    assert found == []
