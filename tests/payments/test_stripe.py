"""StripeProvider against the local Stripe API stub (tests/support/stripe_stub.py): PaymentIntents, declines,
idempotency, refunds, transfers, outages and signed webhooks. No Flask app is needed."""

from __future__ import annotations

import json
import socket
import time

import pytest
import stripe

from app.payment_providers.base import Charge, InvalidSignature, PaymentError
from app.payment_providers.stripe_provider import StripeProvider

from ..support.stripe_stub import (
    API_KEY,
    CONNECTED_ACCOUNT,
    WEBHOOK_SECRET,
    StripeStub,
)

META = {"booking_id": "42", "payment_id": "7"}


@pytest.fixture
def provider(stripe_stub: StripeStub) -> StripeProvider:
    return StripeProvider.from_config({"STRIPE_SECRET_KEY": API_KEY, "STRIPE_WEBHOOK_SECRET": WEBHOOK_SECRET,
                                       "STRIPE_API_BASE": stripe_stub.url})


def charge(provider: StripeProvider, key: str = "abode-payment-7", amount: int = 12550, currency: str = "USD",
           payment_method: str | None = "pm_card_visa") -> Charge:
    return provider.create_charge(amount=amount, currency=currency, idempotency_key=key,
                                  description="Abode booking 42", metadata=META, payment_method=payment_method)


def delivery(event: dict, secret: str = WEBHOOK_SECRET, timestamp: int | None = None) -> tuple[bytes, dict]:
    """`event` as Stripe delivers it: the exact body and a Stripe-Signature header over it."""
    payload = json.dumps(event, indent=2)
    header = stripe.WebhookSignature.generate_signature_header(payload, secret, timestamp=timestamp)
    return payload.encode(), {"Stripe-Signature": header, "Content-Type": "application/json"}


def test_from_config_without_secret_key_raises():
    with pytest.raises(RuntimeError, match="STRIPE_SECRET_KEY"):
        StripeProvider.from_config({"STRIPE_WEBHOOK_SECRET": "whsec_x"})


def test_from_config_reads_a_config_class():
    class Settings:
        STRIPE_SECRET_KEY, STRIPE_WEBHOOK_SECRET, STRIPE_API_BASE = "sk_test_x", "whsec_x", None

    provider = StripeProvider.from_config(Settings)
    assert provider.name == "stripe" and provider.webhook_secret == "whsec_x"


def test_create_charge_with_visa_succeeds_and_sends_what_stripe_expects(provider, stripe_stub):
    result = charge(provider)

    assert result.status == "succeeded" and result.reference.startswith("pi_")
    assert (result.amount, result.currency, result.client_secret, result.failure_code) == (12550, "USD", None, None)
    [call] = stripe_stub.calls("/v1/payment_intents")
    assert (call.method, call.path) == ("POST", "/v1/payment_intents")
    assert call.params == {"amount": "12550", "currency": "usd", "description": "Abode booking 42", "metadata": META,
                           "payment_method_types": ["card"], "payment_method": "pm_card_visa", "confirm": "true"}
    assert call.idempotency_key == "abode-payment-7"
    assert call.authorization == f"Bearer {API_KEY}"
    assert stripe_stub.intents[result.reference]["status"] == "succeeded"


def test_create_charge_in_jpy_passes_the_amount_unchanged(provider, stripe_stub):
    result = charge(provider, amount=15000, currency="JPY")

    assert (result.status, result.amount, result.currency) == ("succeeded", 15000, "JPY")
    [call] = stripe_stub.calls("/v1/payment_intents")
    assert (call.params["amount"], call.params["currency"]) == ("15000", "jpy")


def test_create_charge_with_declined_card_returns_failed_charge(provider, stripe_stub):
    result = charge(provider, payment_method="pm_card_chargeDeclined")

    assert result.status == "failed"
    assert (result.failure_code, result.failure_message) == ("card_declined", "Your card was declined.")
    intent = stripe_stub.intents[result.reference]  # the PaymentIntent Stripe kept, named in the 402
    assert intent["status"] == "requires_payment_method"
    assert intent["last_payment_error"]["decline_code"] == "generic_decline"
    assert (result.amount, result.currency) == (12550, "USD")


