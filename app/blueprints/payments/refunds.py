"""Refunds: what goes back to a guest is owed in the transaction that decides it, then sent by whoever claims it.

`owe_refund` adds the refund row inside the caller's transaction (a cancellation, a success the booking could no
longer take) and asks for it to be sent after the commit. `send_refund` claims the row first, so a cancellation's
own send, `jobs run-due` and any number of parallel runs send each refund once; the provider gets the row's own
idempotency key, so asking again after a crash refunds once. A payment's `refunded` is the sum of its succeeded
refund rows, written under the payment's row lock, never added to a value read earlier.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy import func, or_, select

from ... import transactions
from ...extensions import db
from ...locking import locked
from ...models import Payment, PaymentRefund, utcnow
from ...payment_providers import PaymentError, Refund, get_provider
from ..bookings import services as bookings
from . import revenue
from .claims import claim, each_row, is_free

logger = logging.getLogger(__name__)

RETRY_MINUTES, RETRY_MAX_MINUTES = 5, 24 * 60


def backoff(attempts: int) -> int:
    """Minutes to wait after the `attempts`-th failure: 5, 10, 20, ... at most a day."""
    return min(RETRY_MINUTES * 2 ** (max(attempts, 1) - 1), RETRY_MAX_MINUTES)


def asked_back(payment: Payment) -> int:
    """What has been asked back on the payment so far: its refunds that succeeded or are still owed."""
    return db.session.scalar(select(func.coalesce(func.sum(PaymentRefund.amount), 0)).where(
        PaymentRefund.payment_id == payment.id, PaymentRefund.status != "failed"))


def owe_refund(payment: Payment, total: int) -> PaymentRefund | None:
    """In the caller's transaction, under the payment's row lock: make what is asked back on `payment` come to
    `total` (never more than it charged), and send the new refund once the transaction commits. None when
    nothing more is owed."""
    payment = locked(Payment, payment.id)
    amount = min(total, payment.amount) - asked_back(payment)
    if amount <= 0:
        return None
    refund = PaymentRefund(payment_id=payment.id, amount=amount, currency=payment.currency, status="pending",
                           created_at=utcnow())
    db.session.add(refund)
    db.session.flush()
    refund_id = refund.id
    transactions.after_commit(lambda: send_refund(refund_id))
    logger.info("refund %s owed on payment %s: %s %s", refund_id, payment.id, amount, payment.currency)
    return refund


def _due(now: datetime):
    return (PaymentRefund.status == "pending",
            or_(PaymentRefund.next_attempt_at.is_(None), PaymentRefund.next_attempt_at <= now))


def send_refund(refund_id: int, now: datetime | None = None) -> bool:
    """Claim the refund and ask the provider that charged to give it back. True when it went through; False when
    another process has it, it is not due, or the provider failed (an outage is retried later, waiting twice as
    long each time; a refusal marks it failed for a person to look at)."""
    now = now or utcnow()
    if not claim(PaymentRefund, refund_id, *_due(now)):
        return False
    refund = db.session.get(PaymentRefund, refund_id, populate_existing=True)
    payment = refund.payment
    try:
        done = get_provider(payment.provider).refund(charge_reference=payment.provider_reference or "",
                                                     amount=refund.amount, currency=refund.currency,
                                                     idempotency_key=refund.provider_key)
    except PaymentError as error:
        _failed(refund_id, error, now)
        return False
    _succeeded(refund_id, payment.id, done, now)
    return True


def _succeeded(refund_id: int, payment_id: int, done: Refund, now: datetime) -> None:
    """Record the refund as gone through, under the booking's lock (its fee kept may change: revenue.settle_fee),
    then the payment's and the refund's, in the order every payment writer takes them."""
    booking = bookings.locked_booking(db.session.get(Payment, payment_id).booking_id)
    payment = locked(Payment, payment_id)
    refund = locked(PaymentRefund, refund_id)
    if refund.status != "succeeded":  # the provider gave it back: that stands, whatever was recorded meanwhile
        refund.status, refund.provider_reference, refund.succeeded_at = "succeeded", done.reference, now
        refund.attempts += 1
        revenue.refunded(refund, now)
    refund.next_attempt_at = refund.claimed_until = None
    db.session.flush()
    payment.refunded_amount = db.session.scalar(select(func.coalesce(func.sum(PaymentRefund.amount), 0)).where(
        PaymentRefund.payment_id == payment.id, PaymentRefund.status == "succeeded"))
    if payment.refunded_amount:
        payment.status = "refunded" if payment.refunded_amount >= payment.amount else "partially_refunded"
    revenue.settle_fee(booking, now)
    db.session.commit()
    logger.info("refund %s of payment %s: %s %s back", refund.id, payment.id, refund.amount, refund.currency)


def _failed(refund_id: int, error: PaymentError, now: datetime) -> None:
    refund = locked(PaymentRefund, refund_id)
    if refund.status != "pending":  # sent by a run that took over after this one's claim ran out: keep that
        db.session.commit()
        return
    refund.attempts += 1
    refund.last_error, refund.claimed_until = str(error)[:255], None
    if error.retryable:
        refund.next_attempt_at = now + timedelta(minutes=backoff(refund.attempts))
    else:
        refund.status = "failed"
    db.session.commit()
    logger.warning("refund %s of payment %s failed (attempt %s): %s", refund.id, refund.payment_id, refund.attempts,
                   error)


def retry_refunds(now: datetime) -> int:
    """Send every refund still owed whose wait is over and that nobody is sending (jobs run-due); a refund whose
    sender died mid-call is asked again once its claim runs out. Returns how many went through."""
    owed = db.session.scalars(select(PaymentRefund.id).where(*_due(now), is_free(PaymentRefund))
                              .order_by(PaymentRefund.id)).all()
    db.session.rollback()
    return each_row(owed, lambda refund_id: send_refund(refund_id, now), "refund")
