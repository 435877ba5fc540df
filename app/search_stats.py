"""Searches answered per day (UTC) for the admin analytics' search-to-booking conversion: counted in Redis under
abode:stats:searches:<YYYY-MM-DD> when REDIS_URL is set, else in the database (search_days, one upsert per
search), so the embedded defaults have the figure too. A failure to count never fails a search."""

from __future__ import annotations

import logging
from datetime import date

import redis
from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError

from .extensions import db
from .models import SearchDay
from .models.base import utcnow
from .redis_client import get_redis
from .upsert import upsert

logger = logging.getLogger(__name__)

KEY_PREFIX = "abode:stats:searches:"
KEEP_SECONDS = 400 * 86400  # a little over a year of days to compare


def key_for(day: date) -> str:
    return f"{KEY_PREFIX}{day.isoformat()}"


def count_search() -> None:
    """Add one to today's counter: in Redis, or without it in search_days (on a connection and in a transaction of
    its own, so the request's session is neither committed nor rolled back by the count)."""
    client = get_redis()
    if client is None:
        _count_in_database(utcnow().date())
        return
    key = key_for(utcnow().date())
    try:
        with client.pipeline(transaction=False) as pipe:
            pipe.incr(key).expire(key, KEEP_SECONDS).execute()
    except redis.RedisError as exc:
        logger.warning("search not counted: %s", exc)


def _count_in_database(day: date) -> None:
    try:
        with db.engine.begin() as conn:
            # one statement: parallel searches never lose a count nor clash on the first row of a day
            conn.execute(upsert(SearchDay.__table__, [{"day": day, "searches": 1}], ("day",), add=("searches",)))
    except SQLAlchemyError as exc:
        logger.warning("search not counted: %s", exc)


def searches_on(days: list[date]) -> dict[date, int] | None:
    """{day: searches} for `days` (one MGET, or one SELECT without Redis); None when Redis cannot be read."""
    if not days:
        return {}
    client = get_redis()
    if client is None:
        rows = db.session.execute(select(SearchDay.day, SearchDay.searches)
                                  .where(SearchDay.day >= min(days), SearchDay.day <= max(days)))
        found = dict(rows.all())
        return {day: int(found.get(day, 0)) for day in days}
    try:
        values = client.mget([key_for(day) for day in days])
    except redis.RedisError as exc:
        logger.warning("search counts unreadable: %s", exc)
        return None
    return {day: int(value or 0) for day, value in zip(days, values, strict=True)}
