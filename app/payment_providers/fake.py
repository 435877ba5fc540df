"""The no-network provider (PAYMENT_PROVIDER=fake, the embedded default): behaves like Stripe's test mode.

`pm_card_visa` (and any other `pm_card_*` but the declines) succeeds, `pm_card_chargeDeclined` is refused as
`card_declined`, `pm_card_processingError` fails as `payment_failed`. Without a payment method a charge waits
for one. Refunds succeed; payouts succeed unless the destination is `acct_unreachable` (a retryable outage, so
the retry path can be seen). Nothing is remembered between calls, so every app process agrees.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping

from .base import Charge, InvalidSignature, PaymentError, Refund, Transfer, WebhookEvent

DECLINED = {"pm_card_chargeDeclined": "card_declined", "pm_card_processingError": "payment_failed"}
UNREACHABLE = "acct_unreachable"


def _reference(prefix: str, idempotency_key: str) -> str:
    """The same key always names the same object, as the provider's idempotency would."""
    return f"{prefix}_fake_{hashlib.sha256(idempotency_key.encode()).hexdigest()[:24]}"


class FakeProvider:
    name = "fake"

    @classmethod
    def from_config(cls, _config: Mapping) -> FakeProvider:
        return cls()

    def create_charge(self, *, amount: int, currency: str, idempotency_key: str, description: str,
                      metadata: Mapping[str, str], payment_method: str | None = None) -> Charge:
        reference = _reference("pi", idempotency_key)
        if payment_method is None:
            return Charge(reference, "requires_payment", amount, currency, client_secret=f"{reference}_secret")
        if not payment_method.startswith("pm_"):
            raise PaymentError("No such payment method.", code="payment_failed")
        if payment_method in DECLINED:
            code = DECLINED[payment_method]
            message = "Your card was declined." if code == "card_declined" else "The payment could not be processed."
            return Charge(reference, "failed", amount, currency, failure_code=code, failure_message=message)
        return Charge(reference, "succeeded", amount, currency)

    def get_charge(self, reference: str) -> Charge:
        raise PaymentError("The fake provider keeps no charges to look up.")

    def cancel_charge(self, reference: str) -> Charge:
        return Charge(reference, "failed", 0, "", failure_code="payment_failed", failure_message="Canceled.")

    def refund(self, *, charge_reference: str, amount: int, currency: str, idempotency_key: str) -> Refund:
        return Refund(_reference("re", idempotency_key), amount, currency)

    def pay_out(self, *, amount: int, currency: str, destination: str, idempotency_key: str,
                description: str) -> Transfer:
        if destination == UNREACHABLE:
            raise PaymentError("The host's bank did not answer.", retryable=True)
        return Transfer(_reference("tr", idempotency_key), amount, currency)

    def parse_webhook(self, payload: bytes, headers: Mapping[str, str]) -> WebhookEvent:
        raise InvalidSignature("The fake provider sends no webhooks.")