def test_create_charge_declined_twice_with_same_key_replays_the_decline(provider, stripe_stub):
    first = charge(provider, payment_method="pm_card_chargeDeclined")
    second = charge(provider, payment_method="pm_card_chargeDeclined")

    assert first == second and len(stripe_stub.intents) == 1


def test_create_charge_without_payment_method_returns_client_secret_then_confirms(provider, stripe_stub):
    pending = charge(provider, payment_method=None)

    assert pending.status == "requires_payment"
    assert pending.client_secret.startswith(f"{pending.reference}_secret_")
    [call] = stripe_stub.calls("/v1/payment_intents")
    assert "confirm" not in call.params and "payment_method" not in call.params

    stripe_stub.confirm(pending.reference, "pm_card_visa")  # what Stripe.js does in the guest's browser
    done = provider.get_charge(pending.reference)

    assert (done.reference, done.status, done.client_secret, done.amount) == (pending.reference, "succeeded", None,
                                                                            12550)
    assert stripe_stub.calls(f"/v1/payment_intents/{pending.reference}", "GET")


def test_get_charge_after_client_side_decline_still_requires_payment(provider, stripe_stub):
    pending = charge(provider, payment_method=None)
    stripe_stub.confirm(pending.reference, "pm_card_chargeDeclined")

    again = provider.get_charge(pending.reference)

    assert again.status == "requires_payment" and again.client_secret == pending.client_secret


def test_get_charge_of_canceled_intent_is_failed(provider, stripe_stub):
    pending = charge(provider, payment_method=None)
    stripe_stub.intents[pending.reference].update(status="canceled", cancellation_reason="abandoned")

    result = provider.get_charge(pending.reference)

    assert (result.status, result.failure_code) == ("failed", "payment_failed")


def test_get_charge_of_unknown_intent_raises_not_retryable(provider):
    with pytest.raises(PaymentError) as caught:
        provider.get_charge("pi_missing")
    assert caught.value.retryable is False and caught.value.code == "payment_failed"


def test_create_charge_same_idempotency_key_twice_creates_one_intent(provider, stripe_stub):
    first = charge(provider)
    second = charge(provider)

    assert first == second and len(stripe_stub.intents) == 1
    calls = stripe_stub.calls("/v1/payment_intents", "POST")
    assert [call.idempotency_key for call in calls] == ["abode-payment-7", "abode-payment-7"]


def test_create_charge_same_key_other_amount_raises_not_retryable(provider, stripe_stub):
    charge(provider)

    with pytest.raises(PaymentError, match="same parameters") as caught:
        charge(provider, amount=9900)
    assert caught.value.retryable is False and len(stripe_stub.intents) == 1


def test_create_charge_on_server_error_raises_retryable_and_retry_succeeds(provider, stripe_stub):
    stripe_stub.fail_next(1)

    with pytest.raises(PaymentError) as caught:
        charge(provider)
    assert caught.value.retryable is True and caught.value.code == "payment_failed"
    assert len(stripe_stub.calls("/v1/payment_intents")) == 1  # the SDK retried nothing

    assert charge(provider).status == "succeeded"  # the caller's retry, same key
    assert len(stripe_stub.intents) == 1


def test_create_charge_when_stripe_is_unreachable_raises_retryable():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # closed again before the call: nothing listens there
    provider = StripeProvider(secret_key=API_KEY, api_base=f"http://127.0.0.1:{port}")

    with pytest.raises(PaymentError) as caught:
        charge(provider)
    assert caught.value.retryable is True


def test_create_charge_with_wrong_secret_key_raises_not_retryable(stripe_stub):
    provider = StripeProvider(secret_key="sk_test_wrong", api_base=stripe_stub.url)

    with pytest.raises(PaymentError) as caught:
        charge(provider)
    assert caught.value.retryable is False and not stripe_stub.intents
    assert "sk_test" not in str(caught.value)


