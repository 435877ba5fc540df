"""Queries behind the discovery endpoints and the health check."""

from __future__ import annotations

import logging

from redis.exceptions import RedisError
from sqlalchemy import text

from ...extensions import cache, db
from ...redis_client import get_redis

logger = logging.getLogger(__name__)


def check_database() -> bool:
    """True when the database answers a trivial query."""
    try:
        db.session.execute(text("SELECT 1"))
        return True
    except Exception:  # any driver error means "down" here; the details go to the log
        logger.warning("health: database check failed", exc_info=True)
        db.session.rollback()
        return False


def check_cache() -> bool:
    """True when the cache stores and returns a value."""
    try:
        cache.set("health:probe", "ok", timeout=10)
        return cache.get("health:probe") == "ok"
    except Exception:
        logger.warning("health: cache check failed", exc_info=True)
        return False


def check_redis() -> str | None:
    """"ok" or "error" for REDIS_URL's server (rate limits, token blocklist, queue, live streams); None when the
    app runs without Redis."""
    client = get_redis()
    if client is None:
        return None
    try:
        client.ping()
        return "ok"
    except RedisError as exc:
        logger.warning("health: Redis check failed: %s", exc)
        return "error"
