"""Email delivery from the outbox."""

from __future__ import annotations


def enqueue(outbox_ids: list[int]) -> None:
    """Hand the committed outbox rows to the worker. Called from the session's after_commit event: must not use
    the database session of the caller."""
