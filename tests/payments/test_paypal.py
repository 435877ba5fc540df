"""PayPalProvider against the local PayPal REST stub (tests/support/paypal_stub.py): tokens, orders, capture, refunds,
payouts, outages and webhook verification. No Flask app is needed."""

from __future__ import annotations

import json
import socket
import threading
from datetime import UTC, datetime

import pytest

from app.payment_providers.base import InvalidSignature, PaymentError
from app.payment_providers.paypal import PayPalProvider

from ..support.paypal_stub import (
    CLIENT_ID,
    CLIENT_SECRET,
    DECLINED_VAULT_ID,
    WEBHOOK_ID,
    PayPalStub,
)

META = {"booking_id": "42", "payment_id": "7"}
EVENT_TIME = int(datetime(2026, 11, 23, 10, tzinfo=UTC).timestamp())  # create_time 2026-11-23T10:00:00.123Z


@pytest.fixture
def provider(paypal_stub: PayPalStub) -> PayPalProvider:
    return PayPalProvider.from_config({"PAYPAL_CLIENT_ID": CLIENT_ID, "PAYPAL_CLIENT_SECRET": CLIENT_SECRET,
                                       "PAYPAL_API_BASE": paypal_stub.url, "PAYPAL_WEBHOOK_ID": WEBHOOK_ID})


def charge(provider: PayPalProvider, key: str = "abode-payment-1", amount: int = 12550, currency: str = "USD",
           payment_method: str | None = None):
    return provider.create_charge(amount=amount, currency=currency, idempotency_key=key,
                                  description="Abode booking 42", metadata=META, payment_method=payment_method)


def test_from_config_without_credentials_raises():
    with pytest.raises(RuntimeError, match="PAYPAL_CLIENT_ID"):
        PayPalProvider.from_config({"PAYPAL_CLIENT_ID": "x"})


def test_from_config_without_api_base_uses_sandbox():
    provider = PayPalProvider.from_config({"PAYPAL_CLIENT_ID": "x", "PAYPAL_CLIENT_SECRET": "y"})
    assert provider.api_base == "https://api-m.sandbox.paypal.com"
    assert provider.name == "paypal"


def test_token_fetched_once_and_reused(provider, paypal_stub):
    charge(provider, "k1")
    charge(provider, "k2")
    token_calls = paypal_stub.calls("/v1/oauth2/token")
    assert len(token_calls) == 1
    assert token_calls[0].authorization.startswith("Basic ")
    bearers = {call.authorization for call in paypal_stub.calls("/v2/")}
    assert len(bearers) == 1 and bearers.pop().startswith("Bearer A21AA")


