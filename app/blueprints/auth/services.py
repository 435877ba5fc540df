"""Account rules: registration, sign-in (charged on the sign-in budgets), tokens and logout, ending sessions,
setting passwords, suspension and roles."""

from __future__ import annotations

import logging
import re

from email_validator import EmailNotValidError, validate_email
from flask import current_app
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from ... import audit
from ...errors import Conflict, DomainError, Unauthorized, ValidationFailed
from ...extensions import db
from ...models import ROLES, User, utcnow
from . import tokens
from .login_limits import charge_password_check
from .passwords import hash_password, needs_rehash, verify_password

logger = logging.getLogger(__name__)

PASSWORD_MIN, PASSWORD_MAX = 10, 128
NAME_MAX, BIO_MAX, EMAIL_MAX, PHONE_MAX = 100, 2000, 254, 32
PHONE_PATTERN = re.compile(r"^\+?[0-9][0-9 ().-]{5,24}$")
SELF_SERVICE_ROLES = ("guest", "host")


class AccountSuspended(DomainError):
    status_code, code = 403, "account_suspended"


class EmailTaken(Conflict):
    code = "email_taken"

    def __init__(self) -> None:
        message = "An account with this email already exists."
        super().__init__(message, fields={"email": [message]})


def normalise_email(email: str) -> str:
    """Return the canonical, lower-cased form of `email`; raises ValidationFailed when it is not an address."""
    try:
        result = validate_email(email, check_deliverability=False)
    except EmailNotValidError as exc:
        raise ValidationFailed({"email": [str(exc)]}) from None
    return result.normalized.lower()


def validate_password(password: str) -> None:
    """Raise ValidationFailed unless the password has 10 to 128 characters and is not all blank."""
    if len(password) < PASSWORD_MIN:
        raise ValidationFailed({"password": [f"Use at least {PASSWORD_MIN} characters."]})
    if len(password) > PASSWORD_MAX:
        raise ValidationFailed({"password": [f"Use at most {PASSWORD_MAX} characters."]})
    if not password.strip():
        raise ValidationFailed({"password": ["The password cannot be only spaces."]})


def find_user_by_email(email: str) -> User | None:
    """The user with this address (any case), or None."""
    try:
        normalised = normalise_email(email)
    except ValidationFailed:
        return None
    return db.session.scalar(select(User).where(User.email == normalised))


def register_user(*, email: str, password: str, name: str, role: str = "guest") -> User:
    """Create and return a guest or host account. Raises ValidationFailed, Conflict(email_taken)."""
    email = normalise_email(email)
    name = name.strip()
    if not name:
        raise ValidationFailed({"name": ["Enter your name."]})
    if role not in SELF_SERVICE_ROLES:
        raise ValidationFailed({"role": ["Choose guest or host."]})
    validate_password(password)
    if db.session.scalar(select(User.id).where(User.email == email)) is not None:
        raise EmailTaken()
    user = User(email=email, name=name[:NAME_MAX], role=role, password_hash=hash_password(password),
                preferred_currency=current_app.config["DEFAULT_CURRENCY"])
    db.session.add(user)
    try:
        db.session.commit()
    except IntegrityError:  # a concurrent sign-up with the same address won the unique key
        db.session.rollback()
        raise EmailTaken() from None
    logger.info("user %s registered as %s", user.id, role)
    return user


def email_key(email: object) -> str:
    """The key under which sign-in attempts at `email` are counted: normalised like accounts are, so every spelling
    of one address shares a budget (ASCII, for the limiter's storage)."""
    if not isinstance(email, str):
        return ""
    email = email.strip()[:EMAIL_MAX]
    try:
        email = normalise_email(email)
    except ValidationFailed:
        email = email.lower()
    return email.encode("utf-8", "backslashreplace").decode("ascii", "backslashreplace")


def check_password(user: User | None, email: object, password: str, *, address: str | None,
                    device: tuple[str, set[int]] | None) -> bool:
    """Verify `password` for `user` (None: an unknown email, checked against a dummy hash), after charging the
    sign-in budgets of the email and the client `address` (None: not throttled, e.g. a command). `device` is the
    client's known-device cookie (device id, ids of the accounts it signed in to). Raises RateLimited (429)."""
    charge = None
    if address is not None:
        known = device[0] if device and user is not None and user.id in device[1] else None
        charge = charge_password_check(email=email_key(email), address=address, known_device=known)
    ok = verify_password(user.password_hash if user else None, password)
    if ok and charge is not None:
        charge.refund()
    return ok


def authenticate(*, email: str, password: str, address: str | None = None,
                 device: tuple[str, set[int]] | None = None) -> User:
    """Return the user these credentials belong to. The attempt is charged before the password is checked (see
    login_limits.py), so the API and the log-in page share one budget per email and per client address.
    Raises Unauthorized(invalid_credentials), AccountSuspended, RateLimited."""
    user = find_user_by_email(email) if isinstance(email, str) else None
    if not check_password(user, email, password, address=address, device=device):
        logger.warning("failed login for user %s", user.id if user else "unknown")
        raise Unauthorized("Email or password is incorrect.", code="invalid_credentials")
    ensure_active(user)
    if needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    user.last_login_at = utcnow()
    db.session.commit()
    logger.info("user %s logged in", user.id)
    return user


