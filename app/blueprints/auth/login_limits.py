"""Password-guess budgets on Flask-Limiter's storage (Redis when REDIS_URL is set): charged before a password is
checked, so however many requests arrive at once, at most the budget's number of passwords are verified.

Three budgets, shared by every door that checks a password (the API's login, the log-in page, a password change):
- per client address (LOGIN_ADDRESS_FAILURE_LIMIT), against one client trying many accounts;
- per email (LOGIN_FAILURE_LIMIT), against many clients trying one account. When it runs out the email is held
  for the limit's period, then twice as long after the next exhausted budget, and so on (LOGIN_HOLD_MAX_HOURS at
  most): growing delays rather than a fixed lock-out, as ASVS 2.2.1 asks;
- per email and known device: a client that signed in to this account before (a signed cookie, throttle.py) is
  charged on a budget of its own instead of the email's, so strangers' guesses never hold the owner out.
A successful check gives its charge back, so only failures (and refused attempts) use a budget up.
"""

from __future__ import annotations

import functools
import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from flask import current_app
from limits import RateLimitItem, parse
from redis.exceptions import RedisError

from ...errors import RateLimited
from ...extensions import limiter

logger = logging.getLogger(__name__)

TOO_MANY = "Too many attempts. Wait a little and try again."


def _on_live_storage(function: Callable) -> Callable:
    """Run `function` on the limiter's storage; when Redis fails and the in-memory fallback is on
    (RATELIMIT_IN_MEMORY_FALLBACK_ENABLED), mark the storage dead as Flask-Limiter itself does on a failed check (it
    probes Redis again later and switches back) and run it once more on the in-memory counters."""

    @functools.wraps(function)
    def guarded(*args, **kwargs):
        try:
            return function(*args, **kwargs)
        except (RedisError, ConnectionError, TimeoutError):
            if not current_app.config.get("RATELIMIT_IN_MEMORY_FALLBACK_ENABLED") or limiter._storage_dead:
                raise
            logger.warning("sign-in budgets: Redis unreachable, counting in memory")
            limiter._storage_dead = True  # noqa: SLF001  (Flask-Limiter's own switch to its fallback limiter)
            return function(*args, **kwargs)

    return guarded


def _key(*parts: str) -> str:
    return "/".join((current_app.config["RATELIMIT_KEY_PREFIX"], *parts))


def _retry_after(item: RateLimitItem, *identifiers: str) -> int:
    reset = limiter.limiter.get_window_stats(item, *identifiers).reset_time
    return max(math.ceil(reset - time.time()), 1)


@dataclass
class Charge:
    """What one password check took from the budgets, to give back when it succeeded."""

    taken: list[tuple[RateLimitItem, tuple[str, ...]]] = field(default_factory=list)

    def refund(self) -> None:
        """Give back every unit taken (a successful check is not a failure)."""
        _on_live_storage(self._refund)()

    def _refund(self) -> None:
        for item, identifiers in self.taken:
            limiter.limiter.hit(item, *identifiers, cost=-1)
        self.taken.clear()


def _take(charge: Charge, item: RateLimitItem, *identifiers: str) -> bool:
    charge.taken.append((item, identifiers))
    return limiter.limiter.hit(item, *identifiers)


def _hold_seconds(email: str) -> int | None:
    """Seconds left on the email's hold, or None when it is not held."""
    storage, key = limiter.limiter.storage, _key("login-hold", email)
    if storage.get(key) <= 0:
        return None
    return max(math.ceil(storage.get_expiry(key) - time.time()), 1)


def _start_hold(email: str, window: int) -> int:
    """Hold the email for window × 2^(holds in the last day), capped; returns the hold's length in seconds. The
    hold outlasts the spent budget's window, so the budget is fresh when the hold ends."""
    storage = limiter.limiter.storage
    cap = current_app.config["LOGIN_HOLD_MAX_HOURS"] * 3600
    holds = storage.incr(_key("login-holds", email), cap + 86400)
    seconds = min(window * 2 ** min(holds - 1, 20), cap)
    storage.incr(_key("login-hold", email), seconds)
    return seconds


def _charge_email(charge: Charge, email: str) -> None:
    item = parse(current_app.config["LOGIN_FAILURE_LIMIT"])
    held = _hold_seconds(email)
    if held is not None:
        raise RateLimited(TOO_MANY, retry_after=held)
    # The count itself (not just "over or not"), so that of many requests at once only the first one past the
    # budget starts a hold: the others must not lengthen it.
    count = limiter.limiter.storage.incr(item.key_for("login-email", email), item.get_expiry())
    charge.taken.append((item, ("login-email", email)))
    if count <= item.amount:
        return
    if count == item.amount + 1:
        raise RateLimited(TOO_MANY, retry_after=_start_hold(email, item.get_expiry()))
    raise RateLimited(TOO_MANY, retry_after=_hold_seconds(email) or _retry_after(item, "login-email", email))


def _charge_address(charge: Charge, address: str) -> None:
    per_address = parse(current_app.config["LOGIN_ADDRESS_FAILURE_LIMIT"])
    if not _take(charge, per_address, "login-address", address):
        raise RateLimited(TOO_MANY, retry_after=_retry_after(per_address, "login-address", address))


@_on_live_storage
def charge_token_check(*, address: str) -> Charge:
    """Take one attempt from the client address's budget (the one failed password checks use) before a provider's
    token is verified; refund it when the token was good, so only refused tokens use the budget up. Raises
    RateLimited."""
    charge = Charge()
    if limiter.enabled:
        _charge_address(charge, address)
    return charge


@_on_live_storage
def charge_password_check(*, email: str, address: str, known_device: str | None) -> Charge:
    """Take one attempt from the budgets of this email (normalised), client address and known device (an id from
    the signed cookie of a client that signed in to this email before, else None) before a password is checked.
    Returns the Charge (refund it when the password was right). Raises RateLimited (429, Retry-After) when a
    budget is spent; then no password may be checked."""
    charge = Charge()
    if not limiter.enabled:
        return charge
    _charge_address(charge, address)
    if known_device is None:
        _charge_email(charge, email)
        return charge
    per_device = parse(current_app.config["LOGIN_FAILURE_LIMIT"])
    if not _take(charge, per_device, "login-device", email, known_device):
        raise RateLimited(TOO_MANY, retry_after=_retry_after(per_device, "login-device", email, known_device))
    return charge


@_on_live_storage
def charge_request(limit: str, *identifiers: str) -> None:
    """Count one request against `limit` (a Flask-Limiter string such as "3 per hour") for `identifiers`.
    Raises RateLimited when it is spent."""
    if not limiter.enabled:
        return
    item = parse(limit)
    if not limiter.limiter.hit(item, *identifiers):
        raise RateLimited(TOO_MANY, retry_after=_retry_after(item, *identifiers))
