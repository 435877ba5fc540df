"""The account rules of signing in with an outside provider, one place for the browser and the mobile apps.

A returning person is found by (provider, subject) only, never by name or email. A new person becomes a guest. An
existing password account with the same email is linked only when the provider vouches for the email; otherwise
the person signs in with the password and links the provider from the profile. A suspended account is refused as
a password login is.
"""

from __future__ import annotations

import logging

from flask import current_app
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from ...errors import Conflict, DomainError
from ...extensions import db
from ...models import OAuthIdentity, User, utcnow
from .oauth_providers import PROVIDERS, ProviderIdentity
from .services import NAME_MAX, ensure_active, find_user_by_email, normalise_email

logger = logging.getLogger(__name__)

ATTEMPTS = 2  # a first sign-in that lost a race to a concurrent one is run once more, and then finds its winner


class LinkRequired(Conflict):
    """409 email_taken: a password account has this email and the provider does not vouch for it."""

    code = "email_taken"

    def __init__(self, provider: str) -> None:
        label = PROVIDERS[provider]
        super().__init__(f"An account with this email already exists. Sign in with your password, then link "
                         f"{label} from your profile.")


class EmailRequired(DomainError):
    """422 email_required: a new account needs an email address and the provider gave none."""

    status_code, code = 422, "email_required"

    def __init__(self, provider: str) -> None:
        super().__init__(f"{PROVIDERS[provider]} did not share an email address. Allow Abode to see it, or sign "
                         "up with an email and a password.")


def linked_user(provider: str, subject: str) -> User | None:
    """The user whose identity at `provider` is `subject`, or None."""
    return db.session.scalar(select(User).join(OAuthIdentity).where(
        OAuthIdentity.provider == provider, OAuthIdentity.subject == subject))


def sign_in_with_identity(identity: ProviderIdentity) -> tuple[User, bool]:
    """Sign in the person a provider vouched for, creating or linking their account in one transaction.

    Returns (user, created). Raises AccountSuspended (403), LinkRequired (409 email_taken), EmailRequired (422).
    Two simultaneous first sign-ins of one person make one account: the unique keys on users.email and
    (provider, subject) refuse the second, which then runs again and finds the first's account.
    """
    for attempt in range(ATTEMPTS):
        try:
            return _sign_in(identity)
        except IntegrityError:
            db.session.rollback()
            if attempt == ATTEMPTS - 1:
                raise
            logger.info("%s first sign-in raced another; looking again", identity.provider)
        except Exception:
            db.session.rollback()
            raise
    raise AssertionError("unreachable")


def _sign_in(identity: ProviderIdentity) -> tuple[User, bool]:
    user = linked_user(identity.provider, identity.subject)
    created = False
    if user is not None:
        ensure_active(user)
    else:
        user, created = _first_sign_in(identity)
    user.last_login_at = utcnow()
    db.session.commit()
    logger.info("user %s signed in with %s%s", user.id, identity.provider, " (new account)" if created else "")
    return user, created


def _first_sign_in(identity: ProviderIdentity) -> tuple[User, bool]:
    """Link the identity to the account with its email (when vouched for) or to a new guest account."""
    email = _usable_email(identity.email)
    existing = find_user_by_email(email) if email else None
    if existing is not None:
        if not identity.email_verified:
            logger.warning("%s sign-in meets user %s with an unvouched email", identity.provider, existing.id)
            raise LinkRequired(identity.provider)
        ensure_active(existing)
        user, created = existing, False
    elif email is None:
        raise EmailRequired(identity.provider)
    else:
        # The provider's picture is not kept: avatars are images in our storage (avatar_key), not outside URLs.
        name = identity.name.strip()[:NAME_MAX] or email.split("@", 1)[0][:NAME_MAX]
        user = User(email=email, name=name, role="guest", password_hash=None,
                    preferred_currency=current_app.config["DEFAULT_CURRENCY"])
        db.session.add(user)
        created = True
    db.session.add(OAuthIdentity(user=user, provider=identity.provider, subject=identity.subject, email=email))
    db.session.flush()  # the unique keys speak now, inside the retry
    return user, created


def _usable_email(email: str | None) -> str | None:
    if not email:
        return None
    try:
        return normalise_email(email)
    except DomainError:
        return None
