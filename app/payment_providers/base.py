"""The payment provider interface: what Abode asks of Stripe, PayPal or the no-network fake, in minor units.

Every amount is an integer in minor units of its currency (app/money.py); a provider converts to its own wire
format. Every call that moves money takes an idempotency key, so a retried request never charges, refunds or
pays out twice. Providers raise PaymentError for refusals and outages; the payments service turns them into
the contract's 402 and records them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Protocol

CHARGE_STATUSES = ("requires_payment", "processing", "succeeded", "failed")


class PaymentError(Exception):
    """The provider refused or could not be reached.

    `code` is the contract's 402 code ("card_declined" for a refused card, "payment_failed" otherwise);
    `retryable` is True for outages and timeouts (worth trying again later), False for refusals.
    """

    def __init__(self, message: str, *, code: str = "payment_failed", retryable: bool = False):
        super().__init__(message)
        self.code, self.retryable = code, retryable


class InvalidSignature(Exception):
    """A webhook whose signature does not verify (or is too old)."""


@dataclass(frozen=True)
class Charge:
    """A charge as the provider sees it now."""

    reference: str  # the provider's id: a Stripe PaymentIntent id, a PayPal order id, "fake_pi_..."
    status: str  # one of CHARGE_STATUSES
    amount: int
    currency: str  # ISO code, upper case
    client_secret: str | None = None  # for client-side confirmation (Stripe); None when confirmed server-side
    failure_code: str | None = None  # "card_declined", ... when status is "failed"
    failure_message: str | None = None


@dataclass(frozen=True)
class Refund:
    reference: str
    amount: int
    currency: str


@dataclass(frozen=True)
class Transfer:
    """A payout to a host's connected account."""

    reference: str
    amount: int
    currency: str


@dataclass(frozen=True)
class WebhookEvent:
    """A verified provider event, reduced to what Abode acts on."""

    id: str  # the provider's event id: the same event delivered twice has the same id
    type: str  # e.g. "payment_intent.succeeded", "payment_intent.payment_failed", "charge.refunded"
    charge_reference: str | None  # the charge it is about, if any
    status: str | None  # the charge's status after the event, one of CHARGE_STATUSES, if it says
    created: int  # seconds since the epoch, as the provider stamped it (events may arrive out of order)
    data: Mapping = field(default_factory=dict)


class PaymentProvider(Protocol):
    """What every provider implements (fake, stripe, paypal)."""

    name: str

    def create_charge(self, *, amount: int, currency: str, idempotency_key: str, description: str,
                      metadata: Mapping[str, str], payment_method: str | None = None) -> Charge:
        """Start a charge. With `payment_method` it is confirmed at once (succeeded, or failed with a
        failure_code); without, it waits in "requires_payment" and carries a client_secret."""

    def get_charge(self, reference: str) -> Charge:
        """The charge as it is now (after client-side confirmation, for instance)."""

    def cancel_charge(self, reference: str) -> Charge:
        """Close a charge that waits for the customer, so it can never be confirmed (an abandoned Stripe.js form);
        returns it as it ends up: "failed", or what it had already become (e.g. "succeeded")."""

    def refund(self, *, charge_reference: str, amount: int, currency: str, idempotency_key: str) -> Refund:
        """Give back `amount` of a succeeded charge."""

    def pay_out(self, *, amount: int, currency: str, destination: str, idempotency_key: str,
                description: str) -> Transfer:
        """Send `amount` to a host's account (`destination`: a Stripe connected account id, a PayPal email)."""

    def parse_webhook(self, payload: bytes, headers: Mapping[str, str]) -> WebhookEvent:
        """Verify and read a webhook delivery. Raises InvalidSignature."""