def ensure_active(user: User) -> None:
    """Raise AccountSuspended when the account is suspended."""
    if not user.is_active:
        raise AccountSuspended("This account is suspended.")


def start_session(user: User) -> dict[str, str]:
    """Issue a fresh access/refresh pair (a new token family) for a signed-in user."""
    pair = tokens.issue_tokens(user)
    db.session.commit()
    return pair


def refresh_session(*, user: User, payload: dict) -> dict[str, str]:
    """Rotate a refresh token: the old one dies, a new pair in its family is returned.

    A refresh token presented twice revokes its whole family (it was stolen or replayed) and raises Unauthorized.
    """
    ensure_active(user)
    if not tokens.consume_refresh_token(payload["jti"]):
        tokens.revoke_family(payload["fam"])
        db.session.commit()
        logger.warning("refresh token reuse for user %s: family revoked", user.id)
        raise Unauthorized("This refresh token was already used or revoked; sign in again.")
    pair = tokens.issue_tokens(user, family=payload["fam"])
    db.session.commit()
    return pair


def logout(payload: dict) -> None:
    """Revoke the presented token and its whole family (its refresh tokens and access tokens)."""
    tokens.revoke_access_token(payload)
    if payload.get("fam"):
        tokens.revoke_family(payload["fam"])
    db.session.commit()
    logger.info("user %s logged out", payload.get("sub"))


def end_sessions(user: User) -> None:
    """Void every access and refresh token and browser session of `user` issued until now (tokens_valid_after,
    checked on each request by identity.py); the caller commits and signs the current client in again if it
    should stay signed in."""
    user.tokens_valid_after = utcnow()
    tokens.revoke_user_refresh_tokens(user)


def set_password(user: User, password: str, *, field: str = "password") -> None:
    """Give `user` this password and end every older session and token; the caller commits. Raises
    ValidationFailed (naming `field`) for a weak password."""
    try:
        validate_password(password)
    except ValidationFailed as exc:
        raise ValidationFailed({field: exc.fields["password"]}) from None
    user.password_hash = hash_password(password)
    end_sessions(user)


class LastAdmin(Conflict):
    """409: the change would leave an admin unable to act (themselves) or the marketplace without an admin."""


def _check_admin_change(user: User, actor: User | None, *, removes_admin: bool, what: str) -> None:
    """An admin cannot suspend or demote themselves, and the last active admin cannot be removed (409)."""
    if actor is not None and actor.id == user.id and removes_admin:
        raise LastAdmin(f"You cannot {what} your own account; ask another admin.")
    if removes_admin and user.role == "admin" and user.is_active:
        others = db.session.scalar(select(func.count()).select_from(User).where(
            User.role == "admin", User.is_active.is_(True), User.id != user.id).with_for_update())
        if not others:
            raise LastAdmin(f"This is the last active admin: make another admin before you {what} it.")


def set_active(user: User, active: bool, *, actor: User | None = None) -> User:
    """Suspend or reinstate an account and return it; with `actor` (an admin) the change is audited in the same
    transaction. Raises LastAdmin (409) for an admin suspending themselves or the last active admin.

    A suspended user's tokens and sessions are refused (403 account_suspended) from their next request on,
    because every request loads the user and checks is_active; tokens and browser sessions issued before the
    suspension stay dead after a reinstatement (401 / signed out: the session id carries tokens_valid_after, see
    User.get_id), so the user signs in again.
    """
    try:
        _check_admin_change(user, actor, removes_admin=not active, what="suspend")
        before = user.is_active
        user.is_active = active
        if not active:
            end_sessions(user)
        if actor is not None and before != active:
            audit.record(actor, "user.reactivate" if active else "user.suspend", "user", user.id,
                         {"is_active": (before, active)})
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    logger.info("user %s %s", user.id, "reinstated" if active else "suspended")
    return user


def set_role(user: User, role: str, *, actor: User) -> User:
    """An admin changes an account's role (promote to admin, or back to host or guest), audited with it. Raises
    ValidationFailed for an unknown role, LastAdmin (409) for demoting oneself or the last active admin."""
    if role not in ROLES:
        raise ValidationFailed({"role": [f"must be one of {', '.join(ROLES)}"]})
    try:
        _check_admin_change(user, actor, removes_admin=user.role == "admin" and role != "admin", what="demote")
        before = user.role
        if before != role:
            user.role = role
            audit.record(actor, "user.role", "user", user.id, {"role": (before, role)})
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    logger.info("user %s is now %s", user.id, role)
    return user


def create_admin(*, email: str, password: str, name: str = "Administrator") -> User:
    """Create an admin account, or promote the existing account with that email and give it this password (every
    older session and token of it ends). Returns the user. Raises ValidationFailed."""
    user = find_user_by_email(email)
    validate_password(password)
    if user is None:
        user = User(email=normalise_email(email), name=name)
        db.session.add(user)
    user.role = "admin"
    user.is_active = True
    set_password(user, password)
    db.session.commit()
    logger.info("user %s is an admin", user.id)
    return user
