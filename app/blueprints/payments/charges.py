"""Charges: asking the provider about a payment, and applying its answer to the payment and the booking once.

Lock order, everywhere: the listing's row, the booking's, the payment's, then a refund's or a payout's. A success
is applied under the first three, in one transaction with paying the booking. Every call to the provider happens
outside any lock, by whoever holds the payment's claim (claims.py).
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy import and_, or_, select

from ... import search_cache, transactions
from ...errors import Conflict, DomainError
from ...extensions import db
from ...locking import locked
from ...models import Booking, Payment, utcnow
from ...models.payment import CHARGED
from ...payment_providers import Charge, PaymentError, get_provider
from ..bookings import services as bookings
from ..bookings import state
from . import refunds, revenue, signals
from .claims import claim

logger = logging.getLogger(__name__)

UNDER_WAY = ("processing", *CHARGED)  # no other payment of the booking may start
UNANSWERED = "provider_unavailable"  # failure_code of a payment whose provider did not answer: asked again later
ASKING = timedelta(seconds=60)  # longer than a provider call may take (payment_providers: 35 s at most)
# Providers keep an idempotency key for 24 hours: after that, creating "again" with it would be a new charge.
KEY_LIFETIME = timedelta(hours=20)
# Providers whose charge is taken by reading it once the customer approved (PayPal: get_charge captures an approved
# order), and the event that says so: neither a confirmation nor a webhook may read one the booking cannot take.
CAPTURES_ON_READ = {"paypal": "CHECKOUT.ORDER.APPROVED"}


class PaymentInProgress(Conflict):
    code = "payment_in_progress"


def lock_payment(payment_id: int) -> Payment:
    """The payment re-read under its row lock, until the caller commits."""
    return locked(Payment, payment_id)


def claim_payment(payment_id: int) -> bool:
    """Mark the payment as being asked about, unless another request or job is asking now; commits."""
    return claim(Payment, payment_id, Payment.status.in_(("requires_payment", "processing", "failed")), lease=ASKING)


def release(payment: Payment) -> None:
    """Give up the claim on the payment without news from the provider."""
    payment = lock_payment(payment.id)
    payment.claimed_until = None
    db.session.commit()


def payable_problem(booking: Booking, now: datetime | None = None, *, besides: int | None = None,
                    starting: bool = False) -> DomainError | None:
    """Why the booking cannot take a payment now, or None: it must be pending, unpaid and not expired, and no
    other payment of it (but `besides`) may be under way or have succeeded (payment_in_progress). A payment
    `starting` also waits for one still being set up, or open in the guest's browser."""
    others = and_(Payment.booking_id == booking.id, Payment.id != (besides or 0))
    busy = Payment.status.in_(UNDER_WAY)
    if starting:
        busy = or_(busy, and_(Payment.status == "requires_payment", or_(
            Payment.claimed_until > utcnow(), and_(Payment.provider_reference.is_not(None),
                                                   Payment.closed_at.is_(None)))))
    if booking.paid or db.session.scalar(select(Payment.id).where(others, busy).limit(1)) is not None:
        return PaymentInProgress("This booking is already paid." if booking.paid
                                 else "A payment of this booking is already under way.")
    if booking.status != "pending":
        return state.InvalidState(f"This booking is {booking.status}: there is nothing to pay.")
    if booking.expires_at is not None and booking.expires_at <= (now or utcnow()):
        return state.InvalidState("The time to pay for this booking ran out. Book the stay again.")
    return None


def charge(payment: Payment) -> None:
    """Ask the provider to charge, with the payment's own idempotency key (asking twice charges once), and apply
    the answer. A refusal fails the payment; no answer leaves it as it is, marked to be asked again (with a
    method it is `processing`: the outcome is unknown, so no other payment may start)."""
    try:
        answer = _create(payment)
    except PaymentError as error:
        if error.retryable:
            unanswered(payment, error)
            return
        answer = Charge(payment.provider_reference or "", "failed", payment.amount, payment.currency,
                        failure_code=error.code, failure_message=str(error))
    apply_charge(payment, answer)


def _create(payment: Payment) -> Charge:
    return get_provider(payment.provider).create_charge(
        amount=payment.amount, currency=payment.currency, idempotency_key=payment.provider_key,
        description=f"Abode booking {payment.booking_id}", payment_method=payment.payment_method,
        metadata={"booking_id": str(payment.booking_id), "payment_id": str(payment.id)})


