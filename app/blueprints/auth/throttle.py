"""Rate limits for sign-in: failures counted per email and per client address (Flask-Limiter)."""

from __future__ import annotations

from collections.abc import Callable

from flask import current_app, g, request
from flask_limiter.util import get_remote_address

from ...errors import ValidationFailed
from ...extensions import limiter
from .services import normalise_email


def _submitted_email() -> str:
    """The limiter key of the address being tried: normalised like accounts are, so spellings share one budget."""
    try:
        data = request.get_json(silent=True) if request.is_json else request.form
    except RecursionError:
        data = None
    email = data.get("email") if hasattr(data, "get") else None
    if not isinstance(email, str):
        return "login-email:"
    email = email.strip()[:254]
    try:
        email = normalise_email(email)
    except ValidationFailed:
        email = email.lower()
    return "login-email:" + email.encode("utf-8", "backslashreplace").decode("ascii", "backslashreplace")


def _login_failed(response) -> bool:
    """Count only failed attempts: a 401 from the API, or the page flagging a failure."""
    return response.status_code == 401 or g.get("login_failed", False)


def mark_login_failed() -> None:
    """Called by the HTML view when it re-shows the form after wrong credentials."""
    g.login_failed = True


def login_throttle(view: Callable) -> Callable:
    """Refuse with 429 after LOGIN_FAILURE_LIMIT failures for one email or one client address."""
    per_email = limiter.limit(lambda: current_app.config["LOGIN_FAILURE_LIMIT"], key_func=_submitted_email,
                              deduct_when=_login_failed, scope="login-email", methods=["POST"])
    per_address = limiter.limit(lambda: current_app.config["LOGIN_ADDRESS_FAILURE_LIMIT"],
                                key_func=get_remote_address, deduct_when=_login_failed, scope="login-address",
                                methods=["POST"])
    return per_address(per_email(view))


def auth_rate_limit(view: Callable) -> Callable:
    """The general per-address limit of the account routes (register, refresh)."""
    return limiter.limit(lambda: current_app.config["AUTH_RATE_LIMIT"], scope="auth")(view)


def oauth_throttle(view: Callable) -> Callable:
    """The sign-in routes of outside providers: the general auth limit, and refused tokens counted against the
    client address in the same budget as failed password logins."""
    per_address = limiter.limit(lambda: current_app.config["LOGIN_ADDRESS_FAILURE_LIMIT"],
                                key_func=get_remote_address, deduct_when=_login_failed, scope="login-address",
                                methods=["POST"])
    return auth_rate_limit(per_address(view))
