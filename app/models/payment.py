"""The money aggregate: guests' payments and their refunds, hosts' payouts, and the provider webhooks received."""

from __future__ import annotations

import secrets
from datetime import date, datetime

from sqlalchemy import BigInteger, CheckConstraint, Date, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..crypto import EncryptedText
from ..extensions import db
from .base import TimestampMixin

PAYMENT_STATUSES = ("requires_payment", "processing", "succeeded", "failed", "refunded", "partially_refunded")
PAYOUT_STATUSES = ("scheduled", "paid", "failed")
CHARGED = ("succeeded", "partially_refunded", "refunded")  # money was taken (some may have gone back since)


def provider_key(kind: str):
    """A column default: a random idempotency key for the provider, stored on the row and sent on every retry.

    Random rather than derived from the row id, so a restored database, or staging and production sharing one
    Stripe account, never sends a key that already names another charge, refund or payout.
    """
    return lambda: f"abode-{kind}-{secrets.token_hex(16)}"


class Payment(TimestampMixin, db.Model):
    """A guest's charge for a booking's total, in the booking's currency, through one provider.

    Card data never reaches Abode: the provider holds it; this row keeps the provider's reference. The unique
    (guest, idempotency key hash) makes a retried request find the first payment instead of charging again.
    """

    __tablename__ = "payments"
    __table_args__ = (
        UniqueConstraint("guest_id", "key_hash", name="uq_payments_guest_key_hash"),
        CheckConstraint("refunded_amount >= 0 AND refunded_amount <= amount", name="refund_within_amount"),
        Index("ix_payments_booking", "booking_id"),
        Index("ix_payments_provider_reference", "provider", "provider_reference"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    booking_id: Mapped[int] = mapped_column(ForeignKey("bookings.id"), nullable=False)
    guest_id: Mapped[int] = mapped_column(ForeignKey("users.id"), nullable=False)
    provider: Mapped[str] = mapped_column(String(10), nullable=False)
    provider_reference: Mapped[str | None] = mapped_column(String(255))
    provider_key: Mapped[str] = mapped_column(String(64), nullable=False, unique=True, default=provider_key("payment"))
    payment_method: Mapped[str | None] = mapped_column(String(255))  # as sent (pm_card_visa): a retry re-sends it
    amount: Mapped[int] = mapped_column(BigInteger, nullable=False)
    currency: Mapped[str] = mapped_column(String(3), nullable=False)
    # processing: the provider is being asked, or did not answer (outcome unknown): no other payment may start
    status: Mapped[str] = mapped_column(String(20), nullable=False, default="requires_payment")
    # Succeeded refunds added up, written under the payment's row lock from its refund rows.
    refunded_amount: Mapped[int] = mapped_column(BigInteger, nullable=False, default=0)
    failure_code: Mapped[str | None] = mapped_column(String(40))
    failure_message: Mapped[str | None] = mapped_column(String(255))
    client_secret: Mapped[str | None] = mapped_column(EncryptedText)  # lets the guest's browser confirm
    key_hash: Mapped[str] = mapped_column(String(64), nullable=False)  # SHA-256 of the Idempotency-Key
    request_hash: Mapped[str] = mapped_column(String(64), nullable=False)  # of the body that key came with
    # While a request is talking to the provider about this payment: others wait for its answer until then.
    claimed_until: Mapped[datetime | None] = mapped_column()
    # The payment whose success paid the booking (one per booking): its refunds are the booking's refund.
    pays_booking: Mapped[bool] = mapped_column(nullable=False, default=False)
    charged_at: Mapped[datetime | None] = mapped_column()  # when it took the money (revenue_days counts it then)
    # When Abode closed it at the provider (a newer payment of the booking replaced it): it can no longer be charged.
    closed_at: Mapped[datetime | None] = mapped_column()

    booking = relationship("Booking", lazy="joined")
    refunds: Mapped[list[PaymentRefund]] = relationship(back_populates="payment", order_by="PaymentRefund.id")


class PaymentRefund(db.Model):
    """Money given back on a payment (a cancellation, a decline, an expiry)."""

    __tablename__ = "refunds"
    __table_args__ = (CheckConstraint("amount > 0", name="amount_positive"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    payment_id: Mapped[int] = mapped_column(ForeignKey("payments.id"), nullable=False, index=True)
    amount: Mapped[int] = mapped_column(BigInteger, nullable=False)
    currency: Mapped[str] = mapped_column(String(3), nullable=False)
    provider_reference: Mapped[str | None] = mapped_column(String(255))
    # pending (owed; retried after next_attempt_at), succeeded, failed (the provider refused: needs a person)
    status: Mapped[str] = mapped_column(String(10), nullable=False, default="pending")
    provider_key: Mapped[str] = mapped_column(String(64), nullable=False, unique=True, default=provider_key("refund"))
    attempts: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column()
    claimed_until: Mapped[datetime | None] = mapped_column()  # a sender holds it until then (see Payout)
    last_error: Mapped[str | None] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(nullable=False)
    succeeded_at: Mapped[datetime | None] = mapped_column()

    payment: Mapped[Payment] = relationship(back_populates="refunds")


class Payout(TimestampMixin, db.Model):
    """What a host is paid for a booking: its total minus the service fee, less what went back to the guest."""

    __tablename__ = "payouts"
    __table_args__ = (
        UniqueConstraint("booking_id", name="uq_payouts_booking"),
        Index("ix_payouts_host", "host_id", "scheduled_for"),
        Index("ix_payouts_status_next", "status", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    booking_id: Mapped[int] = mapped_column(ForeignKey("bookings.id"), nullable=False)
    host_id: Mapped[int] = mapped_column(ForeignKey("users.id"), nullable=False)
    amount: Mapped[int] = mapped_column(BigInteger, nullable=False)
    currency: Mapped[str] = mapped_column(String(3), nullable=False)
    status: Mapped[str] = mapped_column(String(10), nullable=False, default="scheduled")
    scheduled_for: Mapped[date] = mapped_column(Date, nullable=False)
    next_attempt_at: Mapped[datetime | None] = mapped_column()
    attempts: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    last_error: Mapped[str | None] = mapped_column(String(255))
    provider: Mapped[str] = mapped_column(String(10), nullable=False)
    provider_key: Mapped[str] = mapped_column(String(64), nullable=False, unique=True, default=provider_key("payout"))
    provider_reference: Mapped[str | None] = mapped_column(String(255))
    # A job sending it holds it until then; past that (the job died mid-call) the next run asks again, with the
    # same provider_key, so the provider answers with what it did the first time.
    claimed_until: Mapped[datetime | None] = mapped_column()
    paid_at: Mapped[datetime | None] = mapped_column()


class RevenueDay(db.Model):
    """The money that moved on one UTC day in one currency, added to by each event in its own transaction
    (payments/revenue.py): summed over every day it is the ledger's totals, which /admin/stats reports."""

    __tablename__ = "revenue_days"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    currency: Mapped[str] = mapped_column(String(3), primary_key=True)
    charged: Mapped[int] = mapped_column(BigInteger, nullable=False, default=0)  # payments that took money
    refunded: Mapped[int] = mapped_column(BigInteger, nullable=False, default=0)  # refunds that went through
    service_fees: Mapped[int] = mapped_column(BigInteger, nullable=False, default=0)  # change in fees kept
    paid_out: Mapped[int] = mapped_column(BigInteger, nullable=False, default=0)  # payouts paid


class WebhookEvent(db.Model):
    """A provider event already handled: the same event delivered again is recognised and ignored."""

    __tablename__ = "webhook_events"
    __table_args__ = (UniqueConstraint("provider", "event_id", name="uq_webhook_events_provider_event"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    provider: Mapped[str] = mapped_column(String(10), nullable=False)
    event_id: Mapped[str] = mapped_column(String(255), nullable=False)
    type: Mapped[str] = mapped_column(String(100), nullable=False)
    received_at: Mapped[datetime] = mapped_column(nullable=False)
