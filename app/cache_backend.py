"""The Redis cache backend the app uses: an unreachable Redis is a cache miss, logged, never an error.

Flask-Caching's RedisCache raises redis errors to the caller; everything the cache holds here (search answers,
admin figures) can be recomputed, so `SafeRedisCache` answers a miss (None, False) instead and logs a warning.
The one user that must know the difference, the OAuth flow state (a lost state is a refused sign-in), reads
and writes through `strict_cache`, which raises as before.
"""

from __future__ import annotations

import logging
from typing import Any

from flask_caching.backends.rediscache import RedisCache
from redis.exceptions import RedisError

from .extensions import cache

logger = logging.getLogger(__name__)

# method -> what a miss answers
_MISS: dict[str, Any] = {"get": None, "get_many": None, "has": False, "set": False, "add": False,
                         "set_many": [], "delete": False, "delete_many": [], "clear": False, "inc": None,
                         "dec": None}


class SafeRedisCache(RedisCache):
    """RedisCache whose operations turn a Redis failure into a miss (CACHE_TYPE="app.cache_backend.SafeRedisCache")."""

    def _miss(self, name: str, args: tuple, exc: RedisError) -> Any:
        logger.warning("cache %s failed, treated as a miss: %s", name, exc)
        if name == "get_many":
            return [None] * len(args)
        return _MISS[name]


def _safe(name: str):
    strict = getattr(RedisCache, name)

    def method(self, *args, **kwargs):
        try:
            return strict(self, *args, **kwargs)
        except RedisError as exc:
            return self._miss(name, args, exc)

    method.__name__ = name
    method.__doc__ = f"RedisCache.{name}, with a miss when Redis cannot be reached."
    return method


for _name in _MISS:
    setattr(SafeRedisCache, _name, _safe(_name))


class _StrictCache:
    """The current app's cache without the miss-on-failure: Redis errors reach the caller."""

    def __getattr__(self, name: str):
        backend = cache.cache
        if isinstance(backend, SafeRedisCache) and name in _MISS:
            strict = getattr(RedisCache, name)
            return lambda *args, **kwargs: strict(backend, *args, **kwargs)
        return getattr(cache, name)


strict_cache = _StrictCache()
