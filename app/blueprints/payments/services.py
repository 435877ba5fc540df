"""Payments: charge a booking's total through the provider, once per Idempotency-Key; refund what a cancellation
gives back, through the provider that charged.

A payment row is committed before the provider is called, so a retry or a parallel duplicate finds it instead
of charging again; the provider gets an idempotency key derived from that row, so even a retry after a crash
between the call and the commit charges once.
"""

from __future__ import annotations

import hashlib
import json
import logging
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import parse_qsl

from sqlalchemy import func, or_, select
from sqlalchemy.exc import IntegrityError

from ... import search_cache
from ...errors import Conflict, DomainError, NotFoundError, PaymentFailed, ValidationFailed
from ...extensions import db
from ...models import Booking, Payment, PaymentRefund, Payout, User, WebhookEvent, utcnow
from ...pagination import Page, paginate
from ...payment_providers import Charge, InvalidSignature, PaymentError, get_provider
from ..bookings import services as bookings
from ..bookings import state
from . import payout_accounts

logger = logging.getLogger(__name__)

MAX_KEY_LENGTH, MAX_METHOD_LENGTH = 255, 255
CHARGED = ("succeeded", "partially_refunded", "refunded")  # money was taken (some may have gone back since)
UNANSWERED = "provider_unavailable"  # failure_code of a payment whose provider did not answer: it may be retried


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


def _replay(guest: User, key_hash: str, request_hash: str) -> Payment | None:
    payment = db.session.scalar(select(Payment).where(Payment.guest_id == guest.id, Payment.key_hash == key_hash))
    if payment is not None and payment.request_hash != request_hash:
        raise Conflict("This Idempotency-Key was used for a different payment request.", code="idempotency_mismatch")
    return payment


def _answer(payment: Payment) -> Payment:
    """The payment, or the 402 it ended in (a replay gets the same answer as the first request)."""
    if payment.status == "failed":
        raise PaymentFailed(payment.failure_message or "The payment failed.", code=payment.failure_code or
                            "payment_failed")
    return payment


def create_payment(guest: User, data: Mapping, *, idempotency_key: str | None = None) -> tuple[Payment, bool]:
    """Pay a booking's total: (payment, replayed). With a payment method it is charged at once; without, the
    payment carries a client_secret for the guest's browser to confirm with the provider.

    Raises ValidationFailed, NotFoundError, Conflict (invalid_state, idempotency_mismatch), PaymentFailed (402).
    """
    if idempotency_key is not None and not 1 <= len(idempotency_key) <= MAX_KEY_LENGTH:
        raise ValidationFailed({"Idempotency-Key": [f"use 1 to {MAX_KEY_LENGTH} characters"]})
    booking_id, method = _checked(data)
    key_hash = _hash(idempotency_key or uuid.uuid4().hex)
    request_hash = _hash(json.dumps({"booking_id": booking_id, "payment_method": method}, sort_keys=True))
    if (earlier := _replay(guest, key_hash, request_hash)) is not None:
        if earlier.failure_code == UNANSWERED and earlier.status == "requires_payment":
            _charge(earlier, method)  # the provider did not answer last time: ask again, with the same key
            return _answer(earlier), False
        return _answer(earlier), True
    booking = db.session.get(Booking, booking_id)
    if booking is None or booking.guest_id != guest.id:
        raise NotFoundError("Booking not found.")
    _require_payable(booking)
    provider = get_provider()
    payment = Payment(booking_id=booking.id, guest_id=guest.id, provider=provider.name, amount=booking.total_amount,
                      currency=booking.currency, status="requires_payment", key_hash=key_hash,
                      request_hash=request_hash)
    db.session.add(payment)
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        if (earlier := _replay(guest, key_hash, request_hash)) is not None:
            return _answer(earlier), True  # a parallel request with this key won
        raise
    _charge(payment, method)
    return _answer(payment), False


def _charge(payment: Payment, method: str | None) -> None:
    """Ask the provider to charge (its idempotency key comes from the payment row, so asking twice charges once).
    A refusal fails the payment; an outage leaves it waiting, and a retry of the request asks again."""
    try:
        charge = get_provider(payment.provider).create_charge(
            amount=payment.amount, currency=payment.currency, idempotency_key=f"abode-payment-{payment.id}",
            description=f"Abode booking {payment.booking_id}", payment_method=method,
            metadata={"booking_id": str(payment.booking_id), "payment_id": str(payment.id)})
    except PaymentError as error:
        if error.retryable:
            payment.failure_code, payment.failure_message = UNANSWERED, str(error)[:255]
            db.session.commit()
            raise PaymentFailed("The payment service did not answer; nothing was charged. Try again.") from None
        charge = Charge(payment.provider_reference or "", "failed", payment.amount, payment.currency,
                        failure_code=error.code, failure_message=str(error))
    apply_charge(payment, charge)


