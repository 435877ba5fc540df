"""Payments and payouts tell the guest and the host once each, whatever repeats: the API, `jobs run-due`, a
second report of the same charge."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import func, select

from app.blueprints.bookings import services as bookings
from app.blueprints.payments import charges
from app.extensions import db
from app.models import Booking, Notification, Payment
from app.payment_providers import Charge

from ..support.factories import make_listing, make_user

SOON = date.today() + timedelta(days=30)


def types_of(user) -> list[str]:
    return list(db.session.scalars(select(Notification.type).where(Notification.user_id == user.id)
                                   .order_by(Notification.id)))


def pay(client, auth_headers, guest, booking, method="pm_card_visa", key="pay-1") -> dict:
    body = {"booking_id": booking.id, "payment_method": method}
    response = client.post("/api/v1/payments", json=body, headers={**auth_headers(guest), "Idempotency-Key": key})
    return response.get_json()


def run_due(app, now: datetime) -> str:
    result = app.test_cli_runner().invoke(args=["jobs", "run-due", "--now", now.isoformat() + "Z"])
    assert result.exit_code == 0, result.output
    return result.output


@pytest.fixture
def stay(app):
    listing = make_listing(instant_book=True, min_nights=1, title="Lake loft",
                           price_per_night={"amount": 10000, "currency": "EUR"})
    guest = make_user(email="guest@example.com")
    booking, _ = bookings.create_booking(guest=guest, listing_id=listing.id, check_in=SOON,
                                         check_out=SOON + timedelta(days=2), guests=1)
    return booking, guest, listing.host


def test_a_card_payment_tells_the_guest_it_was_received_and_both_that_the_stay_is_confirmed(
        client, auth_headers, stay):
    booking, guest, host = stay
    assert pay(client, auth_headers, guest, booking)["status"] == "succeeded"
    pay(client, auth_headers, guest, booking)  # the same key again: the first answer, nothing new
    assert types_of(guest) == ["booking_confirmed", "payment_succeeded"]
    assert types_of(host) == ["booking_confirmed"]
    received = db.session.scalar(select(Notification).where(Notification.type == "payment_succeeded"))
    assert received.data["amount"] == {"amount": booking.total_amount, "currency": "EUR"}
    assert received.title.startswith("Payment received: €") and received.data["url"].startswith("/payments/")


def test_a_declined_card_tells_the_guest_once_and_a_second_report_of_a_success_tells_nobody_again(
        client, auth_headers, stay):
    booking, guest, host = stay
    assert pay(client, auth_headers, guest, booking, "pm_card_chargeDeclined", key="d1")["error"]["code"] \
        == "card_declined"
    assert types_of(guest) == ["payment_failed"]
    assert db.session.get(Notification, db.session.scalar(select(func.max(Notification.id)))).data["url"] \
        == f"/bookings/{booking.id}/checkout"
    pay(client, auth_headers, guest, booking, key="d2")
    payment = db.session.scalar(select(Payment).where(Payment.status == "succeeded"))
    again = Charge(payment.provider_reference, "succeeded", payment.amount, payment.currency)
    charges.apply_charge(payment, again)  # a webhook after the confirmation: already applied
    assert types_of(guest) == ["payment_failed", "booking_confirmed", "payment_succeeded"]
    assert types_of(host) == ["booking_confirmed"]


def test_a_completed_stay_invites_a_review_and_its_payout_tells_the_host_once(app, client, auth_headers, stay):
    booking, guest, host = stay
    pay(client, auth_headers, guest, booking)
    after = datetime.combine(booking.check_out, datetime.min.time()) + timedelta(hours=12)
    assert "1 payout(s) paid" in run_due(app, after)
    run_due(app, after + timedelta(hours=1))
    assert types_of(guest)[-1] == "stay_completed"
    assert types_of(host) == ["booking_confirmed", "payout_paid"]
    invite = db.session.scalar(select(Notification).where(Notification.type == "stay_completed"))
    assert invite.data["url"] == f"/bookings/{booking.id}/review"
    assert db.session.get(Booking, booking.id).status == "completed"


def test_a_failing_payout_tells_the_host_on_its_first_failure_only(app, client, auth_headers, stay):
    booking, guest, host = stay
    host.payout_account = "acct_unreachable"
    db.session.commit()
    pay(client, auth_headers, guest, booking)
    after = datetime.combine(booking.check_out, datetime.min.time()) + timedelta(hours=12)
    run_due(app, after)
    run_due(app, after + timedelta(minutes=5))  # retried, failed again
    assert types_of(host) == ["booking_confirmed", "payout_failed"]
    host.payout_account = "acct_fixed"
    db.session.commit()
    run_due(app, after + timedelta(minutes=15))
    assert types_of(host) == ["booking_confirmed", "payout_failed", "payout_paid"]
