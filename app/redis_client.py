"""The shared Redis connection (None without REDIS_URL), used by the token blocklist and the health check."""

from __future__ import annotations

import redis
from flask import Flask, current_app


def init_redis(app: Flask) -> None:
    """Create one connection pool per app when REDIS_URL is set."""
    url = app.config.get("REDIS_URL")
    app.extensions["abode_redis"] = (
        redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2, health_check_interval=30) if url else None
    )


def get_redis() -> redis.Redis | None:
    """The app's Redis client, or None when it runs without Redis."""
    return current_app.extensions.get("abode_redis")
