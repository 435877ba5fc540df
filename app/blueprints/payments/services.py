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
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from ... import search_cache, transactions
from ...errors import Conflict, DomainError, NotFoundError, PaymentFailed, ValidationFailed
from ...extensions import db
from ...models import Booking, Payment, User, utcnow
from ...pagination import Page, paginate
from ...payment_providers import Charge, PaymentError, get_provider
from ..bookings import services as bookings
from ..bookings import state
from . import refunds
from .claims import claim

logger = logging.getLogger(__name__)

MAX_KEY_LENGTH, MAX_METHOD_LENGTH = 255, 255
CHARGED = ("succeeded", "partially_refunded", "refunded")  # money was taken (some may have gone back since)
UNDER_WAY = ("processing", "succeeded", "partially_refunded", "refunded")  # a new payment of the booking waits
UNANSWERED = "provider_unavailable"  # failure_code of a payment whose provider did not answer: asked again later
ASKING = timedelta(seconds=60)  # longer than a provider call may take (payment_providers: 35 s at most)
WAIT_FOR_ANSWER, POLL = 40.0, 0.05  # seconds a repeated request waits for the first one's answer
# Providers whose charge is taken by reading it once the customer approved (PayPal: get_charge captures an approved
# order), and the event that says so: neither a confirmation nor a webhook may read one the booking cannot take.
CAPTURES_ON_READ = {"paypal": "CHECKOUT.ORDER.APPROVED"}


class PaymentInProgress(Conflict):
    code = "payment_in_progress"


class ProviderUnanswered(PaymentFailed):
    """402 payment_failed: the provider did not answer; the same request (same Idempotency-Key) asks again."""


def _hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def _checked(data: Mapping) -> tuple[int, str | None]:
    booking_id, method = data.get("booking_id"), data.get("payment_method")
    errors: dict[str, list[str]] = {}
    if isinstance(booking_id, bool) or not isinstance(booking_id, int) or not 1 <= booking_id < 2**31:
        errors["booking_id"] = ["give the id of your booking"]
    if method is not None and (not isinstance(method, str) or not 1 <= len(method) <= MAX_METHOD_LENGTH):
        errors["payment_method"] = ["give a payment method id such as pm_card_visa, or leave it out"]
    if errors:
        raise ValidationFailed(errors)
    return booking_id, method


def lock_payment(payment_id: int) -> Payment:
    """The payment re-read under its row lock (until the caller commits). Lock order: listing, booking, payment."""
    return db.session.scalars(select(Payment).where(Payment.id == payment_id).with_for_update()
                              .execution_options(populate_existing=True)).one()


def _replay(guest: User, key_hash: str, request_hash: str) -> Payment | None:
    payment = db.session.scalar(select(Payment).where(Payment.guest_id == guest.id, Payment.key_hash == key_hash)
                                .execution_options(populate_existing=True))
    if payment is not None and payment.request_hash != request_hash:
        raise Conflict("This Idempotency-Key was used for a different payment request.", code="idempotency_mismatch")
    return payment


def _answer(payment: Payment) -> Payment:
    """The payment, or the 402 it ended in (a replay gets the same answer as the first request)."""
    if payment.failure_code == UNANSWERED:
        raise ProviderUnanswered("The payment service did not answer. Try again: the same payment is asked about "
                                 "again, so it is never charged twice.")
    if payment.status == "failed":
        raise PaymentFailed(payment.failure_message or "The payment failed.", code=payment.failure_code or
                            "payment_failed")
    return payment


def create_payment(guest: User, data: Mapping, *, idempotency_key: str | None = None) -> tuple[Payment, bool]:
    """Pay a booking's total: (payment, replayed). With a payment method it is charged at once; without, the
    payment carries a client_secret for the guest's browser to confirm with the provider.

    Raises ValidationFailed, NotFoundError, Conflict (invalid_state, payment_in_progress, idempotency_mismatch),
    PaymentFailed (402).
    """
    if idempotency_key is not None and not 1 <= len(idempotency_key) <= MAX_KEY_LENGTH:
        raise ValidationFailed({"Idempotency-Key": [f"use 1 to {MAX_KEY_LENGTH} characters"]})
    booking_id, method = _checked(data)
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
    _charge(payment)
    return _answer(payment), False


