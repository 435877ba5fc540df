"""The house's shape: feature packages depend on each other one way only (docs/architecture.md).

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


def test_the_calendar_sits_between_bookings_and_listings():
    """payments -> bookings -> calendar -> listings -> auth: search reads the calendar; listings know nothing of it."""
    graph = feature_imports()
    assert "calendar" in graph["bookings"] and "listings" in graph["calendar"]
    assert "calendar" in graph["search"]
    assert not graph["calendar"] & {"bookings", "payments", "search"}
    assert not graph["listings"] & {"calendar", "bookings", "payments", "search"}


def test_only_the_calendar_writes_night_holds_and_night_prices():
    """Inserts, deletes and updates of the calendar's tables appear in no other feature package."""
    writes = ("insert(NightHold", "delete(NightHold", "update(NightHold", "NightHold(", "insert(NightPrice",
              "delete(NightPrice", "update(NightPrice", "NightPrice(")
    offenders = [str(module.relative_to(BLUEPRINTS)) for module in BLUEPRINTS.rglob("*.py")
                 if module.relative_to(BLUEPRINTS).parts[0] != "calendar"
                 and any(write in module.read_text() for write in writes)]
    assert offenders == []


def test_notifications_sit_on_top_and_nothing_below_imports_them_or_reviews():
    """Bookings, payments and reviews announce (signals); notifications listens. No lower part imports it."""
    graph = feature_imports()
    assert {"bookings", "payments", "reviews"} <= graph["notifications"]
    assert not any({"notifications"} & imports for feature, imports in graph.items() if feature != "notifications")
    assert not graph["bookings"] & {"reviews", "notifications", "payments"}
    assert not graph["payments"] & {"reviews", "notifications"}


def test_every_notification_type_is_written_from_one_receiver():
    """Each type is named in exactly one notify(...) call, all of them in notifications/receivers.py."""
    from app.models import NOTIFICATION_TYPES

    calls = {}
    for module in BLUEPRINTS.rglob("*.py"):
        for type_ in NOTIFICATION_TYPES:
            count = module.read_text().count(f'"{type_}", ') if "notify(" in module.read_text() else 0
            if count:
                calls.setdefault(type_, []).append((str(module.relative_to(BLUEPRINTS)), count))
    assert calls == {type_: [("notifications/receivers.py", calls[type_][0][1])] for type_ in NOTIFICATION_TYPES}
    assert all(count == 1 or type_ in ("booking_confirmed", "booking_canceled")
               for type_, [(_module, count)] in calls.items())
