"""The search result cache and its version: every write that changes what search shows bumps the version.

An entry is stored as (version, body) under a key that does not contain the version, and a lookup reads the
current version and the entry in one round trip (get_many is one MGET on Redis): an entry written under an
older version is a miss. So a write makes every cached search stale at once, with no KEYS scans, and a hit
costs a single cache read.
"""

from __future__ import annotations

import logging
import uuid

from .extensions import cache

logger = logging.getLogger(__name__)

VERSION_KEY = "search:version"


def _create_version() -> str:
    cache.add(VERSION_KEY, uuid.uuid4().hex, timeout=0)  # add: a concurrent first use keeps the other's token
    return cache.get(VERSION_KEY)


def lookup(key: str) -> tuple[str | None, str | None]:
    """(cached body or None, current version or None): None for the version when the cache is unreachable."""
    try:
        token, entry = cache.get_many(VERSION_KEY, key)
        if token is None:
            return None, _create_version()
    except Exception:  # a cache outage slows search down, it does not break it
        logger.warning("search cache read failed", exc_info=True)
        return None, None
    if isinstance(entry, tuple) and len(entry) == 2 and entry[0] == token:
        return entry[1], token
    return None, token


def store(key: str, token: str | None, body: str, timeout: int) -> None:
    """Keep `body` for `key` as computed under version `token` (read by lookup before the query ran)."""
    if token is None:
        return
    try:
        cache.set(key, (token, body), timeout=timeout)
    except Exception:
        logger.warning("search cache write failed", exc_info=True)


def bump() -> None:
    """Make every cached search stale at once: the next search misses and sees the change."""
    try:
        cache.set(VERSION_KEY, uuid.uuid4().hex, timeout=0)
    except Exception:  # the cache being down must not fail a write that the database already committed
        logger.warning("could not bump the search version", exc_info=True)