def _start(guest: User, booking_id: int, key_hash: str, request_hash: str,
           method: str | None) -> tuple[Payment | None, Payment | None]:
    """Under the booking's lock: (the new payment, committed and marked as being asked, None), or (None, the
    payment a parallel request with the same key made while this one waited for the lock). Raises Conflict."""
    try:
        booking = bookings.locked_booking(booking_id)
        if (earlier := _replay(guest, key_hash, request_hash)) is not None:
            db.session.rollback()
            return None, earlier
        if (problem := payable_problem(booking)) is not None:
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
    """Before a new payment of the booking: close its payments that still wait for the guest's browser (a Stripe
    Elements form left open in another tab), so that only one payment of a booking can ever be charged. One that
    went through meanwhile is applied, and the new payment then finds the booking paid. Raises PaymentInProgress
    when the provider cannot say."""
    waiting = db.session.scalars(select(Payment.id).where(
        Payment.booking_id == booking_id, Payment.status == "requires_payment",
        Payment.provider_reference.is_not(None))).all()
    for payment_id in waiting:
        if not claim_payment(payment_id):
            raise PaymentInProgress("A payment of this booking is being confirmed right now.")
        payment = db.session.get(Payment, payment_id, populate_existing=True)
        try:
            charge = get_provider(payment.provider).cancel_charge(payment.provider_reference)
        except PaymentError as error:
            logger.warning("payment %s could not be closed: %s", payment_id, error)
            payment.claimed_until = None
            db.session.commit()
            raise PaymentInProgress("An earlier payment of this booking is still open; try again in a moment.") \
                from None
        if charge.status == "failed":
            charge = Charge(charge.reference, "failed", payment.amount, payment.currency, failure_code="payment_failed",
                            failure_message="This payment was replaced by a newer one for the same booking.")
        apply_charge(payment, charge)


def _replayed(payment: Payment) -> tuple[Payment, bool]:
    """The first request's answer for a repeat: waited for while it is being asked; asked again (same provider
    key) when the provider did not answer it."""
    payment = _wait_for_answer(payment)
    if payment.failure_code == UNANSWERED and payment.provider_reference is None and claim_payment(payment.id):
        _charge(payment)
        return _answer(payment), False
    return _answer(payment), True


def _wait_for_answer(payment: Payment) -> Payment:
    """Re-read the payment until no request is asking the provider about it (or WAIT_FOR_ANSWER passes)."""
    deadline = time.monotonic() + WAIT_FOR_ANSWER
    while payment.claimed_until is not None and payment.claimed_until > utcnow() and time.monotonic() < deadline:
        db.session.rollback()  # end this read: the next one sees what the other request committed
        time.sleep(POLL)
        payment = db.session.get(Payment, payment.id, populate_existing=True)
    return payment


def claim_payment(payment_id: int) -> bool:
    """Mark the payment as being asked about, unless another request or job is asking now; commits."""
    return claim(Payment, payment_id, Payment.status.in_(("requires_payment", "processing")), lease=ASKING)


def _charge(payment: Payment) -> None:
    """Ask the provider to charge, with the payment's own idempotency key (asking twice charges once). A refusal
    fails the payment; no answer leaves it processing (with a method: the outcome is unknown, so no other payment
    may start), and a repeat of the request or `jobs run-due` asks again."""
    try:
        charge = get_provider(payment.provider).create_charge(
            amount=payment.amount, currency=payment.currency, idempotency_key=payment.provider_key,
            description=f"Abode booking {payment.booking_id}", payment_method=payment.payment_method,
            metadata={"booking_id": str(payment.booking_id), "payment_id": str(payment.id)})
    except PaymentError as error:
        if error.retryable:
            unanswered(payment, error)
            return
        charge = Charge(payment.provider_reference or "", "failed", payment.amount, payment.currency,
                        failure_code=error.code, failure_message=str(error))
    apply_charge(payment, charge)


