"""Pinning races in tests: a pause that holds one step in place, and work run in a thread of its own."""

from __future__ import annotations

import threading
from collections.abc import Callable

from app.extensions import db


class Pause:
    """Holds the first caller of a wrapped function until `release()`: pins one step of a race in place."""

    def __init__(self) -> None:
        self.reached, self._go, self._lock, self._taken = threading.Event(), threading.Event(), threading.Lock(), False

    def wrap(self, function: Callable) -> Callable:
        def paused(*args, **kwargs):
            with self._lock:
                first, self._taken = not self._taken, True
            if first:
                self.reached.set()
                assert self._go.wait(30), "the paused step was never released"
            return function(*args, **kwargs)
        return paused

    def release(self) -> None:
        self._go.set()


def in_thread(app, work: Callable) -> tuple[threading.Thread, list]:
    """Start `work()` in a thread with an app context (and so a database session) of its own."""
    result: list = []

    def run() -> None:
        with app.app_context():
            try:
                result.append(work())
            finally:
                db.session.remove()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread, result
