"""Password reset by email: a link that works once, for PASSWORD_RESET_MINUTES, and ends every older session.

The link's token is `<row id>.<HMAC-SHA256 of the row's nonce under SECRET_KEY>`. The row keeps the nonce and the
token's SHA-256, never the token: the email, composed later by a deliverer from the outbox, derives the token
again (token_for), and a reset checks the hash. So a copy of the database alone opens no account. (Rotating
SECRET_KEY voids links not yet emailed: they are derived anew and no longer match their hash.)
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import secrets
from datetime import timedelta

from flask import current_app
from sqlalchemy import update

from ...errors import ValidationFailed
from ...extensions import db
from ...models import PasswordReset, User, utcnow
from . import signals
from .login_limits import charge_request
from .services import email_key, find_user_by_email, set_password, validate_password

logger = logging.getLogger(__name__)

BAD_LINK = "This reset link is not valid any more (used, expired or mistyped): ask for a new one."


def token_for(reset: PasswordReset) -> str:
    """The token of a reset's link, derived from its nonce with SECRET_KEY."""
    mac = hmac.new(current_app.config["SECRET_KEY"].encode(), f"password-reset:{reset.id}:{reset.nonce}".encode(),
                   hashlib.sha256).digest()
    return f"{reset.id}.{base64.urlsafe_b64encode(mac).rstrip(b'=').decode()}"


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "backslashreplace")).hexdigest()


def request_password_reset(email: str, *, address: str | None) -> None:
    """Email a reset link to the account with this email, if there is an active one; the same for any email, so
    the answer tells nobody which accounts exist. Counted per client `address` and per email
    (PASSWORD_RESET_ADDRESS_LIMIT, PASSWORD_RESET_EMAIL_LIMIT). Raises RateLimited."""
    config = current_app.config
    if address is not None:
        charge_request(config["PASSWORD_RESET_ADDRESS_LIMIT"], "reset-address", address)
        charge_request(config["PASSWORD_RESET_EMAIL_LIMIT"], "reset-email", email_key(email))
    user = find_user_by_email(email) if isinstance(email, str) else None
    if user is None or not user.is_active:
        logger.info("password reset asked for an unknown or suspended account")
        return
    now = utcnow()
    reset = PasswordReset(user_id=user.id, nonce=secrets.token_hex(32), token_hash="", created_at=now,
                          expires_at=now + timedelta(minutes=config["PASSWORD_RESET_MINUTES"]))
    db.session.add(reset)
    db.session.flush()
    reset.token_hash = _hash(token_for(reset))
    signals.password_reset_requested.send(reset, user=user)
    db.session.commit()
    logger.info("password reset %s made for user %s", reset.id, user.id)


def find_reset(token: object) -> PasswordReset | None:
    """The unused, unexpired reset this token opens, or None."""
    number, _, _mac = token.partition(".") if isinstance(token, str) else ("", "", "")
    reset = db.session.get(PasswordReset, int(number)) if number.isdigit() and len(number) < 19 else None
    if reset is None or not hmac.compare_digest(reset.token_hash, _hash(token)):
        return None
    if reset.used_at is not None or reset.expires_at <= utcnow():
        return None
    return reset


def is_usable(reset: PasswordReset | None) -> bool:
    """True when the link can still set a password: it exists and its account is active."""
    return reset is not None and reset.user is not None and reset.user.is_active


def reset_password(token: str, password: str) -> User:
    """Set the password of the account whose reset link this is; the link (and any other unused link of that
    account) stops working and every older session and token of the account ends. Returns the user.
    Raises ValidationFailed (422) for a weak password, or a used, expired or unknown token."""
    reset = find_reset(token)
    if not is_usable(reset):
        raise ValidationFailed({"token": [BAD_LINK]}, BAD_LINK)
    validate_password(password)
    used = db.session.execute(update(PasswordReset).where(PasswordReset.id == reset.id,
                                                          PasswordReset.used_at.is_(None))
                              .values(used_at=utcnow()).execution_options(synchronize_session=False)).rowcount
    if used != 1:  # another request used it first
        db.session.rollback()
        raise ValidationFailed({"token": [BAD_LINK]}, BAD_LINK)
    user = reset.user
    db.session.execute(update(PasswordReset).where(PasswordReset.user_id == user.id, PasswordReset.used_at.is_(None))
                       .values(used_at=utcnow()).execution_options(synchronize_session=False))
    set_password(user, password)
    db.session.commit()
    logger.info("user %s reset their password (reset %s)", user.id, reset.id)
    return user
