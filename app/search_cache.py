"""The search result cache's version: every write that changes what search shows bumps it (no KEYS scans)."""

from __future__ import annotations

import logging
import uuid

from .extensions import cache

logger = logging.getLogger(__name__)

VERSION_KEY = "search:version"


def version() -> str:
    """The current search version token (created on first use)."""
    token = cache.get(VERSION_KEY)
    if token is None:
        token = uuid.uuid4().hex
        cache.add(VERSION_KEY, token, timeout=0)  # add: a concurrent first use keeps the other's token
        token = cache.get(VERSION_KEY) or token
    return token


def bump() -> None:
    """Make every cached search stale at once: the next search misses and sees the change."""
    try:
        cache.set(VERSION_KEY, uuid.uuid4().hex, timeout=0)
    except Exception:  # the cache being down must not fail a write that the database already committed
        logger.warning("could not bump the search version", exc_info=True)
