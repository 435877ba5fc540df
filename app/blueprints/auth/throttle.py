"""Sign-in throttling at the doors: who the client is (its address and its signed "known device" cookie) for the
budgets of login_limits.py, and Flask-Limiter's per-address limits of the other account routes."""

from __future__ import annotations

import secrets
from collections.abc import Callable

from flask import after_this_request, current_app, request
from flask_limiter.util import get_remote_address
from itsdangerous import BadSignature, URLSafeSerializer

from ...extensions import limiter
from ...models import User

DEVICE_COOKIE = "abode_device"
DEVICE_SALT = "abode.auth.known-device"
DEVICE_ACCOUNTS = 10  # accounts one browser remembers having signed in to


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt=DEVICE_SALT)


def client_address() -> str:
    """The client's address as the rate limits see it (behind PROXY_COUNT proxies, the client's own)."""
    return get_remote_address()


def known_device() -> tuple[str, set[int]] | None:
    """(device id, ids of the accounts that signed in from it) from the signed cookie, or None."""
    try:
        data = _serializer().loads(request.cookies.get(DEVICE_COOKIE, ""))
    except BadSignature:
        return None
    if not isinstance(data, dict) or not isinstance(data.get("d"), str) or not isinstance(data.get("u"), list):
        return None
    return data["d"], {n for n in data["u"] if type(n) is int}


def remember_device(user: User) -> None:
    """After this response, the client carries a signed cookie saying that `user` signed in from it: its later
    password checks for that account are throttled on a budget of their own (login_limits.py)."""
    device, accounts = known_device() or (secrets.token_urlsafe(16), set())
    ids = [user.id] + [n for n in sorted(accounts) if n != user.id][: DEVICE_ACCOUNTS - 1]
    value = _serializer().dumps({"d": device, "u": ids})

    @after_this_request
    def set_cookie(response):
        config = current_app.config
        response.set_cookie(DEVICE_COOKIE, value, max_age=config["KNOWN_DEVICE_DAYS"] * 86400, httponly=True,
                            samesite="Lax", secure=config.get("SESSION_COOKIE_SECURE", False))
        return response


def auth_rate_limit(view: Callable) -> Callable:
    """The general per-address limit of the account routes (register, refresh, password reset)."""
    return limiter.limit(lambda: current_app.config["AUTH_RATE_LIMIT"], scope="auth")(view)