def payable_problem(booking: Booking, now: datetime | None = None, *, besides: int | None = None) -> str | None:
    """Why the booking cannot be paid now, or None: it must be pending, unpaid, not expired and have no payment
    already under way (other than payment `besides`)."""
    if booking.paid:
        return "This booking is already paid."
    if booking.status != "pending":
        return f"This booking is {booking.status}: there is nothing to pay."
    if booking.expires_at is not None and booking.expires_at <= (now or utcnow()):
        return "The time to pay for this booking ran out. Book the stay again."
    paying = db.session.scalar(select(Payment.id).where(Payment.booking_id == booking.id, Payment.id != (besides or 0),
                                                        Payment.status.in_(("processing", "succeeded"))))
    return "This booking already has a payment under way." if paying is not None else None


def _require_payable(booking: Booking) -> None:
    if (problem := payable_problem(booking)) is not None:
        raise state.InvalidState(problem)


def apply_charge(payment: Payment, charge: Charge) -> None:
    """Record what the provider says of the charge. A success pays the booking in the same transaction, under
    the booking's listing lock and the payment's row lock, so a webhook and a confirmation arriving together
    apply it once; a success the booking can no longer take (expired, canceled, or paid by another payment
    meanwhile) is refunded in full at once."""
    booking = bookings.locked_booking(payment.booking_id)
    payment = db.session.scalars(select(Payment).where(Payment.id == payment.id).with_for_update()
                                 .execution_options(populate_existing=True)).one()
    if payment.status in CHARGED:
        db.session.commit()
        return  # applied already: a late or repeated report never undoes a success
    takes_it = charge.status == "succeeded" and payable_problem(booking, besides=payment.id) is None
    payment.provider_reference = charge.reference or payment.provider_reference
    payment.status, payment.client_secret = charge.status, charge.client_secret
    payment.failure_code, payment.failure_message = charge.failure_code, (charge.failure_message or "")[:255] or None
    if takes_it:
        state.pay(booking, payment.amount, utcnow())
    db.session.commit()
    logger.info("payment %s for booking %s: %s", payment.id, payment.booking_id, payment.status)
    if takes_it:
        search_cache.bump()
    elif charge.status == "succeeded":
        logger.warning("payment %s arrived for booking %s that can no longer take it: refunding",
                       payment.id, payment.booking_id)
        refund_payment(payment, payment.amount)


def refund_payment(payment: Payment, amount: int) -> PaymentRefund | None:
    """Owe `amount` back on `payment` and try to send it now; a failure is retried by `jobs run-due`."""
    amount = min(amount, payment.amount - payment.refunded_amount - _pending(payment))
    if amount <= 0:
        return None
    refund = PaymentRefund(payment_id=payment.id, amount=amount, currency=payment.currency, status="pending",
                           created_at=utcnow())
    db.session.add(refund)
    db.session.commit()
    send_refund(refund)
    return refund


def _pending(payment: Payment) -> int:
    return sum(refund.amount for refund in payment.refunds if refund.status == "pending")


def send_refund(refund: PaymentRefund, now: datetime | None = None) -> None:
    """Ask the provider that charged to give the refund back (idempotent per refund row). An outage is retried
    later, waiting twice as long each time; a refusal marks it failed for a person to look at."""
    payment, now = refund.payment, now or utcnow()
    refund.attempts += 1
    try:
        done = get_provider(payment.provider).refund(charge_reference=payment.provider_reference or "",
                                                     amount=refund.amount, currency=refund.currency,
                                                     idempotency_key=f"abode-refund-{refund.id}")
    except PaymentError as error:
        refund.last_error = str(error)[:255]
        if error.retryable:
            refund.next_attempt_at = now + timedelta(minutes=_backoff(refund.attempts))
        else:
            refund.status = "failed"
        db.session.commit()
        logger.warning("refund %s of payment %s failed (attempt %s): %s", refund.id, payment.id, refund.attempts,
                       error)
        return
    refund.status, refund.provider_reference, refund.succeeded_at = "succeeded", done.reference, now
    refund.next_attempt_at = None
    payment.refunded_amount += refund.amount
    payment.status = "refunded" if payment.refunded_amount >= payment.amount else "partially_refunded"
    db.session.commit()
    logger.info("refund %s of payment %s: %s %s back", refund.id, payment.id, refund.amount, refund.currency)