def test_refund_part_of_a_charge(provider, stripe_stub):
    paid = charge(provider)

    refund = provider.refund(charge_reference=paid.reference, amount=5000, currency="USD",
                             idempotency_key="abode-refund-7-1")

    assert refund.reference.startswith("re_") and (refund.amount, refund.currency) == (5000, "USD")
    [call] = stripe_stub.calls("/v1/refunds")
    assert call.params == {"payment_intent": paid.reference, "amount": "5000"}
    assert call.idempotency_key == "abode-refund-7-1"
    latest = stripe_stub.charges[stripe_stub.intents[paid.reference]["latest_charge"]]
    assert (latest["amount_refunded"], latest["refunded"]) == (5000, False)


def test_refund_of_unknown_payment_intent_raises_not_retryable(provider):
    with pytest.raises(PaymentError, match="No such payment_intent") as caught:
        provider.refund(charge_reference="pi_missing", amount=100, currency="USD", idempotency_key="re-1")
    assert caught.value.retryable is False


def test_refund_retried_with_same_key_refunds_once(provider, stripe_stub):
    paid = charge(provider)
    kwargs = {"charge_reference": paid.reference, "amount": 5000, "currency": "USD", "idempotency_key": "re-1"}

    assert provider.refund(**kwargs) == provider.refund(**kwargs)
    assert len(stripe_stub.refunds) == 1


def test_refund_more_than_is_left_raises_not_retryable(provider):
    paid = charge(provider)
    provider.refund(charge_reference=paid.reference, amount=10000, currency="USD", idempotency_key="re-1")

    with pytest.raises(PaymentError, match="greater than unrefunded") as caught:
        provider.refund(charge_reference=paid.reference, amount=5000, currency="USD", idempotency_key="re-2")
    assert caught.value.retryable is False


def test_pay_out_transfers_to_the_connected_account(provider, stripe_stub):
    transfer = provider.pay_out(amount=11000, currency="EUR", destination=CONNECTED_ACCOUNT,
                                idempotency_key="abode-payout-3", description="Abode payout 3")

    assert transfer.reference.startswith("tr_") and (transfer.amount, transfer.currency) == (11000, "EUR")
    [call] = stripe_stub.calls("/v1/transfers")
    assert call.params == {"amount": "11000", "currency": "eur", "destination": CONNECTED_ACCOUNT,
                           "description": "Abode payout 3"}
    assert call.idempotency_key == "abode-payout-3"
    assert stripe_stub.transfers[transfer.reference]["destination"] == CONNECTED_ACCOUNT


def test_pay_out_to_unknown_account_raises_not_retryable(provider):
    with pytest.raises(PaymentError, match="No such destination") as caught:
        provider.pay_out(amount=100, currency="USD", destination="acct_unknown", idempotency_key="p-1",
                         description="Abode payout 1")
    assert caught.value.retryable is False


def test_pay_out_on_server_error_raises_retryable(provider, stripe_stub):
    stripe_stub.fail_next(1)

    with pytest.raises(PaymentError) as caught:
        provider.pay_out(amount=100, currency="USD", destination=CONNECTED_ACCOUNT, idempotency_key="p-1",
                         description="Abode payout 1")
    assert caught.value.retryable is True and not stripe_stub.transfers


def test_parse_webhook_payment_intent_succeeded(provider, stripe_stub):
    paid = charge(provider)
    event = stripe_stub.event("payment_intent.succeeded", paid.reference)

    parsed = provider.parse_webhook(*delivery(event))

    assert (parsed.id, parsed.type, parsed.charge_reference, parsed.status, parsed.created) == (
        event["id"], "payment_intent.succeeded", paid.reference, "succeeded", event["created"])
    assert parsed.data["metadata"] == META and (parsed.data["amount"], parsed.data["currency"]) == (12550, "USD")


