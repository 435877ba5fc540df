"""Rate limits of the routes that write or search (Flask-Limiter, counters in Redis with REDIS_URL).

A write is counted per account (the API token's user or the browser's), so one person cannot flood bookings,
payments, reviews or uploads from many addresses, and people sharing an address (an office, a carrier's NAT) do not
spend each other's budget; without a signed-in user it falls back to the client address (the one PROXY_COUNT
trusted proxies report). Search is counted per address, generously. Each limit is a Flask-Limiter string in
config (`N per M minutes`, several joined with `;`); the API and the pages of one action share one budget.
A refused request is 429 rate_limited with Retry-After (app/errors.py).

The sign-in routes have their own rules (blueprints/auth/throttle.py): failures per email and per address.
"""

from __future__ import annotations

from collections.abc import Callable

from flask import current_app
from flask_jwt_extended import get_jwt_identity
from flask_limiter.util import get_remote_address
from flask_login import current_user

from .extensions import limiter

# scope -> the setting that holds its limit; the scope names the budget the API and the pages share
WRITE_LIMITS = {"booking": "BOOKING_RATE_LIMIT", "payment": "PAYMENT_RATE_LIMIT", "review": "REVIEW_RATE_LIMIT",
                "upload": "UPLOAD_RATE_LIMIT", "listing": "LISTING_RATE_LIMIT"}


def account_or_address() -> str:
    """The limiter key of a write: the signed-in account, else the client address."""
    try:
        identity = get_jwt_identity()  # set by the API's login_required, which runs before the limit
    except RuntimeError:  # no JWT verified in this request (a page)
        identity = None
    if identity is None and current_user and current_user.is_authenticated:
        identity = current_user.get_id()
    return f"user:{identity}" if identity is not None else f"addr:{get_remote_address()}"


def write_limit(scope: str) -> Callable:
    """Limit a write route by WRITE_LIMITS[scope] per account; only POST, PUT, PATCH and DELETE count (a page that
    shows the form on GET is free)."""
    setting = WRITE_LIMITS[scope]
    return limiter.shared_limit(lambda: current_app.config[setting], scope=f"write-{scope}",
                                key_func=account_or_address, methods=["POST", "PUT", "PATCH", "DELETE"])


def search_limit(view: Callable) -> Callable:
    """Limit a search route by SEARCH_RATE_LIMIT per client address."""
    return limiter.shared_limit(lambda: current_app.config["SEARCH_RATE_LIMIT"], scope="search",
                                key_func=get_remote_address)(view)
