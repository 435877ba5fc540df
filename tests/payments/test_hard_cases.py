"""The money path's hard cases, each a defect a review found in the first version of the claims and signals
design: a success between expiry and the scheduler, browser intents left open, a refund aimed at the wrong
payment, a failed read taken for a failed charge, a webhook beating the provider's answer, a key the provider
forgot, and SQLite's locks. Each comment says what used to happen."""

from __future__ import annotations

import threading
from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import update

from app.blueprints.bookings import services as bookings
from app.blueprints.payments import ledger, refunds
from app.extensions import db
from app.models import Booking, Payment, utcnow
from app.payment_providers import PaymentError
from app.payment_providers.stripe_provider import StripeProvider

from ..support.factories import make_listing, make_user
from ..support.stripe_stub import (
    API_KEY,
    CONNECTED_ACCOUNT,
    StripeStub,
)
from ..support.threads import in_thread

SOON = date.today() + timedelta(days=30)


@pytest.fixture
def app(make_app, stripe_stub: StripeStub):
    return make_app(**stripe_stub.settings(),
                    SQLALCHEMY_ENGINE_OPTIONS={"pool_size": 10, "max_overflow": 4, "pool_pre_ping": True})


def mariadb_only():
    if db.engine.dialect.name not in ("mysql", "mariadb"):
        pytest.skip("a pinned race: runs against MariaDB (set TEST_DATABASE_URL)")


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


def confirm(client, auth_headers, booking, payment_id):
    return client.post(f"/api/v1/payments/{payment_id}/confirm", headers=auth_headers(booking.guest))


def deliver(client, body: bytes, headers: dict):
    return client.post("/api/v1/payments/webhooks/stripe", data=body, headers=headers)


def run_due(app, now: datetime | None = None) -> str:
    args = ["jobs", "run-due"] + (["--now", now.isoformat() + "Z"] if now else [])
    result = app.test_cli_runner().invoke(args=args)
    assert result.exit_code == 0, result.output
    return result.output


def succeeded_intents(stripe_stub: StripeStub, booking: Booking) -> list[str]:
    return [intent["id"] for intent in stripe_stub.intents.values()
            if intent["metadata"].get("booking_id") == str(booking.id) and intent["status"] == "succeeded"]


# 1. apply_charge: a success for a booking that is past its expiry but not yet canceled by run-due is refunded in
#    full without take_back_late_payment, so the booking never counts it as paid or refunded.
def test_success_between_expiry_and_run_due_keeps_refunded_equal_to_the_bookings_refund(
        app, client, auth_headers, booking, stripe_stub):
    created = pay(client, auth_headers, booking).get_json()
    intent = db.session.get(Payment, created["id"]).provider_reference
    db.session.execute(update(Booking).where(Booking.id == booking.id)
                       .values(expires_at=utcnow() - timedelta(minutes=1)))  # minute 31: run-due not yet there
    db.session.commit()
    stripe_stub.confirm(intent)  # the guest's 3-D Secure step finished late
    confirm(client, auth_headers, booking, created["id"])
    run_due(app)  # now the scheduler expires it
    db.session.expire_all()
    expired, payment = db.session.get(Booking, booking.id), db.session.get(Payment, created["id"])
    assert expired.status == "canceled"
    assert payment.refunded_amount == booking.total_amount  # the money did go back...
    # ...but the API's invariant "refunded equals the booking's refund" is broken: refund 0, paid false
    assert (expired.refund_amount, expired.paid_amount) == (payment.refunded_amount, payment.amount)


# 2. _close_open_charges only closes `requires_payment`: a browser PaymentIntent that was declined (payment
#    `failed`) stays open at Stripe, and Stripe.js may retry it with another card after a new payment charged.
def test_a_declined_browser_intent_is_closed_before_a_new_payment_charges(client, auth_headers, booking,
                                                                               stripe_stub):
    first = pay(client, auth_headers, booking, key="tab-1").get_json()
    intent = db.session.get(Payment, first["id"]).provider_reference
    stripe_stub.confirm(intent, "pm_card_chargeDeclined")
    assert deliver(client, *stripe_stub.sign(stripe_stub.event("payment_intent.payment_failed", intent))) \
        .get_json()["outcome"] == "applied"
    second = pay(client, auth_headers, booking, "pm_card_visa", key="tab-2")  # "after a failed one, fine"
    assert second.status_code == 201 and second.get_json()["status"] == "succeeded"
    stripe_stub.confirm(intent, "pm_card_visa")  # the first tab's Elements form, retried with another card
    confirm(client, auth_headers, booking, first["id"])
    assert len(succeeded_intents(stripe_stub, booking)) == 1, "the booking was charged twice"


