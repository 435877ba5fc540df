"""Live delivery of new notifications to open streams (GET /api/v1/notifications/stream)."""

from __future__ import annotations


def publish(events: list[tuple[int, dict]]) -> None:
    """Send each (user id, notification JSON) to that user's open streams, in every app process. Called after
    the commit that wrote them; must not touch the database session."""
