"""The house's shape: feature packages depend on each other one way only (DESIGN.md, "Dependencies run one way").

Every import between packages under app/blueprints is read from the source, lazy imports inside functions
included; a package that imports another which imports it back, directly or through others, fails the test.
A lower part tells a higher one what happened through its signals (bookings/signals.py), never by importing it.
"""

from __future__ import annotations

import ast
from pathlib import Path

BLUEPRINTS = Path(__file__).resolve().parents[2] / "app" / "blueprints"


def feature_imports() -> dict[str, set[str]]:
    """{feature: the other features its modules import}."""
    graph: dict[str, set[str]] = {}
    for package in sorted(path for path in BLUEPRINTS.iterdir() if (path / "__init__.py").exists()):
        targets = graph.setdefault(package.name, set())
        for module in package.rglob("*.py"):
            for node in ast.walk(ast.parse(module.read_text(), str(module))):
                if isinstance(node, ast.ImportFrom) and node.level == 2 and node.module:
                    targets.add(node.module.split(".")[0])  # from ..bookings import state
                elif isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("app.blueprints."):
                    targets.add(node.module.split(".")[2])
        targets.discard(package.name)
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Every dependency path that comes back to where it started (each found once, from its smallest name)."""
    found = []

    def walk(path: list[str]) -> None:
        for target in sorted(graph.get(path[-1], ())):
            if target == path[0]:
                found.append(path + [target])
            elif target not in path and target > path[0]:
                walk(path + [target])

    for start in sorted(graph):
        walk([start])
    return found


def test_feature_packages_depend_on_each_other_one_way():
    graph = feature_imports()
    assert {"auth", "listings", "bookings", "payments"} <= graph.keys()
    assert cycles(graph) == [], "feature packages that import each other back: " + "; ".join(
        " -> ".join(path) for path in cycles(graph))


def test_payments_build_on_bookings_and_bookings_know_nothing_of_payments():
    graph = feature_imports()
    assert "bookings" in graph["payments"] and "payments" not in graph["bookings"]


def test_the_cycle_finder_finds_a_cycle_through_three_packages():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c", "a"]]