def test_parse_webhook_payment_failed_carries_the_decline(provider, stripe_stub):
    pending = charge(provider, payment_method=None)
    stripe_stub.confirm(pending.reference, "pm_card_chargeDeclined")

    parsed = provider.parse_webhook(*delivery(stripe_stub.event("payment_intent.payment_failed", pending.reference)))

    assert (parsed.charge_reference, parsed.status, parsed.data["failure_code"]) == (pending.reference, "failed",
                                                                                    "card_declined")


def test_parse_webhook_processing(provider, stripe_stub):
    pending = charge(provider, payment_method=None)
    stripe_stub.intents[pending.reference]["status"] = "processing"

    parsed = provider.parse_webhook(*delivery(stripe_stub.event("payment_intent.processing", pending.reference)))

    assert (parsed.charge_reference, parsed.status) == (pending.reference, "processing")


def test_parse_webhook_charge_refunded_names_the_payment_intent(provider, stripe_stub):
    paid = charge(provider)
    provider.refund(charge_reference=paid.reference, amount=2550, currency="USD", idempotency_key="re-1")

    body, headers = delivery(stripe_stub.event("charge.refunded", paid.reference))
    parsed = provider.parse_webhook(body, {key.lower(): value for key, value in headers.items()})

    assert (parsed.type, parsed.charge_reference, parsed.status) == ("charge.refunded", paid.reference, None)
    assert parsed.data["amount_refunded"] == 2550


def test_parse_webhook_other_event_is_returned_without_status(provider):
    event = {"id": "evt_1", "object": "event", "type": "customer.created", "created": 1700000000,
             "data": {"object": {"id": "cus_1", "object": "customer"}}}

    parsed = provider.parse_webhook(*delivery(event))

    assert (parsed.type, parsed.charge_reference, parsed.status) == ("customer.created", None, None)


def test_parse_webhook_signed_with_another_secret_raises(provider, stripe_stub):
    paid = charge(provider)
    with pytest.raises(InvalidSignature):
        provider.parse_webhook(*delivery(stripe_stub.event("payment_intent.succeeded", paid.reference),
                                         secret="whsec_someone_else"))


def test_parse_webhook_with_tampered_body_raises(provider, stripe_stub):
    paid = charge(provider)
    body, headers = delivery(stripe_stub.event("payment_intent.succeeded", paid.reference))
    with pytest.raises(InvalidSignature):
        provider.parse_webhook(body.replace(b"12550", b"1"), headers)


def test_parse_webhook_older_than_300_seconds_raises(provider, stripe_stub):
    paid = charge(provider)
    event = stripe_stub.event("payment_intent.succeeded", paid.reference)
    with pytest.raises(InvalidSignature, match="tolerance"):
        provider.parse_webhook(*delivery(event, timestamp=int(time.time()) - 301))


@pytest.mark.parametrize("headers", [{}, {"Stripe-Signature": "garbage"}, {"Stripe-Signature": "t=1,v0=abc"}])
def test_parse_webhook_without_usable_signature_raises(provider, headers):
    with pytest.raises(InvalidSignature):
        provider.parse_webhook(b'{"id": "evt_1", "object": "event"}', headers)


@pytest.mark.parametrize("payload", [b"not json", b"\xff\xfe", b"[1, 2]", b'{"object": "event"}'])
def test_parse_webhook_signed_but_unparsable_raises(provider, payload):
    header = stripe.WebhookSignature.generate_signature_header(payload.decode("latin-1"), WEBHOOK_SECRET)
    if payload == b"\xff\xfe":  # signed over bytes that are not UTF-8: nothing can verify it as Stripe's
        header = stripe.WebhookSignature.generate_signature_header("\ufffd", WEBHOOK_SECRET)
    with pytest.raises(InvalidSignature):
        provider.parse_webhook(payload, {"Stripe-Signature": header})


def test_parse_webhook_without_configured_secret_raises(stripe_stub):
    provider = StripeProvider(secret_key=API_KEY, api_base=stripe_stub.url)
    event = {"id": "evt_1", "object": "event", "type": "customer.created", "created": 1, "data": {"object": {}}}
    with pytest.raises(InvalidSignature, match="secret"):
        provider.parse_webhook(*delivery(event))
