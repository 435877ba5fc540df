"""Stripe through its official SDK (StripeClient): PaymentIntents, refunds, Connect transfers and signed webhooks.

This is the only module that imports `stripe`. A charge is a PaymentIntent and its reference is the PaymentIntent
id. Amounts go to Stripe unchanged: every currency Abode supports (app/money.py) has the same minor unit at Stripe
(cents for USD, whole yen for JPY and KRW, which Stripe treats as zero-decimal).

A refused card is not an exception here: `create_charge` returns a Charge with status "failed" and failure_code
"card_declined" (reference = the PaymentIntent Stripe created), as the fake provider does, so the payment keeps
its Stripe id and a replay with the same idempotency key gives the same answer. PaymentError is raised for
everything else: outages, timeouts, rate limits and Stripe 5xx/409 as retryable; bad requests, wrong keys and
idempotency conflicts as not retryable. The SDK retries nothing (max_network_retries=0): the caller decides.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

import stripe

from .base import Charge, InvalidSignature, PaymentError, Refund, Transfer, WebhookEvent

logger = logging.getLogger(__name__)

TIMEOUT = (5, 30)  # seconds: connect, read; an app request must not hang for the SDK's default 80 s
SIGNATURE_HEADER = "Stripe-Signature"
STATUSES = {"requires_payment_method": "requires_payment", "requires_confirmation": "requires_payment",
            "requires_action": "requires_payment", "processing": "processing", "requires_capture": "processing",
            "succeeded": "succeeded", "canceled": "failed"}
# Card error codes that mean "the card was refused" rather than "the payment could not be processed".
DECLINE_CODES = {"card_declined", "expired_card", "incorrect_cvc", "incorrect_number", "incorrect_zip",
                 "invalid_cvc", "invalid_expiry_month", "invalid_expiry_year", "invalid_number"}
EVENT_STATUSES = {"payment_intent.succeeded": "succeeded", "payment_intent.payment_failed": "failed",
                  "payment_intent.processing": "processing", "payment_intent.canceled": "failed"}
RETRYABLE_ERRORS = (stripe.APIConnectionError, stripe.RateLimitError, stripe.APIError)


class StripeProvider:
    """PaymentProvider over Stripe; build it with `StripeProvider.from_config(app.config)`."""

    name = "stripe"

    def __init__(self, *, secret_key: str, webhook_secret: str | None = None, api_base: str | None = None,
                 max_network_retries: int = 0, http_client: Any = None):
        self.webhook_secret = webhook_secret
        self.client = stripe.StripeClient(
            secret_key, base_addresses={"api": api_base.rstrip("/")} if api_base else None,
            max_network_retries=max_network_retries, http_client=http_client or stripe.RequestsClient(timeout=TIMEOUT))

    @classmethod
    def from_config(cls, config) -> StripeProvider:
        """Read STRIPE_SECRET_KEY, STRIPE_WEBHOOK_SECRET and STRIPE_API_BASE (default: api.stripe.com) from a Flask
        config (or a config class). Raises RuntimeError without a secret key."""
        def setting(name: str):
            return config.get(name) if isinstance(config, Mapping) else getattr(config, name, None)

        if not setting("STRIPE_SECRET_KEY"):
            raise RuntimeError("STRIPE_SECRET_KEY must be set to use Stripe")
        return cls(secret_key=setting("STRIPE_SECRET_KEY"), webhook_secret=setting("STRIPE_WEBHOOK_SECRET"),
                   api_base=setting("STRIPE_API_BASE"))

    def create_charge(self, *, amount: int, currency: str, idempotency_key: str, description: str,
                      metadata: Mapping[str, str], payment_method: str | None = None) -> Charge:
        """Create a card PaymentIntent. With `payment_method` it is confirmed at once: "succeeded" (or
        "processing"/"requires_payment" if the bank wants more), or "failed" with failure_code "card_declined";
        without, it is "requires_payment" with the client_secret for Stripe.js. Raises PaymentError."""
        params: dict[str, Any] = {"amount": amount, "currency": currency.lower(), "description": description,
                                  "metadata": dict(metadata), "payment_method_types": ["card"]}
        if payment_method:
            params.update(payment_method=payment_method, confirm=True)
        try:
            intent = _call("create payment intent", self.client.v1.payment_intents.create, params=params,
                           options={"idempotency_key": idempotency_key}, card_errors=True)
        except stripe.CardError as exc:
            return _declined_charge(exc, amount, currency)
        logger.info("stripe payment intent %s created: %s", intent["id"], intent["status"])
        return _charge(intent)

    def get_charge(self, reference: str) -> Charge:
        """The PaymentIntent as a Charge now (e.g. after Stripe.js confirmed it). Raises PaymentError."""
        return _charge(_call("retrieve payment intent", self.client.v1.payment_intents.retrieve, reference))

    def cancel_charge(self, reference: str) -> Charge:
        """Cancel a PaymentIntent that still waits for its customer; one Stripe will not cancel (it succeeded or
        is processing) is read and returned as it is. Raises PaymentError."""
        try:
            intent = _call("cancel payment intent", self.client.v1.payment_intents.cancel, reference,
                           params={"cancellation_reason": "abandoned"})
        except PaymentError as error:
            if error.retryable:
                raise
            return self.get_charge(reference)
        logger.info("stripe payment intent %s canceled", reference)
        return _charge(intent)

    def refund(self, *, charge_reference: str, amount: int, currency: str, idempotency_key: str) -> Refund:
        """Refund `amount` of the PaymentIntent `charge_reference`. Raises PaymentError."""
        done = _call("create refund", self.client.v1.refunds.create,
                     params={"payment_intent": charge_reference, "amount": amount},
                     options={"idempotency_key": idempotency_key})
        if done.get("status") in ("failed", "canceled"):
            raise PaymentError(f"Stripe refund {done['id']} {done['status']}: {done.get('failure_reason')}")
        logger.info("stripe refund %s of %s: %s", done["id"], charge_reference, done.get("status"))
        return Refund(reference=done["id"], amount=done["amount"], currency=done["currency"].upper())

    def pay_out(self, *, amount: int, currency: str, destination: str, idempotency_key: str,
                description: str) -> Transfer:
        """Transfer `amount` to the connected account `destination` (acct_...). Raises PaymentError."""
        params = {"amount": amount, "currency": currency.lower(), "destination": destination,
                  "description": description}
        done = _call("create transfer", self.client.v1.transfers.create, params=params,
                     options={"idempotency_key": idempotency_key})
        logger.info("stripe transfer %s to %s", done["id"], destination)
        return Transfer(reference=done["id"], amount=done["amount"], currency=done["currency"].upper())

    def parse_webhook(self, payload: bytes, headers: Mapping[str, str]) -> WebhookEvent:
        """Verify the Stripe-Signature header (STRIPE_WEBHOOK_SECRET, at most 300 s old) and read the event.
        Raises InvalidSignature for a bad or stale signature, a missing secret or a body that is not an event."""
        header = next((value for key, value in headers.items() if key.lower() == SIGNATURE_HEADER.lower()), None)
        if not self.webhook_secret:
            logger.error("STRIPE_WEBHOOK_SECRET is not set: Stripe webhooks cannot be verified")
            raise InvalidSignature("No Stripe webhook secret is configured.")
        try:
            event = self.client.construct_event(payload, header, self.webhook_secret).to_dict()
        except stripe.SignatureVerificationError as exc:
            logger.warning("stripe webhook refused: %s", (exc.user_message or "").split(". ")[0])
            raise InvalidSignature((exc.user_message or "Bad signature.").split(". ")[0]) from None
        except (ValueError, AttributeError, TypeError):  # not UTF-8, not JSON, or not a snapshot event
            raise InvalidSignature("The payload is not a Stripe event.") from None
        try:
            return _event(event)
        except (KeyError, TypeError, AttributeError):
            raise InvalidSignature("The payload is not a Stripe event.") from None




def _call(what: str, method, *args, card_errors: bool = False, **kwargs) -> dict:
    """Call an SDK service method and return its object as a plain dict. Stripe errors become PaymentError
    (retryable for outages), except that a CardError passes through when `card_errors` is set."""
    try:
        return method(*args, **kwargs).to_dict()
    except stripe.StripeError as exc:
        if card_errors and isinstance(exc, stripe.CardError):
            raise
        code = getattr(exc.error, "code", None)
        logger.warning("stripe %s failed: %s %s %s (request %s)", what, type(exc).__name__, exc.http_status, code,
                       exc.request_id)
        message = getattr(exc.error, "message", None) or exc.user_message or type(exc).__name__
        if isinstance(exc, stripe.AuthenticationError | stripe.PermissionError):
            logger.error("Stripe refused STRIPE_SECRET_KEY (%s)", type(exc).__name__)
            message = "Stripe refused Abode's API key."  # Stripe's text quotes part of the key: keep it from guests
        raise PaymentError(f"Stripe could not {what}: {message}", retryable=isinstance(exc, RETRYABLE_ERRORS),
                           code="card_declined" if isinstance(exc, stripe.CardError) else "payment_failed") from exc


def _charge(intent: Mapping) -> Charge:
    """A PaymentIntent (as a dict) as a Charge."""
    status = STATUSES.get(intent["status"], "processing")
    failure_code = failure_message = None
    if status == "failed":
        failure_code = "payment_failed"
        failure_message = f"The payment was canceled ({intent.get('cancellation_reason') or 'no reason given'})."
    return Charge(reference=intent["id"], status=status, amount=intent["amount"], currency=intent["currency"].upper(),
                  client_secret=intent.get("client_secret") if status == "requires_payment" else None,
                  failure_code=failure_code, failure_message=failure_message)


def _declined_charge(exc: stripe.CardError, amount: int, currency: str) -> Charge:
    """The failed Charge for a card error; raises PaymentError when Stripe named no PaymentIntent."""
    error = (exc.json_body or {}).get("error") or {}
    code = "card_declined" if error.get("decline_code") or exc.code in DECLINE_CODES else "payment_failed"
    message = error.get("message") or "Your card was declined."
    intent = error.get("payment_intent")
    logger.warning("stripe card error on %s: %s %s", (intent or {}).get("id"), exc.code, error.get("decline_code"))
    if not intent:
        raise PaymentError(message, code=code) from exc
    return Charge(reference=intent["id"], status="failed", amount=intent.get("amount", amount),
                  currency=(intent.get("currency") or currency).upper(), failure_code=code, failure_message=message)


def _event(event: Mapping) -> WebhookEvent:
    """A verified event reduced to a WebhookEvent. `data` holds the object's id, amount, currency and metadata,
    plus amount_refunded for charge.* events and failure_code/failure_message for a failed payment. A refund
    does not change the charge's status, so charge.refunded carries status None."""
    kind, obj = event["type"], event["data"]["object"]
    is_intent = obj.get("object") == "payment_intent"
    reference = obj.get("id") if is_intent else obj.get("payment_intent")
    data: dict[str, Any] = {"object": obj.get("object"), "object_id": obj.get("id"),
                            "metadata": dict(obj.get("metadata") or {})}
    if isinstance(obj.get("amount"), int) and obj.get("currency"):
        data.update(amount=obj["amount"], currency=obj["currency"].upper())
    if obj.get("object") == "charge":
        data["amount_refunded"] = obj.get("amount_refunded", 0)
    status = EVENT_STATUSES.get(kind) if is_intent else None
    if status == "failed":
        last_error = obj.get("last_payment_error") or {}
        declined = last_error.get("decline_code") or last_error.get("code") in DECLINE_CODES
        data.update(failure_code="card_declined" if declined else "payment_failed",
                    failure_message=last_error.get("message") or "The payment failed.")
    return WebhookEvent(id=event["id"], type=kind, charge_reference=reference if isinstance(reference, str) else None,
                        status=status, created=int(event["created"]), data=data)