def _backoff(attempts: int) -> int:
    """Minutes to wait after the `attempts`-th failure: 5, 10, 20, ... at most a day."""
    return min(PAYOUT_RETRY_MINUTES * 2 ** (attempts - 1), PAYOUT_RETRY_MAX_MINUTES)


def settle_canceled_booking(booking: Booking) -> None:
    """After a cancellation: give back what it says (booking.refund_amount) on the booking's successful payment,
    and owe the host whatever the guest did not get back, less the service fee."""
    payment = db.session.scalar(select(Payment).where(Payment.booking_id == booking.id,
                                                      Payment.status.in_(("succeeded", "partially_refunded"))))
    if payment is not None and booking.refund_amount:
        refund_payment(payment, booking.refund_amount)
    schedule_payout(booking)


def settle_completed_booking(booking: Booking) -> None:
    """After a stay: owe the host the total less the service fee."""
    schedule_payout(booking)


def retry_refunds(now: datetime) -> int:
    """Send every refund still owed whose wait is over (jobs run-due). Returns how many went through."""
    owed = db.session.scalars(select(PaymentRefund).where(
        PaymentRefund.status == "pending",
        or_(PaymentRefund.next_attempt_at.is_(None), PaymentRefund.next_attempt_at <= now))).all()
    return sum(_each(lambda refund: send_refund(refund, now) or refund.status == "succeeded", owed, "refund"))


def _each(work, items, what: str) -> list:
    """Run `work` on each item on its own: one that fails is logged and rolled back, the others still run."""
    results = []
    for item in items:
        try:
            results.append(work(item))
        except Exception:
            db.session.rollback()
            logger.exception("%s %s could not be handled; it will be tried again", what, getattr(item, "id", item))
    return results


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


# --- host payouts ------------------------------------------------------------------------------------------------

PAYOUT_RETRY_MINUTES, PAYOUT_RETRY_MAX_MINUTES = 5, 24 * 60


def payout_due(booking: Booking) -> int:
    """What the host is owed for a booking: what the guest paid and kept paid, minus the service fee Abode keeps
    (never more than what is left)."""
    kept = booking.paid_amount - (booking.refund_amount or 0)
    return max(kept - booking.service_fee_amount, 0)


def schedule_payout(booking: Booking) -> Payout | None:
    """Create the booking's payout (once): on completion, or on a cancellation that did not refund everything;
    paid from the original check-out day. Returns None when nothing is owed."""
    amount = payout_due(booking)
    if amount <= 0 or db.session.scalar(select(Payout.id).where(Payout.booking_id == booking.id)) is not None:
        return None
    payout = Payout(booking_id=booking.id, host_id=booking.listing.host_id, amount=amount, currency=booking.currency,
                    status="scheduled", scheduled_for=booking.check_out, provider=_provider_of(booking))
    db.session.add(payout)
    try:
        db.session.commit()
    except IntegrityError:  # scheduled by a parallel run
        db.session.rollback()
        return None
    logger.info("payout %s scheduled: booking %s, %s %s", payout.id, booking.id, amount, booking.currency)
    return payout


def _provider_of(booking: Booking) -> str:
    charged = db.session.scalar(select(Payment.provider).where(Payment.booking_id == booking.id,
                                                               Payment.status != "failed").limit(1))
    return charged or get_provider().name


def pay_payouts(now: datetime) -> int:
    """Pay every payout that is due (jobs run-due); a failure stays visible as failed and is retried later,
    waiting twice as long each time (5 minutes up to a day). Returns how many were paid."""
    due = db.session.scalars(select(Payout).where(
        Payout.status.in_(("scheduled", "failed")), Payout.scheduled_for <= now.date(),
        or_(Payout.next_attempt_at.is_(None), Payout.next_attempt_at <= now))).all()
    return sum(_each(lambda payout: _send_payout(payout, now), due, "payout"))


