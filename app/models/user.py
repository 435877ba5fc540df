"""The users aggregate: accounts, their linked sign-in identities, refresh-token families and the token blocklist."""

from __future__ import annotations

from datetime import datetime

from flask_login import UserMixin
from sqlalchemy import DateTime, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.dialects.mysql import DATETIME, VARCHAR
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..crypto import EncryptedText
from ..extensions import db
from .base import TimestampMixin, utcnow

ROLES = ("guest", "host", "admin")


def session_stamp(instant: datetime | None) -> int:
    """tokens_valid_after as whole microseconds since the epoch (0 when never set), for session ids."""
    return int((instant - datetime(1970, 1, 1)).total_seconds() * 1_000_000) if instant else 0


class User(UserMixin, TimestampMixin, db.Model):
    """A person using Abode; a host may also book, an admin runs the marketplace."""

    __tablename__ = "users"
    __table_args__ = (Index("ix_users_created_at_role", "created_at", "role"),)  # admin analytics: joins per day

    id: Mapped[int] = mapped_column(primary_key=True)
    # Stored normalised and lower-cased, so the unique key is case-insensitive on every back end; compared exactly
    # (binary collation) on MariaDB, whose default collation would equate "bö@x.com" with "bo@x.com".
    email: Mapped[str] = mapped_column(
        String(254).with_variant(VARCHAR(254, collation="utf8mb4_bin"), "mysql", "mariadb"), unique=True,
        nullable=False)
    password_hash: Mapped[str | None] = mapped_column(String(255))
    name: Mapped[str] = mapped_column(String(100), nullable=False)
    role: Mapped[str] = mapped_column(String(10), nullable=False, default="guest")
    is_active: Mapped[bool] = mapped_column(default=True, nullable=False)
    phone: Mapped[str | None] = mapped_column(EncryptedText)  # contact data, encrypted at rest
    # Where a host's payouts go: a Stripe connected account id, a PayPal email; None until the host sets it
    # (payments/payout_accounts.py). payout_provider says whose it is ("stripe", "paypal"); it is not secret.
    payout_account: Mapped[str | None] = mapped_column(EncryptedText)
    payout_provider: Mapped[str | None] = mapped_column(String(10))
    bio: Mapped[str | None] = mapped_column(Text)
    avatar_key: Mapped[str | None] = mapped_column(String(255))
    preferred_currency: Mapped[str] = mapped_column(String(3), nullable=False, default="USD")
    preferred_language: Mapped[str] = mapped_column(String(10), nullable=False, default="en")
    last_login_at: Mapped[datetime | None] = mapped_column()
    # Tokens and browser sessions issued before this instant are refused: set on suspension (so reinstating revives
    # none of them), on every password change or reset, and by "sign out everywhere" (auth.services.end_sessions).
    tokens_valid_after: Mapped[datetime | None] = mapped_column(
        DateTime().with_variant(DATETIME(fsp=6), "mysql", "mariadb"))  # microseconds: tokens carry them too

    refresh_tokens: Mapped[list[RefreshToken]] = relationship(back_populates="user", cascade="all, delete-orphan",
                                                              passive_deletes=True)
    oauth_identities: Mapped[list[OAuthIdentity]] = relationship(back_populates="user", cascade="all, delete-orphan",
                                                                 passive_deletes=True)

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"

    @property
    def is_host(self) -> bool:
        return self.role in ("host", "admin")

    def get_id(self) -> str:
        """The browser session's id for Flask-Login: the user's id and the instant before which their sessions are
        void (tokens_valid_after, set on suspension, a password change or reset, "sign out everywhere"), so such a
        session stays dead, even after a reinstatement (identity.load_session_user compares them)."""
        return f"{self.id}:{session_stamp(self.tokens_valid_after)}"

    def has_role(self, *roles: str) -> bool:
        """True when the user's role is one of `roles`."""
        return self.role in roles

    def __repr__(self) -> str:
        return f"<User {self.id} {self.role}>"


class RefreshToken(db.Model):
    """One issued refresh token; tokens rotated from one login share a family."""

    __tablename__ = "refresh_tokens"
    __table_args__ = (Index("ix_refresh_tokens_family", "family"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    jti: Mapped[str] = mapped_column(String(36), unique=True, nullable=False)
    family: Mapped[str] = mapped_column(String(36), nullable=False)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, nullable=False)
    expires_at: Mapped[datetime] = mapped_column(nullable=False)
    used_at: Mapped[datetime | None] = mapped_column()
    revoked_at: Mapped[datetime | None] = mapped_column()

    user: Mapped[User] = relationship(back_populates="refresh_tokens")


class RevokedToken(db.Model):
    """Database blocklist (used when REDIS_URL is unset): a revoked access jti or token family."""

    __tablename__ = "revoked_tokens"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    expires_at: Mapped[datetime] = mapped_column(nullable=False, index=True)


class OAuthIdentity(db.Model):
    """A sign-in identity at an outside provider (Google, Facebook) linked to a user.

    A returning person is found by (provider, subject) alone, the provider's stable id for them; the email is what
    the provider said when the identity was linked, kept for the profile page, never used to find the person.
    """

    __tablename__ = "oauth_identities"
    # (provider, subject): one Abode account per provider account; (user_id, provider): one account per provider
    # per Abode account, so "unlink Google" names one row and a second Google account cannot slip in.
    __table_args__ = (UniqueConstraint("provider", "subject"), UniqueConstraint("user_id", "provider"))

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True)
    provider: Mapped[str] = mapped_column(String(20), nullable=False)
    # Compared exactly: a subject is an opaque, case-sensitive id ("sub" in OpenID Connect, Facebook's user id).
    subject: Mapped[str] = mapped_column(
        String(255).with_variant(VARCHAR(255, collation="utf8mb4_bin"), "mysql", "mariadb"), nullable=False)
    email: Mapped[str | None] = mapped_column(String(254))
    created_at: Mapped[datetime] = mapped_column(default=utcnow, nullable=False)

    user: Mapped[User] = relationship(back_populates="oauth_identities")


class PasswordReset(db.Model):
    """A password reset link sent by email: works once, for PASSWORD_RESET_MINUTES (an hour).

    The database never holds the link's token: only `token_hash` (SHA-256 of the token) to check it, and `nonce`,
    from which the email, written later by a deliverer, derives the token with the app's SECRET_KEY (an HMAC), so
    a copy of the database alone cannot reset anyone's password (auth/password_reset.py).
    """

    __tablename__ = "password_resets"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True)
    nonce: Mapped[str] = mapped_column(String(64), nullable=False)
    token_hash: Mapped[str] = mapped_column(String(64), nullable=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, nullable=False)
    expires_at: Mapped[datetime] = mapped_column(nullable=False, index=True)
    used_at: Mapped[datetime | None] = mapped_column()

    user: Mapped[User] = relationship()
