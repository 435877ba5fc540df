"""The event stream of a user's new notifications (text/event-stream), fed by the process's hub (live.py).

The view subscribes first, then reads what the client missed (ids above its Last-Event-ID), then releases its
database connection: an idle stream holds a thread and a queue, no session. The stream sends `retry:`, the missed
notifications oldest first, then each new one as it is published, a heartbeat comment when idle, and ends after
NOTIFICATION_STREAM_MAX_SECONDS (the client reconnects with Last-Event-ID) so workers can recycle.
"""

from __future__ import annotations

import json
import logging
import queue
import time
from collections.abc import Iterator

from flask import Flask, Response

from ...extensions import db
from . import queries
from .live import RESYNC, Hub, Subscription

logger = logging.getLogger(__name__)


def event_text(notification: dict) -> str:
    """One server-sent event: `id:` the notification's id, `data:` its JSON on one line."""
    return f"id: {notification['id']}\ndata: {json.dumps(notification, separators=(',', ':'))}\n\n"


class EventStream:
    """The response body of one stream. Closing it (the server does, when the client goes or the stream ends)
    gives its place back to the hub, even if it was never iterated."""

    def __init__(self, app: Flask, hub: Hub, subscription: Subscription, *, after_id: int, missed: list[dict]):
        self.app, self.hub, self.subscription = app, hub, subscription
        self.after_id, self.missed = after_id, missed
        config = app.config
        self.heartbeat = float(config["NOTIFICATION_STREAM_HEARTBEAT_SECONDS"])
        self.lifetime = float(config["NOTIFICATION_STREAM_MAX_SECONDS"])
        self.retry_ms = int(config["NOTIFICATION_STREAM_RETRY_MS"])
        self.sent: set[int] = set()

    def __iter__(self) -> Iterator[str]:
        return self._events()

    def close(self) -> None:
        self.hub.unsubscribe(self.subscription)

    def _new(self, notifications: list[dict]) -> Iterator[str]:
        # Skips what was sent already: the same notification may come from the database and from the hub.
        for notification in notifications:
            if notification["id"] not in self.sent:
                self.sent.add(notification["id"])
                yield event_text(notification)

    def _resync(self) -> list[dict]:
        with self.app.app_context():
            rows = queries.missed(self.subscription.user_id, self.after_id)
            db.session.remove()
        return rows

    def _events(self) -> Iterator[str]:
        try:
            yield f"retry: {self.retry_ms}\n\n"
            yield from self._new(self.missed)
            deadline = time.monotonic() + self.lifetime
            while (remaining := deadline - time.monotonic()) > 0:
                try:
                    item = self.subscription.queue.get(timeout=min(self.heartbeat, remaining))
                except queue.Empty:
                    if time.monotonic() < deadline:
                        yield ": heartbeat\n\n"
                    continue
                yield from self._new(self._resync() if item is RESYNC else [item])
        finally:
            self.close()


def open_stream(app: Flask, hub: Hub, user_id: int, last_event_id: int | None) -> Response:
    """The streaming response for `user_id`, resuming after `last_event_id` (None: from now on).
    Raises live.StreamsFull when the process holds its cap of streams."""
    config = app.config
    retry_after = max(1, int(config["NOTIFICATION_STREAM_RETRY_MS"]) // 1000)
    subscription = hub.subscribe(user_id, int(config["NOTIFICATION_STREAMS_PER_PROCESS"]), retry_after)
    try:
        after_id = last_event_id if last_event_id is not None else queries.badge(user_id)[1]
        missed = queries.missed(user_id, after_id)
    except Exception:
        hub.unsubscribe(subscription)
        raise
    finally:
        db.session.remove()  # nothing of the session is held across the wait
    logger.info("stream opened for user %s after id %s (%s open here)", user_id, after_id, hub.open_streams)
    body = EventStream(app, hub, subscription, after_id=after_id, missed=missed)
    return Response(body, mimetype="text/event-stream",
                    headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})
