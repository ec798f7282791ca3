"""The shape of the house: stage folders, no import circle, the core never reaching for a strategy."""

from __future__ import annotations

import ast

import pytest

from conftest import ROOT

MAX_MODULE_LINES = 400


def modules() -> dict[str, object]:
    found = {}
    for package in ("advisor", "strategies"):
        for path in (ROOT / package).rglob("*.py"):
            parts = path.relative_to(ROOT).with_suffix("").parts
            name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
            found[name] = path
    return found


def import_graph() -> dict[str, set[str]]:
    """Module -> the project modules it imports, at any depth of the file (lazy imports count:
    they close a circle at run time just the same), with the packages those live in."""
    known = modules()

    def owner(dotted: str) -> str | None:
        while dotted and dotted not in known:
            dotted = dotted.rpartition(".")[0]
        return dotted or None

    graph = {}
    for name, path in known.items():
        targets = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                targets |= {owner(f"{node.module}.{alias.name}") for alias in node.names}
            elif isinstance(node, ast.Import):
                targets |= {owner(alias.name) for alias in node.names}
        packages = {".".join(t.split(".")[:i]) for t in targets if t for i in range(1, t.count(".") + 1)}
        graph[name] = {t for t in targets | packages
                       if t in known and t != name and not name.startswith(f"{t}.")}
    return graph


def import_circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected groups of more than one module (Tarjan's algorithm)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    circles = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for target in graph[node]:
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                circles.append(sorted(group))

    for node in graph:
        if node not in index:
            visit(node)
    return circles


def test_the_circle_finder_finds_a_circle():
    assert import_circles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert import_circles({"a": {"b"}, "b": set()}) == []


def test_no_import_circle():
    assert import_circles(import_graph()) == []


def test_the_core_reaches_strategies_only_through_the_registry():
    reaching = {name: sorted(t for t in targets if t.startswith("strategies"))
                for name, targets in import_graph().items() if name.startswith("advisor")}
    assert {name: t for name, t in reaching.items() if t} == {}


@pytest.mark.parametrize("name", sorted(modules()))
def test_no_module_is_longer_than_a_reader_holds(name):
    lines = modules()[name].read_text(encoding="utf-8").count("\n")
    assert lines <= MAX_MODULE_LINES, f"{name}: {lines} lines"


@pytest.mark.parametrize("name", sorted(n for n, p in modules().items() if p.name == "__init__.py"))
def test_every_package_says_what_it_holds(name):
    assert ast.get_docstring(ast.parse(modules()[name].read_text(encoding="utf-8"))), name
