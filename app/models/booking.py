"""The bookings aggregate: a guest's stay at a listing, its frozen price, and the idempotency keys of creation."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import BigInteger, CheckConstraint, Date, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .base import TimestampMixin

BOOKING_STATUSES = ("pending", "confirmed", "completed", "canceled")
ACTIVE_BOOKING_STATUSES = ("pending", "confirmed")  # a listing with such a booking ahead cannot be deleted
# Who or what canceled a booking: it decides the refund (docs/api.md "Bookings").
CANCELERS = ("guest", "host", "admin", "declined", "expired")


class Booking(TimestampMixin, db.Model):
    """A stay. The price is frozen at creation, in the listing's currency and minor units.

    While pending or confirmed, its nights are rows of night_holds with its id: the calendar's primary key is
    what keeps two bookings off one night. Every status change goes through bookings/state.py.
    """

    __tablename__ = "bookings"
    __table_args__ = (
        CheckConstraint("check_out > check_in", name="dates_in_order"),
        CheckConstraint("total_amount = nightly_amount + cleaning_fee_amount + service_fee_amount",
                        name="total_adds_up"),
        Index("ix_bookings_guest_check_in", "guest_id", "check_in"),
        # A listing's bookings by date; with status, the analytics' nights per listing over a long range, index only.
        Index("ix_bookings_listing_stay", "listing_id", "check_in", "check_out", "status"),
        Index("ix_bookings_status_expires", "status", "expires_at"),
        # Completing due stays; and the admin analytics' nights booked in a range, read from the index alone.
        Index("ix_bookings_status_stay", "status", "check_out", "check_in", "listing_id", "city"),
        Index("ix_bookings_created_nights", "created_at", "nights"),  # the analytics' per-day GROUP BY, index only
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    listing_id: Mapped[int] = mapped_column(ForeignKey("listings.id"), nullable=False)
    guest_id: Mapped[int] = mapped_column(ForeignKey("users.id"), nullable=False)
    check_in: Mapped[date] = mapped_column(Date, nullable=False)
    check_out: Mapped[date] = mapped_column(Date, nullable=False)
    nights: Mapped[int] = mapped_column(Integer, nullable=False)
    guests: Mapped[int] = mapped_column(Integer, nullable=False)
    status: Mapped[str] = mapped_column(String(10), nullable=False, default="pending")
    currency: Mapped[str] = mapped_column(String(3), nullable=False)
    # Amounts in minor units; BIGINT, as a long stay at a high nightly price in yen passes 2**31.
    nightly_amount: Mapped[int] = mapped_column(BigInteger, nullable=False)  # all nights together
    cleaning_fee_amount: Mapped[int] = mapped_column(BigInteger, nullable=False)
    service_fee_amount: Mapped[int] = mapped_column(BigInteger, nullable=False)
    total_amount: Mapped[int] = mapped_column(BigInteger, nullable=False)
    cancellation_policy: Mapped[str] = mapped_column(String(10), nullable=False)
    instant_book: Mapped[bool] = mapped_column(nullable=False)
    # The listing's time zone when it was booked: check-in, check-out and the refund deadline stay where they were
    # promised even if the host later moves the listing to another zone.
    timezone: Mapped[str] = mapped_column(String(64), nullable=False, default="UTC")
    # The listing's city when it was booked: the admin analytics group stays by it from an index alone.
    city: Mapped[str] = mapped_column(String(100), nullable=False, default="", server_default="")
    paid_amount: Mapped[int] = mapped_column(BigInteger, nullable=False, default=0)
    paid_at: Mapped[datetime | None] = mapped_column()
    expires_at: Mapped[datetime | None] = mapped_column()  # UTC; while pending
    approved_at: Mapped[datetime | None] = mapped_column()
    completed_at: Mapped[datetime | None] = mapped_column()
    canceled_at: Mapped[datetime | None] = mapped_column()
    canceled_by: Mapped[str | None] = mapped_column(String(10))  # one of CANCELERS
    cancel_reason: Mapped[str | None] = mapped_column(String(500))
    refund_amount: Mapped[int | None] = mapped_column(BigInteger)  # set when canceled
    # The service fee Abode keeps, as last counted in revenue_days (payments/revenue.py): 0 until it settles.
    fee_kept_amount: Mapped[int] = mapped_column(BigInteger, nullable=False, default=0, server_default="0")

    listing = relationship("Listing", lazy="joined")
    guest = relationship("User", lazy="joined")

    @property
    def paid(self) -> bool:
        return self.paid_at is not None

    @property
    def awaiting_approval(self) -> bool:
        """A request-to-book booking, paid, waiting for its host's answer."""
        return self.status == "pending" and self.paid and not self.instant_book


class IdempotencyKey(db.Model):
    """The first answer to a create request carrying an Idempotency-Key: a retry gets the same booking."""

    __tablename__ = "idempotency_keys"
    __table_args__ = (UniqueConstraint("user_id", "key_hash", name="uq_idempotency_keys_user_key_hash"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), nullable=False)
    # SHA-256 of the key as sent: "Abc", "abc" and "abc " stay three keys whatever the collation.
    key_hash: Mapped[str] = mapped_column(String(64), nullable=False)
    request_hash: Mapped[str] = mapped_column(String(64), nullable=False)
    booking_id: Mapped[int] = mapped_column(ForeignKey("bookings.id", ondelete="CASCADE"), nullable=False)
    created_at: Mapped[datetime] = mapped_column(nullable=False)
