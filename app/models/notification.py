"""The notifications aggregate: what a user is told in the app, the emails still owed, and who wants which emails."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .base import utcnow

# Every type a notification may have (docs/api.md "Notifications"); each is written from exactly one place
# (notifications/receivers.py). Beside each, how people are told about its emails: the profile page's checkbox
# ("A booking is confirmed") and the email's own "you get emails about ..." / unsubscribe wording.
NOTIFICATION_LABELS: dict[str, tuple[str, str]] = {
    "booking_requested": ("A guest asks to book one of my places", "new booking requests"),
    "booking_confirmed": ("A booking is confirmed", "confirmed bookings"),
    "booking_declined": ("A host declines my request to book", "declined booking requests"),
    "booking_canceled": ("A booking is canceled", "canceled bookings"),
    "stay_completed": ("A stay is over (a reminder to leave a review)", "finished stays"),
    "payment_succeeded": ("My payment went through", "payments received"),
    "payment_failed": ("My payment did not go through", "failed payments"),
    "payout_paid": ("A payout is on its way to me", "payouts sent"),
    "payout_failed": ("A payout to me could not be sent", "failed payouts"),
    "review_received": ("A guest reviews one of my places", "new reviews"),
    "review_response": ("A host replies to my review", "replies to your reviews"),
    "listing_unpublished": ("Abode takes one of my places down", "listings taken down"),
}
NOTIFICATION_TYPES = tuple(NOTIFICATION_LABELS)
OUTBOX_STATUSES = ("pending", "sent", "failed")


class Notification(db.Model):
    """One thing a user is told, in the app; written in the transaction of the change it is about."""

    __tablename__ = "notifications"
    __table_args__ = (Index("ix_notifications_user_read", "user_id", "read_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True)
    type: Mapped[str] = mapped_column(String(40), nullable=False)
    title: Mapped[str] = mapped_column(String(200), nullable=False)
    body: Mapped[str] = mapped_column(Text, nullable=False, default="")
    # What the notification is about (booking_id, listing_id, amounts as Money...) and `url`, the page's path.
    data: Mapped[dict] = mapped_column(JSON, nullable=False, default=dict)
    read_at: Mapped[datetime | None] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(default=utcnow, nullable=False)

    user = relationship("User")


class OutboxEmail(db.Model):
    """An email owed for a notification, or for a password reset link (password_reset_id, no notification): written
    with it, delivered by the worker or `jobs run-due`.

    A deliverer claims a row under its row lock (FOR UPDATE SKIP LOCKED on MariaDB), so two never send one row;
    the Message-ID is made from the row's id, so a resend after a crash is recognisable as the same email.
    Refusals and timeouts are retried at next_try_at with growing waits, then the row is `failed`.
    """

    __tablename__ = "outbox"
    __table_args__ = (Index("ix_outbox_status_next_try", "status", "next_try_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    notification_id: Mapped[int | None] = mapped_column(ForeignKey("notifications.id", ondelete="CASCADE"),
                                                        index=True)
    password_reset_id: Mapped[int | None] = mapped_column(ForeignKey("password_resets.id", ondelete="CASCADE"),
                                                          index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True)
    to_address: Mapped[str] = mapped_column(String(254), nullable=False)
    status: Mapped[str] = mapped_column(String(10), nullable=False, default="pending")
    attempts: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    next_try_at: Mapped[datetime] = mapped_column(default=utcnow, nullable=False)
    last_error: Mapped[str | None] = mapped_column(String(255))
    sent_at: Mapped[datetime | None] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(default=utcnow, nullable=False)

    notification: Mapped[Notification | None] = relationship()

    @property
    def kind(self) -> str:
        """What the email is: its notification's type, or "password_reset"."""
        return self.notification.type if self.notification is not None else "password_reset"


class NotificationPreference(db.Model):
    """A user's choice of email for one notification type (in-app is always on); no row means email on."""

    __tablename__ = "notification_preferences"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    type: Mapped[str] = mapped_column(String(40), primary_key=True)
    email: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
