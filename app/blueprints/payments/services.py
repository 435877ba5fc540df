"""Payments: charge a booking's total through the provider, once per booking, whatever the keys and the timing.

The payment row is created under the booking's lock, so two requests cannot both find the booking payable; it is
committed, marked as being asked (`claimed_until`), before the provider is called, with a random idempotency key
stored on the row, so every retry of the call, after a timeout or a crash, gets the provider's first answer. A
repeat of the request waits for that answer and gives it back. Refunds are refunds.py, payouts payouts.py.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
import uuid

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from ...errors import Conflict, NotFoundError, PaymentFailed, ValidationFailed
from ...extensions import db
from ...models import Booking, Payment, User, utcnow
from ...pagination import Page, paginate
from ...payment_providers import PaymentError, get_provider
from ..bookings import services as bookings
from .charges import (  # noqa: F401 (CHARGED, PaymentInProgress and payable_problem are the pages' too)
    ASKING,
    CAPTURES_ON_READ,
    CHARGED,
    UNANSWERED,
    PaymentInProgress,
    apply_charge,
    ask_provider,
    charge,
    claim_payment,
    close,
    may_create_again,
    payable_problem,
    release,
)

logger = logging.getLogger(__name__)

MAX_KEY_LENGTH, MAX_METHOD_LENGTH = 255, 255
WAIT_FOR_ANSWER, POLL = 40.0, 0.05  # seconds a repeated request waits for the first one's answer


class ProviderUnanswered(PaymentFailed):
    """402 payment_failed: the provider did not answer; the same request (same Idempotency-Key) asks again."""


def _hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def _replay(guest: User, key_hash: str, request_hash: str) -> Payment | None:
    payment = db.session.scalar(select(Payment).where(Payment.guest_id == guest.id, Payment.key_hash == key_hash)
                                .execution_options(populate_existing=True))
    if payment is not None and payment.request_hash != request_hash:
        raise Conflict("This Idempotency-Key was used for a different payment request.", code="idempotency_mismatch")
    return payment


def _answer(payment: Payment) -> Payment:
    """The payment, or the 402 it ended in (a replay gets the same answer as the first request)."""
    if payment.failure_code == UNANSWERED and payment.status in ("requires_payment", "processing"):
        raise ProviderUnanswered("The payment service did not answer. Try again: the same payment is asked about "
                                 "again, so it is never charged twice.")
    if payment.status == "failed":
        raise PaymentFailed(payment.failure_message or "The payment failed.", code=payment.failure_code or
                            "payment_failed")
    return payment


def create_payment(guest: User, *, booking_id: int, payment_method: str | None = None,
                   idempotency_key: str | None = None) -> tuple[Payment, bool]:
    """Pay a booking's total: (payment, replayed). With a payment method it is charged at once; without, the
    payment carries a client_secret for the guest's browser to confirm with the provider. The body's values come
    as schemas.PaymentInputSchema loads them.

    Raises ValidationFailed, NotFoundError, Conflict (invalid_state, payment_in_progress, idempotency_mismatch),
    PaymentFailed (402).
    """
    if idempotency_key is not None and not 1 <= len(idempotency_key) <= MAX_KEY_LENGTH:
        raise ValidationFailed({"Idempotency-Key": [f"use 1 to {MAX_KEY_LENGTH} characters"]})
    method = payment_method
    key_hash = _hash(idempotency_key or uuid.uuid4().hex)
    request_hash = _hash(json.dumps({"booking_id": booking_id, "payment_method": method}, sort_keys=True))
    if (earlier := _replay(guest, key_hash, request_hash)) is not None:
        return _replayed(earlier)
    booking = db.session.get(Booking, booking_id)
    if booking is None or booking.guest_id != guest.id:
        raise NotFoundError("Booking not found.")
    _close_open_charges(booking.id)
    try:
        payment, earlier = _start(guest, booking_id, key_hash, request_hash, method)
    except IntegrityError:  # a parallel request with this key inserted first
        db.session.rollback()
        payment, earlier = None, _replay(guest, key_hash, request_hash)
        if earlier is None:
            raise
    if earlier is not None:
        return _replayed(earlier)
    charge(payment)
    return _answer(db.session.get(Payment, payment.id, populate_existing=True)), False


def _start(guest: User, booking_id: int, key_hash: str, request_hash: str,
           method: str | None) -> tuple[Payment | None, Payment | None]:
    """Under the booking's lock: (the new payment, committed and marked as being asked, None), or (None, the
    payment a parallel request with the same key made while this one waited for the lock). Raises Conflict."""
    try:
        booking = bookings.locked_booking(booking_id)
        if (earlier := _replay(guest, key_hash, request_hash)) is not None:
            db.session.rollback()
            return None, earlier
        if (problem := payable_problem(booking, starting=True)) is not None:
            raise problem
        provider = get_provider()
        payment = Payment(booking_id=booking.id, guest_id=guest.id, provider=provider.name, payment_method=method,
                          amount=booking.total_amount, currency=booking.currency, key_hash=key_hash,
                          request_hash=request_hash, status="processing" if method else "requires_payment",
                          claimed_until=utcnow() + ASKING)
        db.session.add(payment)
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    return payment, None


def _close_open_charges(booking_id: int) -> None:
    """Before a new payment of the booking: close its payments that the guest's browser could still confirm (an
    Elements form open in another tab, a declined intent Stripe.js may retry), so that only one payment of a
    booking can ever be charged. One that went through meanwhile is applied, and the new payment then finds the
    booking paid. Raises PaymentInProgress when one is being asked about, or the provider cannot say."""
    open_ids = db.session.scalars(select(Payment.id).where(
        Payment.booking_id == booking_id, Payment.status.in_(("requires_payment", "failed")),
        Payment.provider_reference.is_not(None), Payment.closed_at.is_(None))).all()
    for payment_id in open_ids:
        if not claim_payment(payment_id):
            raise PaymentInProgress("A payment of this booking is being confirmed right now.")
        payment = db.session.get(Payment, payment_id, populate_existing=True)
        try:
            close(payment)
        except PaymentError as error:
            logger.warning("payment %s could not be closed: %s", payment_id, error)
            release(payment)
            raise PaymentInProgress("An earlier payment of this booking is still open; try again in a moment.") \
                from None


def _replayed(payment: Payment) -> tuple[Payment, bool]:
    """The first request's answer for a repeat: waited for while it is being asked; asked again (same provider
    key) when the provider did not answer it."""
    payment = _wait_for_answer(payment)
    if payment.failure_code == UNANSWERED and may_create_again(payment) and claim_payment(payment.id):
        charge(payment)
        return _answer(db.session.get(Payment, payment.id, populate_existing=True)), False
    return _answer(payment), True


def _wait_for_answer(payment: Payment) -> Payment:
    """Re-read the payment until no request is asking the provider about it (or WAIT_FOR_ANSWER passes)."""
    deadline = time.monotonic() + WAIT_FOR_ANSWER
    while payment.claimed_until is not None and payment.claimed_until > utcnow() and time.monotonic() < deadline:
        db.session.rollback()  # end this read: the next one sees what the other request committed
        time.sleep(POLL)
        payment = db.session.get(Payment, payment.id, populate_existing=True)
    return payment


def confirm_payment(payment_id: int, guest: User) -> Payment:
    """After the guest confirmed in the browser (Stripe.js, PayPal's buttons): take the charge's state from the
    provider and apply it. A payment that failed is read again too: the browser may have retried the same
    PaymentIntent with another card. Raises NotFoundError, PaymentFailed."""
    payment = db.session.get(Payment, payment_id)
    if payment is None or payment.guest_id != guest.id:
        raise NotFoundError("Payment not found.")
    if payment.status in ("requires_payment", "processing", "failed") and payment.provider_reference:
        if payment.provider in CAPTURES_ON_READ and (problem := payable_problem(payment.booking, besides=payment.id)):
            raise problem  # reading an approved PayPal order would capture money the booking cannot take
        charge = ask_provider(payment)
        if charge is not None and (payment.status != "failed" or charge.status in ("processing", "succeeded")):
            apply_charge(payment, charge)
    return _answer(db.session.get(Payment, payment_id, populate_existing=True))


def visible_payment(payment_id: int, user: User) -> Payment:
    """A payment its guest or an admin may see; anyone else gets NotFoundError."""
    payment = db.session.get(Payment, payment_id)
    if payment is None or not (user.is_admin or payment.guest_id == user.id):
        raise NotFoundError("Payment not found.")
    return payment


def list_payments(user: User, page: int, per_page: int, *, booking_id: int | None = None) -> Page:
    """The caller's payments (an admin's: everyone's), newest first; `booking_id` narrows to one booking."""
    query = select(Payment).order_by(Payment.id.desc())
    if not user.is_admin:
        query = query.where(Payment.guest_id == user.id)
    if booking_id is not None:
        query = query.where(Payment.booking_id == booking_id)
    return paginate(query, page, per_page)