def may_create_again(payment: Payment) -> bool:
    """True while creating the charge again with its key would give the provider's first answer."""
    return payment.provider_reference is None and payment.created_at > utcnow() - KEY_LIFETIME


def unanswered(payment: Payment, error: PaymentError) -> None:
    """The provider did not answer about the payment: unless an answer was applied meanwhile (a webhook often
    comes first), it stays as it was, marked to be asked again."""
    payment = lock_payment(payment.id)
    payment.claimed_until = None
    if payment.status in ("requires_payment", "processing"):
        payment.failure_code, payment.failure_message = UNANSWERED, str(error)[:255]
        logger.warning("payment %s: the provider did not answer (%s); it will be asked again", payment.id, error)
    db.session.commit()


def ask_provider(payment: Payment) -> Charge | None:
    """How the provider sees the payment now: read by its reference, or, when its creation was never answered,
    created again with the same key while the provider still knows it. None when it cannot say: a read that
    fails says nothing about the charge."""
    try:
        if payment.provider_reference:
            return get_provider(payment.provider).get_charge(payment.provider_reference)
        if not may_create_again(payment):
            return None
        return _create(payment)
    except PaymentError as error:
        if error.retryable or payment.provider_reference:
            logger.warning("payment %s: the provider could not say how it stands: %s", payment.id, error)
            return None
        return Charge("", "failed", payment.amount, payment.currency, failure_code=error.code,
                      failure_message=str(error))


def close(payment: Payment) -> None:
    """Close a payment that waits for the guest (an open Stripe Elements form, a declined intent Stripe.js could
    retry, an approved PayPal order): it can never be charged after this. One that went through meanwhile is
    applied instead. The caller holds its claim. Raises PaymentError when the provider cannot say."""
    closed = get_provider(payment.provider).cancel_charge(payment.provider_reference)
    if closed.status == "failed":
        locked_payment = lock_payment(payment.id)
        locked_payment.closed_at, locked_payment.claimed_until = utcnow(), None
        if locked_payment.status != "failed":
            locked_payment.status, locked_payment.failure_code = "failed", "payment_failed"
            locked_payment.failure_message = "This payment was replaced by a newer one for the same booking."
        db.session.commit()
        return
    apply_charge(payment, closed)


def apply_charge(payment: Payment, answer: Charge) -> None:
    """Record what the provider says of the charge, and end the asking. A success pays the booking in the same
    transaction, under the booking's listing lock and the payment's row lock, so a webhook and a confirmation
    arriving together apply it once. A success the booking can no longer take (expired, canceled, or paid by
    another payment) is owed back in full in that transaction, and sent once it commits; a booking past its
    expiry is expired with it, so that its refund is what went back."""
    booking = bookings.locked_booking(payment.booking_id)
    payment = lock_payment(payment.id)
    payment.claimed_until = None
    if payment.status in CHARGED:
        db.session.commit()
        return  # applied already: a late or repeated report never undoes a success
    takes_it = answer.status == "succeeded" and payable_problem(booking, besides=payment.id) is None
    newly_failed = answer.status == "failed" and payment.status != "failed"
    payment.provider_reference = answer.reference or payment.provider_reference
    payment.status, payment.client_secret = answer.status, answer.client_secret
    payment.failure_code, payment.failure_message = answer.failure_code, (answer.failure_message or "")[:255] or None
    now = utcnow()
    if answer.status == "succeeded":
        payment.charged_at = now
        revenue.charged(payment, now)
    if takes_it:
        payment.pays_booking = True
        state.pay(booking, payment.amount, now)
        signals.payment_succeeded.send(payment)
    elif answer.status == "succeeded":
        logger.warning("payment %s arrived for booking %s that can no longer take it: refunding",
                       payment.id, payment.booking_id)
        if booking.status == "pending" and not booking.paid and booking.expires_at and booking.expires_at <= now:
            state.cancel(booking, "expired", now)  # the scheduler had not got to it yet
        if booking.status == "canceled":
            state.take_back_late_payment(booking, payment.amount)
        refunds.owe_refund(payment, payment.amount)
        revenue.settle_fee(booking, now)  # a canceled booking charged late: its fee kept grows until the refund
    elif newly_failed:
        signals.payment_failed.send(payment)
    transactions.commit()
    logger.info("payment %s for booking %s: %s", payment.id, payment.booking_id, payment.status)
    if takes_it:
        search_cache.bump()