def unanswered(payment: Payment, error: PaymentError) -> None:
    """The provider did not answer about the payment: it stays as it was, marked to be asked again."""
    payment = lock_payment(payment.id)
    payment.failure_code, payment.failure_message, payment.claimed_until = UNANSWERED, str(error)[:255], None
    db.session.commit()
    logger.warning("payment %s: the provider did not answer (%s); it will be asked again", payment.id, error)


def payable_problem(booking: Booking, now: datetime | None = None, *, besides: int | None = None
                    ) -> DomainError | None:
    """Why the booking cannot take a payment now, or None: it must be pending, unpaid, not expired, and no other
    payment of it (but payment `besides`) may be under way or have succeeded (payment_in_progress)."""
    under_way = db.session.scalar(select(Payment.id).where(
        Payment.booking_id == booking.id, Payment.id != (besides or 0), Payment.status.in_(UNDER_WAY)).limit(1))
    if booking.paid or under_way is not None:
        return PaymentInProgress("This booking is already paid." if booking.paid
                                 else "A payment of this booking is already under way.")
    if booking.status != "pending":
        return state.InvalidState(f"This booking is {booking.status}: there is nothing to pay.")
    if booking.expires_at is not None and booking.expires_at <= (now or utcnow()):
        return state.InvalidState("The time to pay for this booking ran out. Book the stay again.")
    return None


def apply_charge(payment: Payment, charge: Charge) -> None:
    """Record what the provider says of the charge, and end the asking. A success pays the booking in the same
    transaction, under the booking's listing lock and the payment's row lock, so a webhook and a confirmation
    arriving together apply it once; a success the booking can no longer take (expired, canceled, or paid by
    another payment meanwhile) is owed back in full in that transaction, and sent once it commits."""
    booking = bookings.locked_booking(payment.booking_id)
    payment = lock_payment(payment.id)
    payment.claimed_until = None
    if payment.status in CHARGED:
        db.session.commit()
        return  # applied already: a late or repeated report never undoes a success
    takes_it = charge.status == "succeeded" and payable_problem(booking, besides=payment.id) is None
    payment.provider_reference = charge.reference or payment.provider_reference
    payment.status, payment.client_secret = charge.status, charge.client_secret
    payment.failure_code, payment.failure_message = charge.failure_code, (charge.failure_message or "")[:255] or None
    if takes_it:
        state.pay(booking, payment.amount, utcnow())
    elif charge.status == "succeeded":
        logger.warning("payment %s arrived for booking %s that can no longer take it: refunding",
                       payment.id, payment.booking_id)
        if booking.status == "canceled":
            state.take_back_late_payment(booking, payment.amount)
        refunds.owe_refund(payment, payment.amount)
    transactions.commit()
    logger.info("payment %s for booking %s: %s", payment.id, payment.booking_id, payment.status)
    if takes_it:
        search_cache.bump()


def ask_provider(payment: Payment) -> Charge | None:
    """How the provider sees the payment now: read by its reference, or, when its creation was never answered,
    created again with the same idempotency key (which gives the first answer). None when it cannot say."""
    provider = get_provider(payment.provider)
    try:
        if payment.provider_reference:
            return provider.get_charge(payment.provider_reference)
        return provider.create_charge(
            amount=payment.amount, currency=payment.currency, idempotency_key=payment.provider_key,
            description=f"Abode booking {payment.booking_id}", payment_method=payment.payment_method,
            metadata={"booking_id": str(payment.booking_id), "payment_id": str(payment.id)})
    except PaymentError as error:
        if error.retryable:
            return None
        return Charge(payment.provider_reference or "", "failed", payment.amount, payment.currency,
                      failure_code=error.code, failure_message=str(error))


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


def list_payments(user: User, args: Mapping[str, Any], page: int, per_page: int) -> Page:
    """The caller's payments (an admin's: everyone's), newest first; `booking_id` narrows to one booking."""
    query = select(Payment).order_by(Payment.id.desc())
    if not user.is_admin:
        query = query.where(Payment.guest_id == user.id)
    raw = str(args.get("booking_id") or "").strip()
    if raw:
        if not (raw.isascii() and raw.isdigit()) or not 1 <= int(raw) < 2**31:
            raise ValidationFailed({"booking_id": ["give a booking id"]})
        query = query.where(Payment.booking_id == int(raw))
    return paginate(query, page, per_page)
