"""PayPal reconciliation: a capture that completes after the booking could no longer take it, its webhook lost, is
found by jobs run-due without capturing anything new, and refunded."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import update

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


# reconcile._reconcile never reads a PayPal payment whose booking can no longer take it ("left to PayPal"), because
# get_charge both reads and captures. A capture that was PENDING is money PayPal takes without Abode: when it
# completes and its webhook is lost, run-due never learns of it, and the guest is never refunded.
def test_a_pending_capture_that_completes_without_its_webhook_is_refunded_by_run_due(
        app, client, auth_headers, booking, paypal_stub):
    created = client.post("/api/v1/payments", json={"booking_id": booking.id},
                          headers={**auth_headers(booking.guest), "Idempotency-Key": "pp-1"}).get_json()
    order_id = created["client_secret"]
    paypal_stub.hold_capture(order_id)
    paypal_stub.approve(order_id)
    client.post(f"/api/v1/payments/{created['id']}/confirm", headers=auth_headers(booking.guest))  # processing
    later = booking.created_at + timedelta(minutes=31)
    runner = app.test_cli_runner()
    assert "1 booking(s) expired" in runner.invoke(args=["jobs", "run-due", "--now", later.isoformat() + "Z"]).output
    paypal_stub.complete_capture(order_id)  # PayPal cleared the funds; its webhook never arrives
    db.session.execute(update(Payment).values(updated_at=datetime(2020, 1, 1)))
    db.session.commit()
    runner.invoke(args=["jobs", "run-due"])
    db.session.expire_all()
    payment = db.session.get(Payment, created["id"])
    assert (payment.status, payment.refunded_amount) == ("refunded", booking.total_amount), (
        f"PayPal holds the guest's {booking.total_amount} JPY; Abode says {payment.status}")
