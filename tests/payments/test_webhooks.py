"""Payments through the Stripe provider end to end, against the local Stripe stub: server-side and browser
confirmation, signed webhooks applied once and in order, refunds and payouts through Stripe."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest

from app.blueprints.bookings import services as bookings
from app.extensions import db
from app.models import Booking, Payment, PaymentRefund, WebhookEvent
from app.payment_providers import get_provider

from ..support.factories import make_listing, make_user
from ..support.stripe_stub import (
    CONNECTED_ACCOUNT,
    StripeStub,
)

SOON = date.today() + timedelta(days=30)


@pytest.fixture
def app(make_app, stripe_stub: StripeStub):
    return make_app(**stripe_stub.settings())


@pytest.fixture
def booking(app) -> Booking:
    listing = make_listing(instant_book=True, min_nights=1, cancellation_policy="flexible",
                           price_per_night={"amount": 10000, "currency": "USD"}, cleaning_fee=None)
    listing.host.payout_account = CONNECTED_ACCOUNT
    db.session.commit()
    return bookings.create_booking(guest=make_user(email="guest@example.com"), listing_id=listing.id, check_in=SOON,
                                   check_out=SOON + timedelta(days=2), guests=1)[0]


def pay(client, auth_headers, booking, method=None, key="k1"):
    body = {"booking_id": booking.id, **({"payment_method": method} if method else {})}
    return client.post("/api/v1/payments", json=body, headers={**auth_headers(booking.guest), "Idempotency-Key": key})


def deliver(client, body: bytes, headers: dict):
    return client.post("/api/v1/payments/webhooks/stripe", data=body, headers=headers)


def test_server_side_card_payment_charges_stripe_once_with_our_key(client, auth_headers, booking, stripe_stub):
    first = pay(client, auth_headers, booking, "pm_card_visa")
    assert first.status_code == 201 and first.get_json()["status"] == "succeeded"
    assert pay(client, auth_headers, booking, "pm_card_visa").get_json() == first.get_json()
    [call] = stripe_stub.calls("/v1/payment_intents", "POST")
    assert (call.params["amount"], call.params["currency"], call.params["confirm"]) == ("22400", "usd", "true")
    payment = db.session.get(Payment, first.get_json()["id"])
    assert call.idempotency_key == payment.provider_key  # random, stored: never a row id another database reuses
    assert call.idempotency_key.startswith("abode-payment-") and len(call.idempotency_key) == len("abode-payment-") + 32
    db.session.refresh(booking)
    assert booking.status == "confirmed"


def test_declined_card_is_402_from_stripe(client, auth_headers, booking):
    response = pay(client, auth_headers, booking, "pm_card_chargeDeclined")
    assert response.status_code == 402 and response.get_json()["error"]["code"] == "card_declined"


def test_browser_confirmation_arrives_by_webhook_once_and_in_order(client, auth_headers, booking, stripe_stub):
    created = pay(client, auth_headers, booking).get_json()
    assert created["status"] == "requires_payment" and created["client_secret"].startswith("pi_")
    intent = db.session.get(Payment, created["id"]).provider_reference
    stripe_stub.confirm(intent, "pm_card_visa")  # what Stripe.js does in the guest's browser
    succeeded = stripe_stub.sign(stripe_stub.event("payment_intent.succeeded", intent))
    processing = stripe_stub.sign(stripe_stub.event("payment_intent.processing", intent, created=1))
    assert deliver(client, *succeeded).get_json()["outcome"] == "applied"
    assert [deliver(client, *succeeded).get_json()["outcome"] for _ in range(2)] == ["duplicate", "duplicate"]
    assert deliver(client, *processing).get_json()["outcome"] == "ignored"  # late and behind: changes nothing
    payment = db.session.get(Payment, created["id"])
    db.session.refresh(payment)
    db.session.refresh(booking)
    assert (payment.status, booking.status, booking.paid_amount) == ("succeeded", "confirmed", booking.total_amount)
    assert WebhookEvent.query.count() == 2


def test_webhook_with_a_bad_signature_is_400_and_changes_nothing(client, auth_headers, booking, stripe_stub):
    created = pay(client, auth_headers, booking).get_json()
    intent = db.session.get(Payment, created["id"]).provider_reference
    stripe_stub.confirm(intent)
    body, headers = stripe_stub.sign(stripe_stub.event("payment_intent.succeeded", intent), secret="whsec_wrong")
    response = deliver(client, body, headers)
    assert response.status_code == 400 and response.get_json()["error"]["code"] == "invalid_signature"
    assert db.session.get(Payment, created["id"]).status == "requires_payment"


def test_refund_and_payout_go_through_stripe(app, client, auth_headers, booking, stripe_stub):
    pay(client, auth_headers, booking, "pm_card_visa")
    other = make_listing(instant_book=True, min_nights=1, title="Second place")
    other.host.payout_account = CONNECTED_ACCOUNT
    db.session.commit()
    second = bookings.create_booking(guest=booking.guest, listing_id=other.id, check_in=SOON,
                                     check_out=SOON + timedelta(days=1), guests=1)[0]
    pay(client, auth_headers, second, "pm_card_visa", key="k2")
    bookings.cancel_booking(booking.id, booking.guest)  # flexible, 30 days ahead: everything back
    [refund] = stripe_stub.calls("/v1/refunds", "POST")
    assert refund.params["amount"] == "22400" and refund.idempotency_key.startswith("abode-refund-")
    noon = datetime.combine(second.check_out, datetime.min.time()) + timedelta(hours=12)
    run = app.test_cli_runner().invoke(args=["jobs", "run-due", "--now", noon.isoformat() + "Z"])
    assert run.exit_code == 0 and "1 payout(s) paid" in run.output, run.output
    [transfer] = stripe_stub.calls("/v1/transfers", "POST")
    assert (transfer.params["destination"], transfer.params["amount"]) == (
        CONNECTED_ACCOUNT, str(second.total_amount - second.service_fee_amount))


def test_webhook_without_stripe_configured_is_400(make_app):
    client = make_app().test_client()
    response = client.post("/api/v1/payments/webhooks/stripe", data=b"{}", headers={"Stripe-Signature": "t=1,v1=x"})
    assert response.status_code == 400 and response.get_json()["error"]["code"] == "invalid_signature"


def test_confirm_after_stripe_js_applies_the_charge_without_waiting_for_the_webhook(client, auth_headers, booking,
                                                                                     stripe_stub):
    created = pay(client, auth_headers, booking).get_json()
    url = f"/api/v1/payments/{created['id']}/confirm"
    assert client.post(url, headers=auth_headers(booking.guest)).get_json()["status"] == "requires_payment"
    stripe_stub.confirm(db.session.get(Payment, created["id"]).provider_reference, "pm_card_visa")
    assert client.post(url, headers=auth_headers(booking.guest)).get_json()["status"] == "succeeded"
    db.session.refresh(booking)
    assert booking.status == "confirmed"
    stranger = make_user(email="nosy@example.com")
    assert client.post(url, headers=auth_headers(stranger)).status_code == 404


def test_an_outage_is_retried_by_the_same_request_and_charges_once(client, auth_headers, booking, stripe_stub):
    stripe_stub.fail_next(1)
    failed = pay(client, auth_headers, booking, "pm_card_visa")
    assert failed.status_code == 402 and failed.get_json()["error"]["code"] == "payment_failed"
    db.session.refresh(booking)
    assert not booking.paid
    again = pay(client, auth_headers, booking, "pm_card_visa")  # the client retries with the same key
    assert again.status_code == 201 and again.get_json()["status"] == "succeeded"
    assert len({call.idempotency_key for call in stripe_stub.calls("/v1/payment_intents", "POST")}) == 1
    assert len(stripe_stub.intents) == 1 and Payment.query.count() == 1


def test_confirm_and_webhook_for_one_success_pay_once_and_refund_nothing(client, auth_headers, booking, stripe_stub):
    created = pay(client, auth_headers, booking).get_json()
    intent = db.session.get(Payment, created["id"]).provider_reference
    stripe_stub.confirm(intent)
    assert client.post(f"/api/v1/payments/{created['id']}/confirm",
                       headers=auth_headers(booking.guest)).get_json()["status"] == "succeeded"
    event = stripe_stub.sign(stripe_stub.event("payment_intent.succeeded", intent))
    assert deliver(client, *event).get_json()["outcome"] == "ignored"
    payment = db.session.get(Payment, created["id"])
    db.session.refresh(payment)
    assert (payment.status, payment.refunded_amount, stripe_stub.calls("/v1/refunds")) == ("succeeded", 0, [])


def test_a_charge_that_lands_after_the_booking_expired_is_refunded(app, client, auth_headers, booking, stripe_stub):
    created = pay(client, auth_headers, booking).get_json()
    intent = db.session.get(Payment, created["id"]).provider_reference
    later = booking.created_at + timedelta(minutes=31)
    run = app.test_cli_runner().invoke(args=["jobs", "run-due", "--now", later.isoformat() + "Z"])
    assert "1 booking(s) expired" in run.output
    stripe_stub.confirm(intent)  # the guest's browser was still open
    assert deliver(client, *stripe_stub.sign(stripe_stub.event("payment_intent.succeeded", intent))).status_code == 200
    payment = db.session.get(Payment, created["id"])
    db.session.refresh(payment)
    assert (payment.status, payment.refunded_amount) == ("refunded", booking.total_amount)
    assert db.session.get(Booking, booking.id).status == "canceled"


def test_webhook_while_stripe_is_down_is_503_and_the_redelivery_applies(client, auth_headers, booking, stripe_stub):
    created = pay(client, auth_headers, booking).get_json()
    intent = db.session.get(Payment, created["id"]).provider_reference
    stripe_stub.confirm(intent)
    delivery = stripe_stub.sign(stripe_stub.event("payment_intent.succeeded", intent))
    stripe_stub.fail_next(1)
    down = deliver(client, *delivery)
    assert down.status_code == 503 and down.get_json()["error"]["code"] == "service_unavailable"
    assert deliver(client, *delivery).get_json()["outcome"] == "applied"


def test_webhook_finds_a_charge_whose_creation_timed_out_by_its_metadata(app, client, auth_headers, booking,
                                                                          stripe_stub):
    stripe_stub.fail_next(1)  # Abode never learns the PaymentIntent id from this call
    assert pay(client, auth_headers, booking, "pm_card_visa").status_code == 402
    payment = Payment.query.one()
    assert payment.provider_reference is None
    lost = get_provider("stripe").create_charge(  # what Stripe did although the answer never arrived
        amount=payment.amount, currency=payment.currency, idempotency_key=f"abode-payment-{payment.id}-lost",
        description="", metadata={"booking_id": str(booking.id), "payment_id": str(payment.id)},
        payment_method="pm_card_visa")
    outcome = deliver(client, *stripe_stub.sign(stripe_stub.event("payment_intent.succeeded", lost.reference)))
    assert outcome.get_json()["outcome"] == "applied"
    db.session.refresh(payment)
    assert (payment.status, payment.provider_reference) == ("succeeded", lost.reference)
    assert db.session.get(Booking, booking.id).status == "confirmed"


def test_a_refund_stripe_could_not_take_is_retried_after_a_wait(app, client, auth_headers, booking, stripe_stub):
    pay(client, auth_headers, booking, "pm_card_visa")
    stripe_stub.fail_next(1)
    bookings.cancel_booking(booking.id, booking.guest)
    refund = PaymentRefund.query.one()
    assert (refund.status, refund.attempts) == ("pending", 1) and refund.next_attempt_at is not None

    def run(at):
        result = app.test_cli_runner().invoke(args=["jobs", "run-due", "--now", at.isoformat() + "Z"])
        assert result.exit_code == 0, result.output
        return result.output

    assert "0 refund(s) sent" in run(refund.next_attempt_at - timedelta(minutes=1))
    assert "1 refund(s) sent" in run(refund.next_attempt_at)
    db.session.refresh(refund)
    assert refund.status == "succeeded" and db.session.get(Payment, refund.payment_id).status == "refunded"


def test_a_card_retried_on_the_same_intent_after_a_decline_confirms(client, auth_headers, booking, stripe_stub):
    created = pay(client, auth_headers, booking).get_json()
    intent = db.session.get(Payment, created["id"]).provider_reference
    stripe_stub.confirm(intent, "pm_card_chargeDeclined")  # Stripe.js: the first card is refused
    declined = stripe_stub.sign(stripe_stub.event("payment_intent.payment_failed", intent))
    assert deliver(client, *declined).get_json()["outcome"] == "applied"
    refused = client.post(f"/api/v1/payments/{created['id']}/confirm", headers=auth_headers(booking.guest))
    assert refused.status_code == 402 and refused.get_json()["error"]["code"] == "card_declined"
    stripe_stub.confirm(intent, "pm_card_visa")  # the guest tries another card in the same Elements form
    confirmed = client.post(f"/api/v1/payments/{created['id']}/confirm", headers=auth_headers(booking.guest))
    assert confirmed.status_code == 200 and confirmed.get_json()["status"] == "succeeded"
    db.session.expire_all()
    assert db.session.get(Booking, booking.id).status == "confirmed"
    assert [i["status"] for i in stripe_stub.intents.values()] == ["succeeded"]  # one intent, charged once


def test_a_new_payment_closes_the_bookings_open_browser_payment_so_only_one_can_charge(client, auth_headers,
                                                                                      booking, stripe_stub):
    first = pay(client, auth_headers, booking, key="tab-1").get_json()  # Stripe Elements open in one tab
    second = pay(client, auth_headers, booking, key="tab-2").get_json()  # and again in another
    old_intent = db.session.get(Payment, first["id"]).provider_reference
    assert stripe_stub.intents[old_intent]["status"] == "canceled"
    late = stripe_stub.confirm(old_intent, "pm_card_visa")  # the first tab's card is submitted: Stripe refuses
    assert late["status"] == "canceled" and late["latest_charge"] is None
    replay = pay(client, auth_headers, booking, key="tab-1")
    assert replay.status_code == 402 and "replaced" in replay.get_json()["error"]["message"]
    stripe_stub.confirm(db.session.get(Payment, second["id"]).provider_reference, "pm_card_visa")
    confirmed = client.post(f"/api/v1/payments/{second['id']}/confirm", headers=auth_headers(booking.guest))
    assert confirmed.get_json()["status"] == "succeeded"
    assert [intent["status"] for intent in stripe_stub.intents.values()] == ["canceled", "succeeded"]


def test_a_browser_payment_that_went_through_meanwhile_is_kept_and_the_new_one_refused(client, auth_headers,
                                                                                      booking, stripe_stub):
    first = pay(client, auth_headers, booking, key="tab-1").get_json()
    stripe_stub.confirm(db.session.get(Payment, first["id"]).provider_reference, "pm_card_visa")  # no webhook yet
    second = pay(client, auth_headers, booking, "pm_card_visa", key="tab-2")
    assert second.status_code == 409 and second.get_json()["error"]["code"] == "payment_in_progress"
    db.session.expire_all()
    assert db.session.get(Payment, first["id"]).status == "succeeded"
    assert db.session.get(Booking, booking.id).status == "confirmed"
    assert len(stripe_stub.intents) == 1