# 3. receivers.settle_cancellation picks "the" charged payment with scalar() over every succeeded payment: with a
#    duplicate (refund still owed) it picks the duplicate, owe_refund finds it fully asked back, and the payment
#    that paid the booking is never refunded.
def test_a_cancellation_refunds_the_payment_that_paid_not_a_duplicate(app, client, auth_headers, booking,
                                                                            stripe_stub, monkeypatch):
    first = pay(client, auth_headers, booking, key="tab-1").get_json()
    intent = db.session.get(Payment, first["id"]).provider_reference
    stripe_stub.confirm(intent, "pm_card_chargeDeclined")
    deliver(client, *stripe_stub.sign(stripe_stub.event("payment_intent.payment_failed", intent)))
    second = pay(client, auth_headers, booking, "pm_card_visa", key="tab-2").get_json()
    stripe_stub.confirm(intent, "pm_card_visa")
    monkeypatch.setattr(refunds, "send_refund", lambda *args, **kw: False)  # Stripe slow: the refund stays owed
    confirm(client, auth_headers, booking, first["id"])  # the duplicate: its full refund is owed
    monkeypatch.undo()
    bookings.cancel_booking(booking.id, booking.guest)  # flexible, a month ahead: everything back
    run_due(app)
    db.session.expire_all()
    canceled, paid_by = db.session.get(Booking, booking.id), db.session.get(Payment, second["id"])
    assert canceled.refund_amount == booking.total_amount
    assert paid_by.refunded_amount == canceled.refund_amount, "the guest's cancellation refund was never sent"
    assert [line for line in ledger.ledger([booking.id]) if not line.balanced] == []


# 4. confirm_payment/ask_provider: a non-retryable error *reading* a charge (Stripe refuses the key during a key
#    rotation, a 404) is recorded as the charge having failed, though Stripe took the money; nothing reads a failed
#    payment again, and the booking takes a second charge.
def test_an_error_reading_a_charge_does_not_fail_a_payment_that_succeeded(app, client, auth_headers, booking,
                                                                                stripe_stub):
    created = pay(client, auth_headers, booking).get_json()
    stripe_stub.confirm(db.session.get(Payment, created["id"]).provider_reference)  # charged at Stripe
    stripe_stub.api_key = "sk_test_rotated"  # for a moment Stripe refuses Abode's key (401)
    confirm(client, auth_headers, booking, created["id"])
    stripe_stub.api_key = API_KEY
    db.session.execute(update(Payment).values(updated_at=datetime(2020, 1, 1)))
    db.session.commit()
    run_due(app)
    again = pay(client, auth_headers, booking, "pm_card_visa", key="k2")
    assert again.status_code == 409, "a second charge was taken"
    assert len(succeeded_intents(stripe_stub, booking)) == 1
    db.session.expire_all()
    assert db.session.get(Payment, created["id"]).status == "succeeded"


# 5. services.unanswered() overwrites a payment that a webhook applied meanwhile (Stripe often delivers the webhook
#    before its HTTP answer): the payment is succeeded with failure_code provider_unavailable, so the request and
#    every replay with its key answer 402 "try again" for a booking that is paid and confirmed.
def test_a_lost_answer_after_the_webhook_applied_the_success_is_not_402(app, client, auth_headers, booking,
                                                                              stripe_stub, monkeypatch):
    mariadb_only()
    real = StripeProvider.create_charge

    def webhook_first_then_timeout(self, **kwargs):
        charge = real(self, **kwargs)
        delivery = stripe_stub.sign(stripe_stub.event("payment_intent.succeeded", charge.reference))
        thread, _ = in_thread(app, lambda: deliver(app.test_client(), *delivery).status_code)
        thread.join(20)
        raise PaymentError("Stripe could not create payment intent: read timed out", retryable=True)

    monkeypatch.setattr(StripeProvider, "create_charge", webhook_first_then_timeout)
    pay(client, auth_headers, booking, "pm_card_visa", key="once")
    monkeypatch.undo()
    db.session.expire_all()
    assert db.session.get(Booking, booking.id).status == "confirmed"
    replay = pay(client, auth_headers, booking, "pm_card_visa", key="once")
    assert replay.status_code == 201 and replay.get_json()["status"] == "succeeded", replay.get_json()


