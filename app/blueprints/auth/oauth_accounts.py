"""The account rules of signing in with an outside provider, one place for the browser and the mobile apps.

A returning person is found by (provider, subject) only, never by name or email. A new person becomes a guest. An
existing password account with the same email is linked only when the provider vouches for the email; otherwise
the person signs in with the password and links the provider from the profile. A suspended account is refused as
a password login is. A new account takes the provider's name and picture (stored as an uploaded photo would be).

From the profile a signed-in person links more providers and unlinks them, but never the last way to sign in.
"""

from __future__ import annotations

import io
import logging

from flask import current_app
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from ...errors import Conflict, DomainError, NotFoundError
from ...extensions import db
from ...locking import locked
from ...models import OAuthIdentity, User, utcnow
from .oauth_providers import PROVIDERS, ProviderIdentity, fetch_picture, is_configured
from .profiles import update_profile
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


class AlreadyLinked(Conflict):
    """409 identity_taken: this provider account belongs to another Abode account, or the user has another one."""

    code = "identity_taken"


class LastSignInMethod(Conflict):
    """409 last_sign_in_method: unlinking would leave the account with no way to sign in."""

    code = "last_sign_in_method"


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
    if created and identity.picture:
        import_picture(user, identity.picture)
    return user, created


def _first_sign_in(identity: ProviderIdentity) -> tuple[User, bool]:
    """Link the identity to the account with its email (when vouched for) or to a new guest account."""
    email = _usable_email(identity.email)
    existing = find_user_by_email(email) if email else None
    if existing is not None:
        if not identity.email_verified:
            logger.warning("%s sign-in meets user %s with an unvouched email", identity.provider, existing.id)
            raise LinkRequired(identity.provider)
        existing = locked(User, existing.id)  # one link of this account at a time (a profile link may race)
        ensure_active(existing)
        current = _identity_at(existing, identity.provider)
        if current is not None and current.subject == identity.subject:
            return existing, False  # a simultaneous first sign-in of this person linked it a moment ago
        if current is not None:
            # Another account at this provider opens it already (a reused mailbox, a new Google account): the
            # person proves the account is theirs with another way in first.
            logger.warning("%s sign-in meets user %s, linked to another %s account", identity.provider,
                           existing.id, identity.provider)
            raise LinkRequired(identity.provider)
        user, created = existing, False
    elif email is None:
        raise EmailRequired(identity.provider)
    else:
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


def _identity_at(user: User, provider: str) -> OAuthIdentity | None:
    return db.session.scalar(select(OAuthIdentity).where(OAuthIdentity.user_id == user.id,
                                                         OAuthIdentity.provider == provider))


def _other_ways_in(user: User, provider: str, identities: list[OAuthIdentity] | None = None) -> int:
    """How many ways besides `provider` open the account: its password, and providers linked and offered here (a
    provider whose credentials were removed opens nothing). `identities`: the user's, when already read."""
    rows = identities_of(user) if identities is None else identities
    others = [row.provider for row in rows if row.provider != provider and is_configured(row.provider)]
    return len(others) + (1 if user.password_hash else 0)


def sign_in_methods(user: User) -> list[dict]:
    """The profile's "Sign-in methods": each provider that is offered or linked, with its link (or None) and whether
    it may be linked or unlinked now (never the last way in)."""
    identities = identities_of(user)
    linked = {row.provider: row for row in identities}
    return [{"provider": name, "label": label, "identity": linked.get(name), "can_link": is_configured(name),
             "can_unlink": name in linked and _other_ways_in(user, name, identities) > 0}
            for name, label in PROVIDERS.items() if name in linked or is_configured(name)]


def identities_of(user: User) -> list[OAuthIdentity]:
    """The user's linked provider accounts, oldest first."""
    return list(db.session.scalars(select(OAuthIdentity).where(OAuthIdentity.user_id == user.id)
                                   .order_by(OAuthIdentity.created_at, OAuthIdentity.id)))


def link_identity(user: User, identity: ProviderIdentity) -> tuple[OAuthIdentity, bool]:
    """Link a provider account to the signed-in `user` (who proved it by signing in there just now).

    The email need not match the account's: the person is signed in to both. Raises AlreadyLinked (409
    identity_taken) when that provider account opens another Abode account, or `user` already has a different
    account at that provider (unlink it first). Linking the same one again changes nothing. Returns (the link,
    whether it is new).
    """
    try:
        locked(User, user.id)  # one link or unlink of this user at a time
        owner = linked_user(identity.provider, identity.subject)
        label = PROVIDERS[identity.provider]
        if owner is not None and owner.id != user.id:
            raise AlreadyLinked(f"This {label} account signs in to another Abode account. Sign in there and unlink "
                                "it first.")
        current = _identity_at(user, identity.provider)
        if current is not None and current.subject != identity.subject:
            raise AlreadyLinked(f"Another {label} account is linked to yours. Unlink it first.")
        created = current is None
        if created:
            current = OAuthIdentity(user_id=user.id, provider=identity.provider, subject=identity.subject,
                                    email=_usable_email(identity.email))
            db.session.add(current)
            logger.info("user %s linked %s", user.id, identity.provider)
        db.session.commit()
    except IntegrityError:  # the same provider account linked to someone else a moment ago
        db.session.rollback()
        raise AlreadyLinked(f"This {PROVIDERS[identity.provider]} account signs in to another Abode account.") \
            from None
    except Exception:
        db.session.rollback()
        raise
    return current, created


def unlink_identity(user: User, provider: str) -> None:
    """Unlink `user`'s account at `provider`. Raises NotFoundError when none is linked, LastSignInMethod (409) when
    it is the account's only way in (no password, no other provider)."""
    try:
        locked(User, user.id)  # two unlinks at once must not each leave the other as the last way in
        row = _identity_at(user, provider)
        if row is None:
            raise NotFoundError(f"No {PROVIDERS.get(provider, provider)} account is linked to yours.")
        if not _other_ways_in(user, provider):
            raise LastSignInMethod(f"{PROVIDERS[provider]} is the only way you sign in. Link another provider "
                                   "first.")
        db.session.delete(row)
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    logger.info("user %s unlinked %s", user.id, provider)


def import_picture(user: User, url: str) -> None:
    """Make the provider's picture the new account's profile photo, stored and checked as an upload is; a picture
    that cannot be fetched, is not an image or cannot be stored is skipped (the person can upload one)."""
    data = fetch_picture(url, current_app.config["AVATAR_MAX_BYTES"])
    if data is None:
        return
    try:
        update_profile(user, photo=io.BytesIO(data))
    except Exception as exc:  # noqa: BLE001  (not an image, storage down: the sign-in stands, without a photo)
        logger.info("user %s: provider picture not stored (%s)", user.id, type(exc).__name__)
