"""Live delivery of new notifications to open streams (GET /api/v1/notifications/stream).

One hub per process keeps each open stream's queue, by user. With Redis, `publish` sends every committed
notification on one pub/sub channel and ONE listener thread per process (started with the first stream) hands each
message to the local queues of its user's streams, so a notification committed in any process reaches a stream held
by any other, and an idle stream costs a blocked thread and a queue, not a Redis connection. Without Redis the hub
hands the notification straight to the local queues (one process is all there is).

A stream subscribes before it reads what it missed, so nothing falls between; when the listener loses Redis it
reconnects and tells every stream to look in the database for what it may have missed meanwhile (RESYNC).
"""

from __future__ import annotations

import json
import logging
import queue
import threading
import time

import redis
from flask import current_app

from ...errors import ServiceUnavailable
from ...redis_client import get_redis

logger = logging.getLogger(__name__)

RESYNC = object()  # put in a queue: the listener may have missed messages; read the database
RECONNECT_SECONDS = 1.0


class StreamsFull(ServiceUnavailable):
    """This process already holds as many streams as it may."""


class Subscription:
    """One open stream: its user and the queue the hub fills."""

    def __init__(self, user_id: int):
        self.user_id = user_id
        self.queue: queue.Queue = queue.Queue(maxsize=1000)

    def put(self, item: object) -> None:
        try:
            self.queue.put_nowait(item)
        except queue.Full:  # a stuck client: it will read the database on resync instead
            logger.warning("stream queue of user %s is full; dropping a live event", self.user_id)


class Hub:
    """The streams one process holds, and (with Redis) the one listener thread that feeds them."""

    def __init__(self, redis_url: str | None, channel: str):
        self.redis_url, self.channel = redis_url, channel
        self._lock = threading.Lock()
        self._by_user: dict[int, set[Subscription]] = {}
        self._count = 0
        self._listener: threading.Thread | None = None

    @property
    def open_streams(self) -> int:
        return self._count

    def subscribe(self, user_id: int, cap: int, retry_after: int) -> Subscription:
        """A new subscription of `user_id`. Raises StreamsFull when `cap` streams are open already."""
        with self._lock:
            if self._count >= cap:
                raise StreamsFull("Too many live streams on this server; reconnect shortly.",
                                  headers={"Retry-After": str(retry_after)})
            subscription = Subscription(user_id)
            self._by_user.setdefault(user_id, set()).add(subscription)
            self._count += 1
            if self.redis_url and (self._listener is None or not self._listener.is_alive()):
                self._listener = threading.Thread(target=self._listen, name="notifications-listener", daemon=True)
                self._listener.start()
        return subscription

    def unsubscribe(self, subscription: Subscription) -> None:
        with self._lock:
            streams = self._by_user.get(subscription.user_id, set())
            if subscription in streams:
                streams.discard(subscription)
                self._count -= 1
            if not streams:
                self._by_user.pop(subscription.user_id, None)

    def dispatch(self, user_id: int, payload: dict) -> None:
        """Hand one notification to the local streams of its user."""
        with self._lock:
            streams = list(self._by_user.get(user_id, ()))
        for subscription in streams:
            subscription.put(payload)

    def _resync_all(self) -> None:
        with self._lock:
            streams = [s for subs in self._by_user.values() for s in subs]
        for subscription in streams:
            subscription.put(RESYNC)

    def _listen(self) -> None:
        """The listener thread: subscribe, fan out, and reconnect if Redis goes away. After every (re)subscribe
        each stream re-reads the database, for what was committed while nobody listened. Ends once no stream is
        open (checked under the lock subscribe takes), so an idle process holds no Redis connection."""
        while True:
            try:
                self._relay()
            except (redis.RedisError, OSError, ValueError):
                logger.warning("notification listener lost Redis; reconnecting", exc_info=True)
                time.sleep(RECONNECT_SECONDS)
            with self._lock:
                if not self._count:
                    self._listener = None
                    return

    def _relay(self) -> None:
        client = redis.Redis.from_url(self.redis_url, socket_connect_timeout=2, health_check_interval=30)
        pubsub = client.pubsub()
        try:
            pubsub.subscribe(self.channel)
            deadline = time.monotonic() + 5
            while time.monotonic() < deadline:  # Redis has taken the subscription once it confirms it
                confirmed = pubsub.get_message(timeout=1.0)
                if confirmed and confirmed["type"] == "subscribe":
                    break
            self._resync_all()
            while self._count:
                message = pubsub.get_message(timeout=1.0)
                if message and message["type"] == "message":
                    event = json.loads(message["data"])
                    self.dispatch(int(event["user_id"]), event["notification"])
        finally:
            pubsub.close()
            client.close()


_hubs: dict[tuple[str | None, str], Hub] = {}
_hubs_lock = threading.Lock()


def channel_name(client: redis.Redis | None) -> str:
    """The pub/sub channel: pub/sub ignores Redis's numbered databases, so the number is part of the name and
    apps sharing a Redis server on different databases do not hear each other."""
    number = client.connection_pool.connection_kwargs.get("db", 0) if client is not None else 0
    return f"abode:{number}:notifications"


def hub() -> Hub:
    """This process's hub for the current app's Redis (one per Redis URL and database)."""
    client = get_redis()
    url = current_app.config.get("REDIS_URL") if client is not None else None
    key = (url, channel_name(client))
    with _hubs_lock:
        if key not in _hubs:
            _hubs[key] = Hub(url, key[1])
        return _hubs[key]


def publish(events: list[tuple[int, dict]]) -> None:
    """Send each (user id, notification JSON) to that user's open streams, in every app process. Called after
    the commit that wrote them; must not touch the database session."""
    client = get_redis()
    if client is None:
        local = hub()
        for user_id, payload in events:
            local.dispatch(user_id, payload)
        return
    channel = channel_name(client)
    pipe = client.pipeline(transaction=False)
    for user_id, payload in events:
        pipe.publish(channel, json.dumps({"user_id": user_id, "notification": payload}))
    pipe.execute()
