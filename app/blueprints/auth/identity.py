"""Who is calling: JWT loaders for the API and the Flask-Login user loader for the browser, and the start of a
browser session."""

from __future__ import annotations

from flask import Flask, g, redirect, request, session, url_for
from flask_jwt_extended import decode_token
from flask_login import login_user

from ...errors import Unauthorized, api_error, is_api_request
from ...extensions import db, jwt, login_manager
from ...models import User
from ...models.user import session_stamp
from . import tokens
from .services import AccountSuspended


def _unauthorized(message: str):
    return api_error(401, "unauthorized", message, headers={"WWW-Authenticate": "Bearer"})


# What a new browser session keeps of the one before sign-in: messages still to show. Everything else (a CSRF token,
# a planted value, an unfinished sign-in's state) is dropped, so nothing anyone set before the sign-in survives it.
SURVIVES_SIGN_IN = ("_flashes",)


def begin_browser_session(user: User, *, remember: bool = False) -> None:
    """Sign `user` in to this browser in a new session: Flask's session is a signed cookie, so "a new session id"
    is a cookie whose every value is new (session fixation: nothing set before the sign-in carries over)."""
    kept = {key: session[key] for key in SURVIVES_SIGN_IN if key in session}
    session.clear()
    session.update(kept)
    g.pop("csrf_token", None)  # Flask-WTF's copy of the old session's CSRF token: a form rendered now gets a new one
    login_user(user, remember=remember)


def refuse_suspended_bearer() -> None:
    """Before every API request: a valid Bearer token of a suspended account is refused (403 account_suspended)
    even on routes that anyone may call, instead of being ignored there. Other bad tokens are left to the routes
    that need a token (a public route answers as to an anonymous caller)."""
    header = request.headers.get("Authorization", "")
    if not is_api_request() or not header.startswith("Bearer "):
        return
    try:
        payload = decode_token(header[7:].strip())
    except Exception:  # expired, forged, malformed: not this hook's business
        return
    sub = str(payload.get("sub", ""))
    user = db.session.get(User, int(sub)) if sub.isdigit() and len(sub) < 19 else None
    if user is not None and not user.is_active:
        raise AccountSuspended("This account is suspended.")


def init_identity(app: Flask) -> None:
    """Wire Flask-JWT-Extended and Flask-Login to the users table and the token blocklist."""
    app.before_request(refuse_suspended_bearer)
    login_manager.login_view = "auth.login"
    login_manager.login_message_category = "info"

    @login_manager.user_loader
    def load_session_user(user_id: str) -> User | None:
        # A suspended user's session ends on their next request, and one from before a suspension, a password
        # change or reset or "sign out everywhere" stays dead (also after a reinstatement): the session id carries
        # the user's tokens_valid_after (User.get_id).
        number, _, stamp = user_id.partition(":")
        user = db.session.get(User, int(number)) if number.isdigit() and stamp.isdigit() else None
        if user is None or not user.is_active or int(stamp) != session_stamp(user.tokens_valid_after):
            return None
        return user

    @login_manager.unauthorized_handler
    def browser_unauthorized():
        if is_api_request():
            return _unauthorized("Sign in first.")
        return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))

    @jwt.user_lookup_loader
    def load_token_user(_header: dict, payload: dict) -> User | None:
        sub = payload.get("sub", "")
        user = db.session.get(User, int(sub)) if str(sub).isdigit() else None
        if user is not None and not user.is_active:
            raise AccountSuspended("This account is suspended.")
        if user is not None and tokens.issued_before_cutoff(user, payload):
            raise Unauthorized("This token was revoked; sign in again.")
        return user

    @jwt.token_in_blocklist_loader
    def token_revoked(_header: dict, payload: dict) -> bool:
        return tokens.is_revoked(payload)

    jwt.user_lookup_error_loader(lambda _h, _p: _unauthorized("The account behind this token no longer exists."))
    jwt.revoked_token_loader(lambda _h, _p: _unauthorized("This token has been revoked."))
    jwt.expired_token_loader(lambda _h, _p: _unauthorized("This token has expired."))
    jwt.invalid_token_loader(lambda reason: _unauthorized(f"Invalid token: {reason}."))
    jwt.unauthorized_loader(lambda reason: _unauthorized("Authentication required: send a Bearer token."))
    jwt.needs_fresh_token_loader(lambda _h, _p: _unauthorized("A fresh sign-in is required."))
    jwt.token_verification_failed_loader(lambda _h, _p: _unauthorized("Token verification failed."))