def test_token_fetched_once_by_parallel_calls(provider, paypal_stub):
    created = charge(provider)
    fresh = PayPalProvider(client_id=CLIENT_ID, client_secret=CLIENT_SECRET, api_base=paypal_stub.url)
    threads = [threading.Thread(target=fresh.get_charge, args=(created.reference,)) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(paypal_stub.calls("/v1/oauth2/token")) == 2
    assert len(paypal_stub.calls(f"/v2/checkout/orders/{created.reference}")) == 4


def test_token_near_expiry_is_renewed(provider, paypal_stub):
    paypal_stub.token_ttl = 30  # inside the renewal margin: never reused
    charge(provider, "k1")
    charge(provider, "k2")
    assert len(paypal_stub.calls("/v1/oauth2/token")) == 2


def test_token_revoked_401_is_retryable_and_next_call_fetches_a_new_one(provider, paypal_stub):
    charge(provider, "k1")
    paypal_stub.revoke_tokens()
    with pytest.raises(PaymentError) as caught:
        charge(provider, "k2")
    assert caught.value.retryable
    assert charge(provider, "k2").status == "requires_payment"
    assert len(paypal_stub.calls("/v1/oauth2/token")) == 2


def test_bad_credentials_are_not_retryable(paypal_stub):
    provider = PayPalProvider(client_id=CLIENT_ID, client_secret="wrong", api_base=paypal_stub.url)
    with pytest.raises(PaymentError) as caught:
        charge(provider)
    assert not caught.value.retryable and caught.value.code == "payment_failed"


def test_create_charge_usd_sends_decimal_value_and_request_id(provider, paypal_stub):
    result = charge(provider, "abode-payment-9", amount=12550, currency="USD")
    [call] = paypal_stub.calls("/v2/checkout/orders")
    assert call.request_id == "abode-payment-9"
    unit = call.json["purchase_units"][0]
    assert call.json["intent"] == "CAPTURE"
    assert unit["amount"] == {"currency_code": "USD", "value": "125.50"}
    assert unit["custom_id"] == "booking_id=42&payment_id=7" and unit["description"] == "Abode booking 42"
    assert "payment_source" not in call.json
    assert (result.status, result.amount, result.currency) == ("requires_payment", 12550, "USD")
    assert result.reference in paypal_stub.orders and result.client_secret == result.reference


def test_create_charge_jpy_has_no_decimals(provider, paypal_stub):
    result = charge(provider, amount=15000, currency="JPY")
    [call] = paypal_stub.calls("/v2/checkout/orders")
    assert call.json["purchase_units"][0]["amount"] == {"currency_code": "JPY", "value": "15000"}
    assert (result.amount, result.currency) == (15000, "JPY")


def test_create_charge_same_request_id_twice_makes_one_order(provider, paypal_stub):
    first, second = charge(provider, "same-key"), charge(provider, "same-key")
    assert first == second
    assert len(paypal_stub.orders) == 1


def test_get_charge_before_approval_still_requires_payment(provider, paypal_stub):
    created = charge(provider)
    assert provider.get_charge(created.reference).status == "requires_payment"
    assert not paypal_stub.calls(f"/v2/checkout/orders/{created.reference}/capture")


def test_get_charge_after_approval_captures_and_succeeds(provider, paypal_stub):
    created = charge(provider)
    paypal_stub.approve(created.reference)
    result = provider.get_charge(created.reference)
    assert (result.status, result.amount, result.client_secret) == ("succeeded", 12550, None)
    assert len(paypal_stub.calls(f"/v2/checkout/orders/{created.reference}/capture")) == 1
    assert provider.get_charge(created.reference).status == "succeeded"  # completed: no second capture
    assert len(paypal_stub.calls(f"/v2/checkout/orders/{created.reference}/capture")) == 1


def test_get_charge_declined_instrument_fails_with_card_declined(provider, paypal_stub):
    created = charge(provider)
    paypal_stub.approve(created.reference, declined=True)
    result = provider.get_charge(created.reference)
    assert (result.status, result.failure_code) == ("failed", "card_declined")
    assert "declined" in result.failure_message
    paypal_stub.approve(created.reference)  # the buyer picks another funding source
    assert provider.get_charge(created.reference).status == "succeeded"


def test_create_charge_with_vault_token_is_captured_at_once(provider, paypal_stub):
    result = charge(provider, payment_method="vault-good-1")
    [call] = paypal_stub.calls("/v2/checkout/orders")
    assert call.json["payment_source"] == {"paypal": {"vault_id": "vault-good-1"}}
    assert (result.status, result.client_secret, result.failure_code) == ("succeeded", None, None)


def test_create_charge_with_declined_vault_token_fails_with_card_declined(provider):
    result = charge(provider, payment_method=DECLINED_VAULT_ID)
    assert (result.status, result.failure_code) == ("failed", "card_declined")


def test_refund_partial_sends_amount_to_the_capture_once(provider, paypal_stub):
    paid = charge(provider, payment_method="vault-good-1")
    capture_id = paypal_stub.orders[paid.reference]["purchase_units"][0]["payments"]["captures"][0]["id"]
    refund = provider.refund(charge_reference=paid.reference, amount=5000, currency="USD",
                             idempotency_key="abode-refund-3")
    again = provider.refund(charge_reference=paid.reference, amount=5000, currency="USD",
                            idempotency_key="abode-refund-3")
    assert refund == again and (refund.amount, refund.currency) == (5000, "USD")
    calls = paypal_stub.calls(f"/v2/payments/captures/{capture_id}/refund")
    assert [call.request_id for call in calls] == ["abode-refund-3", "abode-refund-3"]
    assert calls[0].json["amount"] == {"currency_code": "USD", "value": "50.00"}
    payments = paypal_stub.orders[paid.reference]["purchase_units"][0]["payments"]
    assert len(payments["refunds"]) == 1 and payments["captures"][0]["status"] == "PARTIALLY_REFUNDED"
    assert provider.get_charge(paid.reference).status == "succeeded"


def test_refund_more_than_captured_is_refused(provider):
    paid = charge(provider, payment_method="vault-good-1")
    with pytest.raises(PaymentError) as caught:
        provider.refund(charge_reference=paid.reference, amount=12551, currency="USD", idempotency_key="r1")
    assert not caught.value.retryable


def test_refund_of_uncaptured_order_is_refused(provider):
    created = charge(provider)
    with pytest.raises(PaymentError, match="capture to refund"):
        provider.refund(charge_reference=created.reference, amount=100, currency="USD", idempotency_key="r1")


def test_pay_out_to_email_with_sender_batch_id(provider, paypal_stub):
    transfer = provider.pay_out(amount=9870, currency="USD", destination="host@example.com",
                                idempotency_key="abode-payout-5", description="Abode payout for booking 42")
    [call] = paypal_stub.calls("/v1/payments/payouts")
    assert call.json["sender_batch_header"]["sender_batch_id"] == "abode-payout-5"
    [item] = call.json["items"]
    assert (item["receiver"], item["recipient_type"]) == ("host@example.com", "EMAIL")
    assert item["amount"] == {"currency": "USD", "value": "98.70"}
    assert (transfer.reference, transfer.amount, transfer.currency) == (next(iter(paypal_stub.payouts)), 9870, "USD")


def test_pay_out_same_key_twice_pays_once_even_after_request_ids_expire(provider, paypal_stub):
    kwargs = {"amount": 9870, "currency": "USD", "destination": "host@example.com",
              "idempotency_key": "abode-payout-5", "description": "Abode payout"}
    first = provider.pay_out(**kwargs)
    assert provider.pay_out(**kwargs) == first
    paypal_stub.forget_request_ids()  # now PayPal refuses the reused sender_batch_id and links to the batch
    assert provider.pay_out(**kwargs) == first
    assert len(paypal_stub.payouts) == 1


def test_server_error_is_retryable_and_the_retry_makes_one_order(provider, paypal_stub):
    charge(provider, "warm-up")  # fetch the token first, so the 500 hits the order call
    paypal_stub.fail_next(1)
    with pytest.raises(PaymentError) as caught:
        charge(provider, "abode-payment-2")
    assert caught.value.retryable and caught.value.code == "payment_failed"
    assert charge(provider, "abode-payment-2").status == "requires_payment"
    assert len(paypal_stub.orders) == 2


def test_unreachable_paypal_is_retryable():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # closed again before use: nothing listens there
    provider = PayPalProvider(client_id=CLIENT_ID, client_secret=CLIENT_SECRET, api_base=f"http://127.0.0.1:{port}")
    with pytest.raises(PaymentError) as caught:
        charge(provider)
    assert caught.value.retryable


def test_missing_or_odd_order_reference_is_refused_without_a_request(provider, paypal_stub):
    for reference in ("", "../../v1/payments/payouts"):
        with pytest.raises(PaymentError) as caught:
            provider.get_charge(reference)
        assert not caught.value.retryable
    assert not paypal_stub.requests


def test_unknown_order_is_not_retryable(provider):
    with pytest.raises(PaymentError) as caught:
        provider.get_charge("NOSUCHORDER")
    assert not caught.value.retryable and caught.value.code == "payment_failed"


def capture_event(kind: str, status: str, order_id: str = "5O190127TN364715T") -> dict:
    return {"id": "WH-2WR32451HC0233532-67976317FL4543714", "event_version": "1.0",
            "create_time": "2026-11-23T10:00:00.123Z", "resource_type": "capture", "event_type": kind,
            "summary": "Payment completed", "resource": {
                "id": "3C679366HH908993F", "status": status, "custom_id": "booking_id=42&payment_id=7",
                "amount": {"currency_code": "USD", "value": "125.50"}, "final_capture": True,
                "supplementary_data": {"related_ids": {"order_id": order_id}}}}


def test_parse_webhook_verified_capture_completed(provider, paypal_stub):
    payload, headers = paypal_stub.sign(capture_event("PAYMENT.CAPTURE.COMPLETED", "COMPLETED"))
    event = provider.parse_webhook(payload, headers)
    assert (event.id, event.type) == ("WH-2WR32451HC0233532-67976317FL4543714", "PAYMENT.CAPTURE.COMPLETED")
    assert (event.charge_reference, event.status, event.created) == ("5O190127TN364715T", "succeeded", EVENT_TIME)
    assert event.data["capture_id"] == "3C679366HH908993F" and event.data["amount"] == 12550
    assert event.data["custom_id"] == "booking_id=42&payment_id=7"
    [call] = paypal_stub.calls("/v1/notifications/verify-webhook-signature")
    assert call.json["webhook_id"] == WEBHOOK_ID and call.json["webhook_event"] == json.loads(payload)


def test_parse_webhook_capture_finds_the_order_by_its_up_link(provider, paypal_stub):
    paid = charge(provider, payment_method="vault-good-1")
    capture = paypal_stub.orders[paid.reference]["purchase_units"][0]["payments"]["captures"][0]
    delivery = {"id": "WH-3", "create_time": "2026-11-23T10:00:00Z", "resource_type": "capture",
                "event_type": "PAYMENT.CAPTURE.COMPLETED", "resource": capture}
    event = provider.parse_webhook(*paypal_stub.sign(delivery))
    assert (event.charge_reference, event.status, event.data["capture_id"]) == (paid.reference, "succeeded",
                                                                                 capture["id"])


def test_parse_webhook_capture_denied_is_failed(provider, paypal_stub):
    event = provider.parse_webhook(*paypal_stub.sign(capture_event("PAYMENT.CAPTURE.DENIED", "DECLINED")))
    assert event.status == "failed"


def test_parse_webhook_order_approved_names_the_order(provider, paypal_stub):
    created = charge(provider)
    paypal_stub.approve(created.reference)
    delivery = {"id": "WH-1", "create_time": "2026-11-23T10:00:00Z", "resource_type": "checkout-order",
                "event_type": "CHECKOUT.ORDER.APPROVED", "resource": paypal_stub.orders[created.reference]}
    event = provider.parse_webhook(*paypal_stub.sign(delivery))
    assert (event.charge_reference, event.status, event.data["amount"]) == (created.reference, "processing", 12550)
    assert event.data["custom_id"] == "booking_id=42&payment_id=7"


def test_parse_webhook_refund_gives_the_capture_id(provider, paypal_stub):
    paid = charge(provider, payment_method="vault-good-1")
    done = provider.refund(charge_reference=paid.reference, amount=550, currency="USD", idempotency_key="r1")
    capture_id = paypal_stub.orders[paid.reference]["purchase_units"][0]["payments"]["captures"][0]["id"]
    refund = paypal_stub.orders[paid.reference]["purchase_units"][0]["payments"]["refunds"][0]
    delivery = {"id": "WH-2", "create_time": "2026-11-23T10:00:00Z", "resource_type": "refund",
                "event_type": "PAYMENT.CAPTURE.REFUNDED", "resource": refund}
    event = provider.parse_webhook(*paypal_stub.sign(delivery))
    assert (event.status, event.data["resource_id"], event.data["capture_id"]) == (None, done.reference, capture_id)
    assert event.data["custom_id"] == "booking_id=42&payment_id=7" and event.data["amount"] == 550


def test_parse_webhook_tampered_payload_is_rejected(provider, paypal_stub):
    payload, headers = paypal_stub.sign(capture_event("PAYMENT.CAPTURE.COMPLETED", "COMPLETED"))
    with pytest.raises(InvalidSignature):
        provider.parse_webhook(payload.replace(b"125.50", b"1.00"), headers)


def test_parse_webhook_for_another_webhook_id_is_rejected(provider, paypal_stub):
    with pytest.raises(InvalidSignature):
        provider.parse_webhook(*paypal_stub.sign(capture_event("PAYMENT.CAPTURE.COMPLETED", "COMPLETED"),
                                                 webhook_id="WHSOMEONEELSE01"))


def test_parse_webhook_without_headers_is_rejected_without_asking_paypal(provider, paypal_stub):
    payload, headers = paypal_stub.sign(capture_event("PAYMENT.CAPTURE.COMPLETED", "COMPLETED"))
    del headers["PAYPAL-TRANSMISSION-SIG"]
    with pytest.raises(InvalidSignature):
        provider.parse_webhook(payload, headers)
    assert not paypal_stub.requests


def test_parse_webhook_when_paypal_is_down_is_retryable(provider, paypal_stub):
    delivery = paypal_stub.sign(capture_event("PAYMENT.CAPTURE.COMPLETED", "COMPLETED"))
    paypal_stub.fail_next(1)
    with pytest.raises(PaymentError) as caught:
        provider.parse_webhook(*delivery)
    assert caught.value.retryable
