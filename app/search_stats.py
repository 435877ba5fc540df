"""Searches answered per day (UTC), counted in Redis under abode:stats:searches:<YYYY-MM-DD> for the admin
analytics' search-to-booking conversion. Without Redis nothing is counted (the analytics page says so); a Redis
failure never fails a search."""

from __future__ import annotations

import logging
from datetime import date

import redis

from .models.base import utcnow
from .redis_client import get_redis

logger = logging.getLogger(__name__)

KEY_PREFIX = "abode:stats:searches:"
KEEP_SECONDS = 400 * 86400  # a little over a year of days to compare


def key_for(day: date) -> str:
    return f"{KEY_PREFIX}{day.isoformat()}"


def count_search() -> None:
    """Add one to today's counter (a no-op without Redis)."""
    client = get_redis()
    if client is None:
        return
    key = key_for(utcnow().date())
    try:
        with client.pipeline(transaction=False) as pipe:
            pipe.incr(key).expire(key, KEEP_SECONDS).execute()
    except redis.RedisError as exc:
        logger.warning("search not counted: %s", exc)


def searches_on(days: list[date]) -> dict[date, int] | None:
    """{day: searches} for `days` (one MGET), or None when the app runs without Redis or it cannot be read."""
    client = get_redis()
    if client is None:
        return None
    if not days:
        return {}
    try:
        values = client.mget([key_for(day) for day in days])
    except redis.RedisError as exc:
        logger.warning("search counts unreadable: %s", exc)
        return None
    return {day: int(value or 0) for day, value in zip(days, values, strict=True)}