# 6. Two browser payments (no payment method) with different keys at once: _close_open_charges runs outside the
#    booking lock and skips the other payment while its provider_reference is still NULL, and payable_problem does
#    not count `requires_payment` as under way, so both get an open PaymentIntent and both can be charged.
def test_parallel_browser_payments_leave_one_open_intent(app, auth_headers, booking, stripe_stub,
                                                              monkeypatch):
    mariadb_only()
    reached, go = threading.Event(), threading.Event()
    real = StripeProvider.create_charge

    def slow_first(self, **kwargs):
        if not reached.is_set():
            reached.set()
            assert go.wait(20)
        return real(self, **kwargs)

    monkeypatch.setattr(StripeProvider, "create_charge", slow_first)
    headers = auth_headers(booking.guest)

    def start(key):
        return app.test_client().post("/api/v1/payments", json={"booking_id": booking.id},
                                      headers={**headers, "Idempotency-Key": key}).status_code

    first, _ = in_thread(app, lambda: start("tab-1"))
    assert reached.wait(10)
    start("tab-2")  # the other tab, while tab 1 waits for Stripe
    go.set()
    first.join(20)
    for intent_id, intent in list(stripe_stub.intents.items()):
        if intent["status"] == "requires_payment_method":
            stripe_stub.confirm(intent_id)  # each tab's Stripe.js submits the card
    assert len(succeeded_intents(stripe_stub, booking)) == 1, "both tabs charged the booking"


# 7. A payment whose create_charge answer was lost is created again with its stored key by a replay (or reconcile)
#    however late. Stripe keeps idempotency keys for 24 hours: after that the same key makes a second
#    PaymentIntent and charges again. The first one's webhook is then "ignored" (_event_payment: its metadata names
#    the payment, but the payment's reference is now the second intent's), so it is never refunded either.
def test_a_lost_charge_retried_after_stripe_forgot_the_key_charges_once(app, client, auth_headers, booking,
                                                                             stripe_stub, monkeypatch):
    real = StripeProvider.create_charge
    lost: list = []

    def answer_lost(self, **kwargs):
        lost.append(real(self, **kwargs))  # Stripe charged; the answer never arrived
        raise PaymentError("Stripe could not create payment intent: read timed out", retryable=True)

    monkeypatch.setattr(StripeProvider, "create_charge", answer_lost)
    assert pay(client, auth_headers, booking, "pm_card_visa", key="once").status_code == 402
    monkeypatch.undo()
    stripe_stub._replies.clear()  # a day and more later: Stripe no longer knows the key
    db.session.execute(update(Payment).values(created_at=utcnow() - timedelta(hours=25)))
    db.session.commit()
    replay = pay(client, auth_headers, booking, "pm_card_visa", key="once")
    assert replay.status_code == 402  # not created again: with a forgotten key that would be a second charge
    db.session.execute(update(Payment).values(updated_at=utcnow() - timedelta(hours=1)))
    db.session.commit()
    assert "1 payment(s) reconciled" in run_due(app)  # nor by the scheduler, which gives up on it
    late = deliver(client, *stripe_stub.sign(stripe_stub.event("payment_intent.succeeded", lost[0].reference)))
    assert late.status_code == 200
    kept = [intent for intent in succeeded_intents(stripe_stub, booking)
            if not any(refund["payment_intent"] == intent for refund in stripe_stub.refunds.values())]
    assert len(kept) == 1, f"the guest paid {len(kept)} times; the webhook said {late.get_json()['outcome']}"


# 8. SQLite (the first-run database): lock_listing's FOR UPDATE is dropped and pysqlite begins a transaction only at
#    the first write, so two POST /payments with different keys can both find the booking payable and both charge
#    (listings.services.lock_listing's "SQLite ... locks the whole file" holds for writes, not for these reads).
#    Passes on MariaDB, where the second request waits for the listing's lock.
def test_two_keys_at_once_charge_once_on_every_back_end(app, auth_headers, booking, stripe_stub,
                                                             monkeypatch):
    from app.blueprints.payments import services

    reached, go = threading.Event(), threading.Event()
    real = services.payable_problem

    def first_waits(*args, **kwargs):
        problem = real(*args, **kwargs)
        if not reached.is_set():
            reached.set()
            assert go.wait(20)
        return problem

    monkeypatch.setattr(services, "payable_problem", first_waits)
    headers = auth_headers(booking.guest)

    def charge(key):
        return app.test_client().post("/api/v1/payments", json={"booking_id": booking.id,
                                                                "payment_method": "pm_card_visa"},
                                      headers={**headers, "Idempotency-Key": key}).status_code

    first, _ = in_thread(app, lambda: charge("a"))
    assert reached.wait(10)  # request a found the booking payable and is about to insert its payment
    second, _ = in_thread(app, lambda: charge("b"))
    second.join(1)  # on MariaDB b waits for the listing lock; on SQLite it goes through
    go.set()
    first.join(20)
    second.join(20)
    assert len(stripe_stub.calls("/v1/payment_intents", "POST")) == 1, "the booking was charged twice"