def _send_payout(payout: Payout, now: datetime) -> int:
    destination = payout_accounts.payout_destination(db.session.get(User, payout.host_id), payout.provider)
    if destination is None:  # no account of this provider yet: the payout waits, and the host is told
        return payout_accounts.wait_for_account(payout)
    payout.attempts += 1
    try:
        transfer = get_provider(payout.provider).pay_out(
            amount=payout.amount, currency=payout.currency, destination=destination,
            idempotency_key=f"abode-payout-{payout.id}", description=f"Abode booking {payout.booking_id}")
    except PaymentError as error:
        wait = _backoff(payout.attempts)
        payout.status, payout.last_error = "failed", str(error)[:255]
        payout.next_attempt_at = now + timedelta(minutes=wait)
        db.session.commit()
        logger.warning("payout %s failed (attempt %s, next in %s min): %s", payout.id, payout.attempts, wait, error)
        return 0
    payout.status, payout.paid_at, payout.provider_reference = "paid", now, transfer.reference
    payout.next_attempt_at, payout.last_error = None, None
    db.session.commit()
    logger.info("payout %s paid: %s %s", payout.id, payout.amount, payout.currency)
    return 1


def list_payouts(host: User, page: int, per_page: int) -> Page:
    """The host's payouts, latest scheduled first."""
    query = select(Payout).where(Payout.host_id == host.id).order_by(Payout.scheduled_for.desc(), Payout.id.desc())
    return paginate(query, page, per_page)


@dataclass(frozen=True)
class LedgerLine:
    """One booking's money. Once it is settled (completed or canceled), charged − refunded − payout − service
    fee kept is 0; before, what was charged and not refunded is held until it settles."""

    booking_id: int
    currency: str
    charged: int
    refunded: int
    payout: int  # paid or still owed to the host
    fee_kept: int
    held: int

    @property
    def balance(self) -> int:
        return self.charged - self.refunded - self.payout - self.fee_kept - self.held


def ledger(booking_ids: Sequence[int] | None = None) -> list[LedgerLine]:
    """The ledger of the given bookings (default: every booking with a payment) for an admin to reconcile."""
    if booking_ids is None:
        booking_ids = list(db.session.scalars(select(Payment.booking_id).distinct()))
    of_bookings = Payment.booking_id.in_(booking_ids)
    charged_by = _sums(select(Payment.booking_id, func.sum(Payment.amount))
                       .where(of_bookings, Payment.status.in_(CHARGED)).group_by(Payment.booking_id))
    refunded_by = _sums(select(Payment.booking_id, func.sum(PaymentRefund.amount)).join(PaymentRefund.payment)
                        .where(of_bookings, PaymentRefund.status == "succeeded").group_by(Payment.booking_id))
    payout_by = _sums(select(Payout.booking_id, Payout.amount).where(Payout.booking_id.in_(booking_ids)))
    lines = []
    for booking in db.session.scalars(select(Booking).where(Booking.id.in_(booking_ids)).order_by(Booking.id)):
        charged, refunded = charged_by.get(booking.id, 0), refunded_by.get(booking.id, 0)
        payout = payout_by.get(booking.id, 0)
        settled = booking.status in ("completed", "canceled")
        fee_kept = min(booking.service_fee_amount, charged - refunded) if settled else 0
        lines.append(LedgerLine(booking.id, booking.currency, charged, refunded, payout, fee_kept,
                                held=0 if settled else booking.paid_amount))
    return lines


def _sums(statement) -> dict[int, int]:
    """{booking id: amount} from a two-column query (SUM is a decimal on MariaDB)."""
    return {booking_id: int(amount) for booking_id, amount in db.session.execute(statement).all()}


# --- provider webhooks -------------------------------------------------------------------------------------------

# How far each charge status has got: an event never moves a payment back (events may arrive out of order).
PROGRESS = {"requires_payment": 0, "processing": 1, "failed": 2, "succeeded": 3}


