"""Payments with PAYMENT_PROVIDER=paypal against the local PayPal stub: the buyer approves the order in the
browser, then Abode captures it (confirm call or the CHECKOUT.ORDER.APPROVED webhook); refunds go back to PayPal."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from app.blueprints.bookings import services as bookings
from app.extensions import db
from app.models import Booking, Payment

from ..support.factories import make_listing, make_user
from ..support.paypal_stub import (
    PayPalStub,
)

SOON = date.today() + timedelta(days=30)


@pytest.fixture
def app(make_app, paypal_stub: PayPalStub):
    return make_app(**paypal_stub.settings())


@pytest.fixture
def booking(app) -> Booking:
    listing = make_listing(instant_book=True, min_nights=1, cancellation_policy="flexible",
                           price_per_night={"amount": 15000, "currency": "JPY"}, cleaning_fee=None)
    return bookings.create_booking(guest=make_user(email="guest@example.com"), listing_id=listing.id, check_in=SOON,
                                   check_out=SOON + timedelta(days=2), guests=1)[0]


def start(client, auth_headers, booking) -> dict:
    response = client.post("/api/v1/payments", json={"booking_id": booking.id},
                           headers={**auth_headers(booking.guest), "Idempotency-Key": "pp-1"})
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def test_approved_order_is_captured_on_confirm_in_whole_yen(client, auth_headers, booking, paypal_stub):
    created = start(client, auth_headers, booking)
    order_id = created["client_secret"]  # PayPal's buttons approve the order by its id
    [order] = [call for call in paypal_stub.requests if call.path == "/v2/checkout/orders"]
    assert order.json["purchase_units"][0]["amount"] == {"currency_code": "JPY", "value": str(booking.total_amount)}
    paypal_stub.approve(order_id)
    confirmed = client.post(f"/api/v1/payments/{created['id']}/confirm", headers=auth_headers(booking.guest))
    assert confirmed.status_code == 200 and confirmed.get_json()["status"] == "succeeded"
    db.session.refresh(booking)
    assert booking.status == "confirmed"
    bookings.cancel_booking(booking.id, booking.guest)  # flexible, a month ahead: everything back through PayPal
    assert db.session.get(Payment, created["id"]).status == "refunded"
    assert any(call.path.endswith("/refund") for call in paypal_stub.requests)


def test_approval_webhook_captures_once(client, auth_headers, booking, paypal_stub):
    created = start(client, auth_headers, booking)
    paypal_stub.approve(created["client_secret"])
    delivery = {"id": "WH-APPROVED-1", "create_time": "2026-11-23T10:00:00Z", "resource_type": "checkout-order",
                "event_type": "CHECKOUT.ORDER.APPROVED", "resource": paypal_stub.orders[created["client_secret"]]}
    body, headers = paypal_stub.sign(delivery)
    outcomes = [client.post("/api/v1/payments/webhooks/paypal", data=body, headers=headers).get_json()["outcome"]
                for _ in range(3)]
    assert outcomes == ["applied", "duplicate", "duplicate"]
    assert sum(1 for call in paypal_stub.requests if call.path.endswith("/capture")) == 1
    db.session.refresh(booking)
    assert booking.status == "confirmed"
    forged = dict(headers, **{"PAYPAL-TRANSMISSION-SIG": "AAAA"})
    assert client.post("/api/v1/payments/webhooks/paypal", data=body, headers=forged).status_code == 400


def capture_completed(paypal_stub: PayPalStub, order_id: str, event_id: str = "WH-CAPTURE-1") -> tuple[bytes, dict]:
    """PayPal finishes clearing a held capture and says so: a signed PAYMENT.CAPTURE.COMPLETED delivery."""
    return paypal_stub.sign({"id": event_id, "create_time": "2026-11-23T10:05:00Z", "resource_type": "capture",
                             "event_type": "PAYMENT.CAPTURE.COMPLETED",
                             "resource": paypal_stub.complete_capture(order_id)})


def test_a_capture_that_completes_after_confirm_pays_the_booking_by_webhook(client, auth_headers, booking,
                                                                            paypal_stub):
    created = start(client, auth_headers, booking)
    order_id = created["client_secret"]
    paypal_stub.hold_capture(order_id)
    paypal_stub.approve(order_id)
    confirmed = client.post(f"/api/v1/payments/{created['id']}/confirm", headers=auth_headers(booking.guest))
    assert confirmed.status_code == 200 and confirmed.get_json()["status"] == "processing"
    db.session.refresh(booking)
    assert booking.status == "pending" and not booking.paid
    other = client.post("/api/v1/payments", json={"booking_id": booking.id},
                        headers={**auth_headers(booking.guest), "Idempotency-Key": "pp-2"})
    assert other.status_code == 409 and other.get_json()["error"]["code"] == "payment_in_progress"
    body, headers = capture_completed(paypal_stub, order_id)
    delivered = client.post("/api/v1/payments/webhooks/paypal", data=body, headers=headers)
    assert delivered.get_json()["outcome"] == "applied"  # was "ignored": its own payment counted as under way
    db.session.expire_all()
    assert db.session.get(Payment, created["id"]).status == "succeeded"
    assert db.session.get(Booking, booking.id).status == "confirmed"
    assert sum(1 for call in paypal_stub.requests if call.path.endswith("/capture")) == 1


def test_a_capture_that_completes_after_the_booking_expired_goes_back_to_the_guest(app, client, auth_headers,
                                                                                   booking, paypal_stub):
    created = start(client, auth_headers, booking)
    order_id = created["client_secret"]
    paypal_stub.hold_capture(order_id)
    paypal_stub.approve(order_id)
    client.post(f"/api/v1/payments/{created['id']}/confirm", headers=auth_headers(booking.guest))
    expired = app.test_cli_runner().invoke(args=["jobs", "run-due", "--now", (
        booking.created_at + timedelta(minutes=31)).isoformat() + "Z"])
    assert "1 booking(s) expired" in expired.output
    body, headers = capture_completed(paypal_stub, order_id)
    assert client.post("/api/v1/payments/webhooks/paypal", data=body, headers=headers).get_json()["outcome"] \
        == "applied"
    db.session.expire_all()
    expired_booking, payment = db.session.get(Booking, booking.id), db.session.get(Payment, created["id"])
    assert expired_booking.status == "canceled"
    assert expired_booking.refund_amount == expired_booking.paid_amount == booking.total_amount
    assert (payment.status, payment.refunded_amount) == ("refunded", booking.total_amount)
    assert any(call.path.endswith("/refund") for call in paypal_stub.requests)
    ledger = app.test_cli_runner().invoke(args=["payments", "ledger"])
    assert ledger.exit_code == 0, ledger.output


def test_confirming_a_second_approved_order_of_a_paid_booking_captures_nothing(client, auth_headers, booking,
                                                                              paypal_stub):
    first = start(client, auth_headers, booking)
    paypal_stub.approve(first["client_secret"])  # approved in one window...
    other = client.post("/api/v1/payments", json={"booking_id": booking.id},
                        headers={**auth_headers(booking.guest), "Idempotency-Key": "pp-2"}).get_json()
    assert db.session.get(Payment, first["id"]).status == "failed"  # closed by the new one: never captured
    paypal_stub.approve(other["client_secret"])
    assert client.post(f"/api/v1/payments/{other['id']}/confirm",
                       headers=auth_headers(booking.guest)).get_json()["status"] == "succeeded"
    again = client.post(f"/api/v1/payments/{first['id']}/confirm", headers=auth_headers(booking.guest))
    assert again.status_code in (402, 409)
    assert sum(1 for call in paypal_stub.requests if call.path.endswith("/capture")) == 1
