"""Provider webhooks: verified, recorded once by event id, and applied through the same path as a confirmation."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from urllib.parse import parse_qsl

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from ...errors import DomainError
from ...extensions import db
from ...models import Payment, WebhookEvent, utcnow
from ...payment_providers import Charge, InvalidSignature, PaymentError, get_provider
from .charges import CAPTURES_ON_READ, apply_charge, payable_problem

logger = logging.getLogger(__name__)

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
    if CAPTURES_ON_READ.get(provider_name) == event.type and payable_problem(payment.booking,
                                                                            besides=payment.id) is not None:
        db.session.commit()  # the approval of an order the booking cannot take: never captured; every other
        # event is about money already taken or refused, and is applied
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