def handle_webhook(provider_name: str, payload: bytes, headers: Mapping[str, str]) -> str:
    """Verify a provider's event and apply it once: "applied", "ignored" (nothing to do) or "duplicate".

    Raises InvalidSignature (400 invalid_signature), and a 503 when the provider cannot be reached to verify
    or to read the charge: the event is not recorded, so the provider's redelivery is handled.
    """
    try:
        provider = get_provider(provider_name)
    except RuntimeError:  # not configured here: nothing can verify the delivery
        raise InvalidSignature(f"{provider_name} is not configured") from None
    try:
        event = provider.parse_webhook(payload, headers)
    except PaymentError as error:
        raise _unavailable(error) from None
    db.session.add(WebhookEvent(provider=provider_name, event_id=event.id[:255], type=event.type[:100],
                                received_at=utcnow()))
    try:
        db.session.flush()
    except IntegrityError:
        db.session.rollback()
        logger.info("webhook %s %s seen before: ignored", provider_name, event.id)
        return "duplicate"
    payment = _event_payment(provider_name, event)
    if payment is None or event.status not in PROGRESS or \
            PROGRESS.get(payment.status, 3) >= PROGRESS[event.status]:
        db.session.commit()
        return "ignored"
    if event.status == "failed":
        apply_charge(payment, Charge(payment.provider_reference or "", "failed", payment.amount, payment.currency,
                                     failure_code=event.data.get("failure_code") or "payment_failed"))
        return "applied"
    if provider_name == "paypal" and payable_problem(payment.booking) is not None:
        db.session.commit()  # reading a PayPal order captures it: not for a booking that can no longer take it
        return "ignored"
    try:
        charge = provider.get_charge(payment.provider_reference or event.charge_reference or "")
    except PaymentError as error:
        db.session.rollback()
        raise _unavailable(error) from None
    apply_charge(payment, charge)  # commits the event row with the payment
    return "applied"


def _unavailable(error: PaymentError) -> DomainError:
    logger.warning("payment provider unreachable while handling a webhook: %s", error)
    return DomainError("The payment provider could not be reached; deliver the event again later.",
                       code="service_unavailable", status_code=503)


def _event_payment(provider_name: str, event) -> Payment | None:
    """The payment an event is about: by the provider's reference, or, when the charge call timed out before
    Abode learnt the reference, by the payment id Abode put in the charge's metadata."""
    if event.charge_reference:
        payment = db.session.scalar(select(Payment).where(Payment.provider == provider_name,
                                                          Payment.provider_reference == event.charge_reference))
        if payment is not None:
            return payment
    metadata = event.data.get("metadata") or dict(parse_qsl(event.data.get("custom_id") or ""))
    payment_id = str(metadata.get("payment_id") or "")
    valid = payment_id.isascii() and payment_id.isdigit() and len(payment_id) < 10
    payment = db.session.get(Payment, int(payment_id)) if valid else None
    if payment is None or payment.provider != provider_name or payment.provider_reference not in (
            None, event.charge_reference):
        return None
    return payment


def _fetch(provider, payment: Payment) -> Charge:
    try:
        return provider.get_charge(payment.provider_reference or "")
    except PaymentError as error:
        return Charge(payment.provider_reference or "", "failed" if not error.retryable else payment.status,
                      payment.amount, payment.currency, failure_code=error.code, failure_message=str(error))


def confirm_payment(payment_id: int, guest: User) -> Payment:
    """After the guest confirmed in the browser (Stripe.js, PayPal's buttons): take the charge's state from the
    provider and apply it. Raises NotFoundError, PaymentFailed."""
    payment = db.session.get(Payment, payment_id)
    if payment is None or payment.guest_id != guest.id:
        raise NotFoundError("Payment not found.")
    if payment.status in ("requires_payment", "processing") and payment.provider_reference:
        apply_charge(payment, _fetch(get_provider(payment.provider), payment))
    return _answer(payment)


def settle_missed() -> int:
    """Owe what settled bookings still owe (jobs run-due): a payout or refund the completion or cancellation
    did not get to create (a crash between its commits). Returns how many were created. Both searches look
    only for bookings that are owed something, so they stay small however many bookings there are."""
    kept = Booking.paid_amount - func.coalesce(Booking.refund_amount, 0) - Booking.service_fee_amount
    unpaid_hosts = db.session.scalars(select(Booking).outerjoin(Payout, Payout.booking_id == Booking.id).where(
        Booking.status.in_(("completed", "canceled")), kept > 0, Payout.id.is_(None))).all()
    asked = (select(func.coalesce(func.sum(PaymentRefund.amount), 0))
             .where(PaymentRefund.payment_id == Payment.id, PaymentRefund.status != "failed").scalar_subquery())
    owed_back = db.session.scalars(select(Payment).join(Booking, Booking.id == Payment.booking_id).where(
        Booking.status == "canceled", Booking.refund_amount > asked,
        Payment.status.in_(("succeeded", "partially_refunded")))).all()
    return (_each(lambda booking: schedule_payout(booking) is not None, unpaid_hosts, "booking").count(True)
            + _each(_owe_missing_refund, owed_back, "payment").count(True))


def _owe_missing_refund(payment: Payment) -> bool:
    asked = sum(refund.amount for refund in payment.refunds if refund.status != "failed")
    return refund_payment(payment, payment.booking.refund_amount - asked) is not None
