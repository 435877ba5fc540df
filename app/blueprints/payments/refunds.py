"""Refunds: what goes back to a guest is owed in the transaction that decides it, then sent by whoever claims it.

`owe_refund` adds the refund row inside the caller's transaction (a cancellation, a success the booking could no
longer take) and asks for it to be sent after the commit. `send_refund` claims the row first, so a cancellation's
own send, `jobs run-due` and any number of parallel runs send each refund once; the provider gets the row's own
idempotency key, so asking again after a crash refunds once. A payment's `refunded` is the sum of its succeeded
refund rows, written under the payment's row lock, never added to a value read earlier.

An admin may give a settled booking's money back in full (`refund_in_full`, a goodwill refund), and send a refund
the provider refused once more (`retry_refund`); both are audited in their own transaction.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy import func, or_, select

from ... import audit, transactions
from ...errors import Conflict, NotFoundError
from ...extensions import db
from ...locking import locked
from ...models import Booking, Payment, PaymentRefund, Payout, User, utcnow
from ...models.payment import CHARGED
from ...payment_providers import PaymentError, Refund, get_provider
from ..bookings import services as bookings
from ..bookings import state
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


class PayoutInTheWay(Conflict):
    code = "payout_in_progress"


class NothingToRefund(Conflict):
    code = "nothing_to_refund"


class RefundNotFailed(Conflict):
    code = "refund_not_failed"


def refund_in_full(booking_id: int, *, actor: User) -> list[PaymentRefund]:
    """An admin gives a settled (completed or canceled) booking's money back in full, as goodwill: returns the
    refunds owed, each sent once the transaction commits (a failed send stays owed for `jobs run-due`).

    In one transaction under the booking's lock, then its payments', then its payout's (charges.py's lock order):
    everything the guest paid and has not been given back is owed back, the booking's `refund_amount` becomes all
    it paid, and the host's unpaid payout row (scheduled or failed) is deleted, audited with its amount and
    status. Deleting it rather than zeroing it keeps the contract's payout statuses (scheduled, paid, failed) and
    leaves nothing for `jobs run-due` to pay: a row of 0 would be sent as a transfer of nothing. The ledger
    (charged − refunded − payout − fee kept) is then balanced once the refund goes through: the host gets nothing
    and Abode keeps no fee. Audited as payment.refund on the booking.

    Raises NotFoundError; InvalidState for a pending or confirmed booking (cancel it instead); PayoutInTheWay when
    the payout is paid, or claimed by a sender (being paid now, or its sender died mid-call and the provider may
    have paid it: the next run asks again with its key); NothingToRefund. A refusal changes and audits nothing.
    """
    if db.session.get(Booking, booking_id) is None:
        raise NotFoundError("Booking not found.")
    try:
        booking = bookings.locked_booking(booking_id)
        payments = [locked(Payment, payment_id) for payment_id in db.session.scalars(
            select(Payment.id).where(Payment.booking_id == booking.id, Payment.status.in_(CHARGED))
            .order_by(Payment.id))]
        payout = db.session.scalars(  # a payout run's claim waits for this lock (SQLite: the listing's lock)
            select(Payout).where(Payout.booking_id == booking.id).with_for_update()
            .execution_options(populate_existing=True)).one_or_none()
        before = booking.refund_amount
        state.give_back_everything(booking)
        _payout_may_go(payout)
        if sum(payment.amount - asked_back(payment) for payment in payments) <= 0:
            raise NothingToRefund(f"Booking {booking.id}: everything paid has been given back already.")
        owed = [refund for payment in payments if (refund := owe_refund(payment, payment.amount)) is not None]
        changes: dict[str, tuple[object, object]] = {"refund_amount": (before, booking.refund_amount)}
        if payout is not None:
            changes |= {"payout_amount": (payout.amount, None), "payout_status": (payout.status, None)}
            db.session.delete(payout)
        audit.record(actor, "payment.refund", "booking", booking.id, changes)
        transactions.commit()
    except Exception:
        db.session.rollback()
        raise
    logger.info("booking %s refunded in full by user %s: refunds %s", booking_id, actor.id, [r.id for r in owed])
    return owed


def _payout_may_go(payout: Payout | None) -> None:
    """Refuse while the host's payout cannot be taken back: paid, or held by a sender (claims.py)."""
    if payout is None:
        return
    if payout.status == "paid":
        raise PayoutInTheWay(f"The host's payout for booking {payout.booking_id} is already paid: the money is "
                             "no longer here to give back.")
    if payout.claimed_until is not None:
        raise PayoutInTheWay(f"The host's payout for booking {payout.booking_id} is being sent right now: try "
                             "again once the payout run is over.")


def retry_refund(refund_id: int, *, actor: User, now: datetime | None = None) -> bool:
    """An admin sends a refund the provider refused (failed: it needs a person) once more: it is owed again, due
    now (audited as refund.retry in that transaction), then sent. True when it went through.

    Raises NotFoundError; RefundNotFailed unless it failed; NothingToRefund when the payment's other refunds ask
    back all it charged already (a full refund since). A refusal changes and audits nothing."""
    now = now or utcnow()
    row = db.session.get(PaymentRefund, refund_id)
    if row is None:
        raise NotFoundError("Refund not found.")
    try:
        payment = locked(Payment, row.payment_id)  # the payment's lock first, then the refund's (charges.py)
        refund = locked(PaymentRefund, refund_id)
        if refund.status != "failed":
            raise RefundNotFailed(f"Refund {refund_id} is {refund.status}: only a failed refund can be retried.")
        if asked_back(payment) + refund.amount > payment.amount:
            raise NothingToRefund(f"Refund {refund_id}: payment {payment.id}'s other refunds already give back "
                                  "all it charged.")
        audit.record(actor, "refund.retry", "refund", refund.id,
                     {"status": ("failed", "pending"), "next_attempt_at": (refund.next_attempt_at, now)})
        refund.status, refund.next_attempt_at, refund.claimed_until = "pending", now, None
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    logger.info("refund %s retried by user %s", refund_id, actor.id)
    return send_refund(refund_id, now)
