"""Host payouts: owed in the transaction that completes or cancels a booking, paid by `jobs run-due` once due.

`schedule_payout` adds the booking's one payout row inside that transaction (the booking's status change sends
the signal; receivers.py). `pay_payouts` claims each due row before asking the provider, so any number of parallel
runs pay each payout once, and a run that died mid-call is asked about again, with the row's idempotency key,
once its claim runs out. A failure stays visible as failed and is retried with a growing wait, or at once when an
admin asks (`retry_payout`, audited).
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy import or_, select, update

from ... import audit
from ...errors import Conflict, NotFoundError
from ...extensions import db
from ...locking import locked
from ...models import Booking, Payment, Payout, User, utcnow
from ...pagination import Page, paginate
from ...payment_providers import PaymentError, Transfer, get_provider
from . import payout_accounts, revenue, signals
from .claims import claim, each_row, is_free
from .refunds import backoff

logger = logging.getLogger(__name__)


def payout_due(booking: Booking) -> int:
    """What the host is owed for a booking: what the guest paid and kept paid, minus the service fee Abode keeps
    (never more than what is left)."""
    kept = booking.paid_amount - (booking.refund_amount or 0)
    return max(kept - booking.service_fee_amount, 0)


def schedule_payout(booking: Booking) -> Payout | None:
    """In the caller's transaction (which holds the booking's lock): create the booking's payout, once, on
    completion or on a cancellation that did not give everything back; paid from the original check-out day.
    Returns None when nothing is owed or it exists."""
    amount = payout_due(booking)
    if amount <= 0 or db.session.scalar(select(Payout.id).where(Payout.booking_id == booking.id)) is not None:
        return None
    payout = Payout(booking_id=booking.id, host_id=booking.listing.host_id, amount=amount, currency=booking.currency,
                    status="scheduled", scheduled_for=booking.check_out, provider=_provider_of(booking))
    db.session.add(payout)
    db.session.flush()
    logger.info("payout %s owed: booking %s, %s %s", payout.id, booking.id, amount, booking.currency)
    return payout


def _provider_of(booking: Booking) -> str:
    """The provider that took the guest's money pays the host (the configured one for a payment made elsewhere)."""
    paid_by = db.session.scalar(select(Payment.provider).where(Payment.booking_id == booking.id,
                                                               Payment.pays_booking))
    return paid_by or get_provider().name


def _due(now: datetime):
    return (Payout.status.in_(("scheduled", "failed")), Payout.scheduled_for <= now.date(),
            or_(Payout.next_attempt_at.is_(None), Payout.next_attempt_at <= now))


def pay_payouts(now: datetime) -> int:
    """Pay every payout that is due and that nobody is paying (jobs run-due). Returns how many were paid."""
    due = db.session.scalars(select(Payout.id).where(*_due(now), is_free(Payout)).order_by(Payout.id)).all()
    db.session.rollback()
    return each_row(due, lambda payout_id: send_payout(payout_id, now), "payout")


def send_payout(payout_id: int, now: datetime) -> bool:
    """Claim the payout and send it to the host's account. True when it was paid."""
    if not claim(Payout, payout_id, *_due(now)):
        return False
    payout = db.session.get(Payout, payout_id, populate_existing=True)
    destination = payout_accounts.payout_destination(db.session.get(User, payout.host_id), payout.provider)
    if destination is None:  # no account of this provider yet: the payout waits, and the host is told
        payout.claimed_until = None
        return bool(payout_accounts.wait_for_account(payout))
    try:
        transfer = get_provider(payout.provider).pay_out(
            amount=payout.amount, currency=payout.currency, destination=destination,
            idempotency_key=payout.provider_key, description=f"Abode booking {payout.booking_id}")
    except PaymentError as error:
        _failed(payout, error, now)
        return False
    return _paid(payout, transfer, now)


def _paid(payout: Payout, transfer: Transfer, now: datetime) -> bool:
    """Record the transfer, unless another run recorded it already (the provider answered both with one)."""
    result = db.session.execute(
        update(Payout).where(Payout.id == payout.id, Payout.status != "paid")
        .values(status="paid", paid_at=now, provider_reference=transfer.reference, attempts=Payout.attempts + 1,
                next_attempt_at=None, last_error=None, claimed_until=None)
        .execution_options(synchronize_session=False))
    if result.rowcount == 1:
        revenue.paid_out(payout, now)
        signals.payout_paid.send(payout)
    db.session.commit()
    logger.info("payout %s paid: %s %s", payout.id, payout.amount, payout.currency)
    return result.rowcount == 1


def _failed(payout: Payout, error: PaymentError, now: datetime) -> None:
    payout = locked(Payout, payout.id)
    if payout.status == "paid":  # paid by a run that took over after this one's claim ran out: keep that
        db.session.commit()
        return
    first = payout.status != "failed"
    payout.attempts += 1
    wait = backoff(payout.attempts)
    payout.status, payout.last_error = "failed", str(error)[:255]
    payout.next_attempt_at, payout.claimed_until = now + timedelta(minutes=wait), None
    signals.payout_failed.send(payout, first=first)
    db.session.commit()
    logger.warning("payout %s failed (attempt %s, next in %s min): %s", payout.id, payout.attempts, wait, error)


class PayoutNotFailed(Conflict):
    code = "payout_not_failed"


def retry_payout(payout_id: int, *, actor: User, now: datetime | None = None) -> bool:
    """An admin retries a failed payout now: it is made due (audited as payout.retry in that transaction), then
    sent. True when it was paid. Raises NotFoundError, PayoutNotFailed (nothing changed, nothing audited)."""
    now = now or utcnow()
    try:
        payout = locked(Payout, payout_id)
        if payout is None:
            raise NotFoundError("Payout not found.")
        if payout.status != "failed":
            raise PayoutNotFailed(f"Payout {payout_id} is {payout.status}: only a failed payout can be retried.")
        audit.record(actor, "payout.retry", "payout", payout.id,
                     {"next_attempt_at": (payout.next_attempt_at, now), "attempts": (payout.attempts, payout.attempts)})
        payout.next_attempt_at = now
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    logger.info("payout %s retried by user %s", payout_id, actor.id)
    return send_payout(payout_id, now)


def list_payouts(host: User, page: int, per_page: int) -> Page:
    """The host's payouts, latest scheduled first."""
    query = select(Payout).where(Payout.host_id == host.id).order_by(Payout.scheduled_for.desc(), Payout.id.desc())
    return paginate(query, page, per_page)
