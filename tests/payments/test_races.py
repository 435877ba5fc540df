"""The money path's interleavings, each pinned with a pause between two steps (not left to load): a cancellation
against `jobs run-due`, two runs at once, parallel payments, a repeat during the first charge, a crashed sender,
an admin's full refund against the payout run and against another admin's.
After each, the invariants: one charge, one refund of the right amount, `refunded` from the refund rows, a ledger
that balances. The provider is the local Stripe stub, which records every request."""

from __future__ import annotations

from collections import Counter
from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import update

from app.blueprints.bookings import services as bookings
from app.blueprints.bookings.state import check_out_at
from app.blueprints.payments import ledger, refunds, revenue
from app.errors import DomainError
from app.extensions import db
from app.models import AuditEntry, Booking, Payment, PaymentRefund, Payout, User
from app.payment_providers.stripe_provider import StripeProvider

from ..support.factories import make_listing, make_user
from ..support.stripe_stub import (
    CONNECTED_ACCOUNT,
    StripeStub,
)
from ..support.threads import Pause, in_thread

SOON = date.today() + timedelta(days=30)


@pytest.fixture
def app(make_app, stripe_stub: StripeStub):
    app = make_app(**stripe_stub.settings(),
                   SQLALCHEMY_ENGINE_OPTIONS={"pool_size": 20, "max_overflow": 4, "pool_pre_ping": True})
    if db.engine.dialect.name not in ("mysql", "mariadb"):
        pytest.skip("these races run against MariaDB (set TEST_DATABASE_URL)")
    return app


def paid_booking(client, auth_headers, policy="strict", nights=2) -> Booking:
    listing = make_listing(instant_book=True, min_nights=1, cancellation_policy=policy,
                           price_per_night={"amount": 10000, "currency": "USD"}, cleaning_fee=None)
    listing.host.payout_account = CONNECTED_ACCOUNT
    db.session.commit()
    guest = make_user()
    booking = bookings.create_booking(guest=guest, listing_id=listing.id, check_in=SOON,
                                      check_out=SOON + timedelta(days=nights), guests=1)[0]
    paid = client.post("/api/v1/payments", json={"booking_id": booking.id, "payment_method": "pm_card_visa"},
                       headers={**auth_headers(guest), "Idempotency-Key": f"pay-{booking.id}"})
    assert paid.status_code == 201 and paid.get_json()["status"] == "succeeded", paid.get_json()
    return booking


def run_due(app, now: datetime | None = None) -> str:
    args = ["jobs", "run-due"] + (["--now", now.isoformat() + "Z"] if now else [])
    result = app.test_cli_runner().invoke(args=args)
    assert result.exit_code == 0, result.output
    return result.output


def assert_settled(stripe_stub: StripeStub, booking_ids: list[int], since: int = 0) -> None:
    """One charge per booking; what the stub refunded equals the booking's refund and the payment's `refunded`
    (from its refund rows); each refund and transfer asked for once (since request number `since`: earlier ones
    may have failed on purpose); the ledger balances, and the per-day revenue rows add up to it."""
    db.session.expire_all()
    posted = Counter(call.idempotency_key for call in stripe_stub.requests[since:]
                     if call.method == "POST" and call.path in ("/v1/refunds", "/v1/transfers"))
    assert [key for key, count in posted.items() if count > 1] == [], "a refund or transfer was sent twice"
    for booking_id in booking_ids:
        booking = db.session.get(Booking, booking_id)
        [payment] = Payment.query.filter_by(booking_id=booking_id).all()
        intents = [intent for intent in stripe_stub.intents.values()
                   if intent["metadata"].get("booking_id") == str(booking_id) and intent["status"] == "succeeded"]
        assert len(intents) == 1, f"booking {booking_id} charged {len(intents)} times"
        at_stripe = sum(refund["amount"] for refund in stripe_stub.refunds.values()
                        if refund["payment_intent"] == intents[0]["id"])
        assert at_stripe == payment.refunded_amount == (booking.refund_amount or 0), (
            f"booking {booking_id}: stripe refunded {at_stripe}, payment says {payment.refunded_amount}, "
            f"booking says {booking.refund_amount}")
    lines = ledger.ledger(booking_ids)
    assert [line for line in lines if not line.balanced] == []
    assert revenue.totals() == ledger.totals(ledger.ledger()), "the per-day revenue rows differ from the ledger"


def test_a_cancellation_whose_refund_is_not_sent_yet_is_not_refunded_again_by_run_due(app, client, auth_headers,
                                                                                       stripe_stub, monkeypatch):
    booking = paid_booking(client, auth_headers)  # strict, a month ahead: half of 200.00 back
    pause = Pause()  # the cancel has committed; its own send of the refund has not started
    monkeypatch.setattr(refunds, "send_refund", pause.wrap(refunds.send_refund))
    cancel, answer = in_thread(app, lambda: client.post(f"/api/v1/bookings/{booking.id}/cancel", json={},
                                                        headers=auth_headers(booking.guest)))
    assert pause.reached.wait(10)
    assert "1 refund(s) sent" in run_due(app)  # the scheduler finds the owed refund row and sends it
    pause.release()
    cancel.join(10)
    assert answer[0].status_code == 200 and answer[0].get_json()["refund"]["amount"] == 10000
    assert PaymentRefund.query.count() == 1
    assert_settled(stripe_stub, [booking.id])


def test_run_due_sending_a_refund_keeps_the_cancellations_own_send_out(app, client, auth_headers, stripe_stub,
                                                                       monkeypatch):
    booking = paid_booking(client, auth_headers)
    before_send, inside_stripe = Pause(), Pause()
    monkeypatch.setattr(refunds, "send_refund", before_send.wrap(refunds.send_refund))
    monkeypatch.setattr(StripeProvider, "refund", inside_stripe.wrap(StripeProvider.refund))
    cancel, _ = in_thread(app, lambda: client.post(f"/api/v1/bookings/{booking.id}/cancel", json={},
                                                   headers=auth_headers(booking.guest)))
    assert before_send.reached.wait(10)
    scheduler, output = in_thread(app, lambda: run_due(app))
    assert inside_stripe.reached.wait(10)  # the scheduler holds the refund's claim, mid-call
    before_send.release()
    cancel.join(10)  # the cancellation's send finds the refund claimed and leaves it
    inside_stripe.release()
    scheduler.join(10)
    assert "1 refund(s) sent" in output[0]
    assert len(stripe_stub.calls("/v1/refunds", "POST")) == 1
    assert_settled(stripe_stub, [booking.id])


def test_two_runs_at_once_send_each_refund_and_each_payout_once(app, client, auth_headers, stripe_stub,
                                                                monkeypatch):
    done = [paid_booking(client, auth_headers) for _ in range(2)]
    owed = [paid_booking(client, auth_headers) for _ in range(2)]
    stripe_stub.fail_next(2)  # the cancellations' own sends fail: their refunds are left owed for the scheduler
    for booking in owed:
        bookings.cancel_booking(booking.id, booking.guest)
    assert PaymentRefund.query.filter_by(status="pending").count() == 2
    later = datetime.combine(SOON + timedelta(days=3), datetime.min.time())  # stays over, refunds' wait over
    inside_stripe, since = Pause(), len(stripe_stub.requests)
    monkeypatch.setattr(StripeProvider, "refund", inside_stripe.wrap(StripeProvider.refund))
    first, output = in_thread(app, lambda: run_due(app, later))
    assert inside_stripe.reached.wait(10)  # the first run is inside Stripe with one refund
    second = run_due(app, later)  # the second run does all the rest, but that refund
    inside_stripe.release()
    first.join(20)
    assert "1 refund(s) sent" in second and "1 refund(s) sent" in output[0]
    paid = sum(int(part.split()[0]) for out in (second, output[0]) for part in out.split(", ")
               if part.endswith("payout(s) paid"))
    assert paid == 4  # each counted by the run that paid it
    assert Payout.query.filter_by(status="paid").count() == 4  # two stays, two partial refunds
    assert len(stripe_stub.transfers) == 4
    assert_settled(stripe_stub, [booking.id for booking in done + owed], since)


def test_parallel_payments_with_different_keys_charge_once(app, auth_headers, stripe_stub, monkeypatch):
    listing = make_listing(instant_book=True, min_nights=1)
    guest = make_user()
    booking = bookings.create_booking(guest=guest, listing_id=listing.id, check_in=SOON,
                                      check_out=SOON + timedelta(days=2), guests=1)[0]
    inside_stripe = Pause()
    monkeypatch.setattr(StripeProvider, "create_charge", inside_stripe.wrap(StripeProvider.create_charge))
    headers = auth_headers(guest)

    def pay(key: str):
        response = app.test_client().post("/api/v1/payments", json={"booking_id": booking.id,
                                                                    "payment_method": "pm_card_visa"},
                                          headers={**headers, "Idempotency-Key": key})
        return response.status_code, response.get_json()

    first, answer = in_thread(app, lambda: pay("first"))
    assert inside_stripe.reached.wait(10)  # the first payment is at Stripe
    others = [pay(f"other-{n}") for n in range(11)]
    assert {(status, body["error"]["code"]) for status, body in others} == {(409, "payment_in_progress")}
    inside_stripe.release()
    first.join(10)
    assert answer[0][0] == 201 and answer[0][1]["status"] == "succeeded"
    assert len(stripe_stub.calls("/v1/payment_intents", "POST")) == 1
    assert db.session.get(Booking, booking.id).status == "confirmed"


def test_a_repeat_during_the_first_charge_waits_and_gets_its_answer(app, auth_headers, stripe_stub, monkeypatch):
    listing = make_listing(instant_book=True, min_nights=1)
    guest = make_user()
    booking = bookings.create_booking(guest=guest, listing_id=listing.id, check_in=SOON,
                                      check_out=SOON + timedelta(days=2), guests=1)[0]
    inside_stripe = Pause()
    monkeypatch.setattr(StripeProvider, "create_charge", inside_stripe.wrap(StripeProvider.create_charge))
    headers = {**auth_headers(guest), "Idempotency-Key": "one-click"}

    def pay():
        response = app.test_client().post("/api/v1/payments", json={"booking_id": booking.id,
                                                                    "payment_method": "pm_card_visa"},
                                          headers=headers)
        return response.status_code, response.get_json()

    first, first_answer = in_thread(app, pay)
    assert inside_stripe.reached.wait(10)
    repeat, repeat_answer = in_thread(app, pay)
    repeat.join(0.5)
    assert repeat.is_alive(), "the repeat answered before the first request had Stripe's answer"
    inside_stripe.release()
    first.join(10)
    repeat.join(10)
    assert first_answer[0][1]["status"] == "succeeded"
    assert repeat_answer[0] == (201, first_answer[0][1])
    assert len(stripe_stub.calls("/v1/payment_intents", "POST")) == 1


def test_a_charge_whose_answer_was_lost_blocks_other_payments_until_it_is_asked_about_again(
        app, client, auth_headers, stripe_stub):
    listing = make_listing(instant_book=True, min_nights=1)
    guest = make_user()
    booking = bookings.create_booking(guest=guest, listing_id=listing.id, check_in=SOON,
                                      check_out=SOON + timedelta(days=2), guests=1)[0]
    body = {"booking_id": booking.id, "payment_method": "pm_card_visa"}
    stripe_stub.fail_next(1)  # Stripe's answer never arrives: it may or may not have charged
    lost = client.post("/api/v1/payments", json=body, headers={**auth_headers(guest), "Idempotency-Key": "a"})
    assert lost.status_code == 402 and lost.get_json()["error"]["code"] == "payment_failed"
    other = client.post("/api/v1/payments", json=body, headers={**auth_headers(guest), "Idempotency-Key": "b"})
    assert other.status_code == 409 and other.get_json()["error"]["code"] == "payment_in_progress"
    # nobody retries: after a few minutes the scheduler asks Stripe, with the payment's own key
    db.session.execute(update(Payment).values(updated_at=datetime(2020, 1, 1)))
    db.session.commit()
    assert "1 payment(s) reconciled" in run_due(app)
    payment = Payment.query.one()
    assert (payment.status, payment.failure_code) == ("succeeded", None)
    assert {call.idempotency_key for call in stripe_stub.calls("/v1/payment_intents", "POST")} \
        == {payment.provider_key}
    assert db.session.get(Booking, booking.id).status == "confirmed"
    assert "0 payment(s) reconciled" in run_due(app)


def test_a_refund_whose_sender_died_mid_call_is_asked_again_with_the_same_key(app, client, auth_headers,
                                                                               stripe_stub, monkeypatch):
    booking = paid_booking(client, auth_headers)
    monkeypatch.setattr(refunds, "_succeeded", lambda *args: None)  # the process dies after Stripe refunded
    bookings.cancel_booking(booking.id, booking.guest)
    monkeypatch.undo()
    refund = PaymentRefund.query.one()
    assert refund.status == "pending" and refund.claimed_until is not None  # still claimed by the dead sender
    assert "0 refund(s) sent" in run_due(app)  # its claim has not run out yet
    db.session.execute(update(PaymentRefund).values(claimed_until=datetime(2020, 1, 1)))
    db.session.commit()
    assert "1 refund(s) sent" in run_due(app)
    calls = stripe_stub.calls("/v1/refunds", "POST")
    assert len(calls) == 2 and {call.idempotency_key for call in calls} == {refund.provider_key}
    assert len(stripe_stub.refunds) == 1  # Stripe answered the second ask with the first refund
    db.session.expire_all()
    assert db.session.get(Payment, refund.payment_id).refunded_amount == 10000


def completed_stay(client, auth_headers) -> tuple[Booking, datetime]:
    """A paid stay the scheduler completed, and an instant (after check-out) at which its payout is due."""
    booking = paid_booking(client, auth_headers)
    assert bookings.complete_due(check_out_at(booking) + timedelta(minutes=1)) == 1
    return booking, check_out_at(booking) + timedelta(hours=2)


def admin_refund(app, admin_id: int, booking_id: int):
    """An admin's full refund in a thread of its own: its refunds, or the DomainError that refused it."""
    def work():
        try:
            return refunds.refund_in_full(booking_id, actor=db.session.get(User, admin_id))
        except DomainError as error:
            return error
    return in_thread(app, work)


def test_a_full_refund_while_run_due_pays_the_payout_is_refused_and_the_payout_stands(
        app, client, auth_headers, stripe_stub, monkeypatch):
    booking, due_at = completed_stay(client, auth_headers)
    admin = make_user(role="admin")
    inside_stripe = Pause()
    monkeypatch.setattr(StripeProvider, "pay_out", inside_stripe.wrap(StripeProvider.pay_out))
    scheduler, output = in_thread(app, lambda: run_due(app, due_at))
    assert inside_stripe.reached.wait(10)  # the run holds the payout's claim, mid-transfer
    refund, answer = admin_refund(app, admin.id, booking.id)
    refund.join(10)
    assert isinstance(answer[0], refunds.PayoutInTheWay) and "being sent right now" in answer[0].message
    inside_stripe.release()
    scheduler.join(20)
    assert "1 payout(s) paid" in output[0]
    db.session.expire_all()
    assert Payout.query.one().status == "paid" and len(stripe_stub.transfers) == 1
    assert PaymentRefund.query.count() == 0 and AuditEntry.query.filter_by(action="payment.refund").count() == 0
    assert_settled(stripe_stub, [booking.id])


def test_a_full_refund_that_locks_first_keeps_the_payout_from_ever_being_paid(app, client, auth_headers, stripe_stub,
                                                                               monkeypatch):
    booking, due_at = completed_stay(client, auth_headers)
    admin = make_user(role="admin")
    holding_locks = Pause()  # the refund has locked the booking, its payment and its payout; not committed yet
    monkeypatch.setattr(refunds, "owe_refund", holding_locks.wrap(refunds.owe_refund))
    refund, answer = admin_refund(app, admin.id, booking.id)
    assert holding_locks.reached.wait(10)
    scheduler, output = in_thread(app, lambda: run_due(app, due_at))
    scheduler.join(1)
    assert scheduler.is_alive(), "the payout run did not wait for the refund's lock on the payout"
    holding_locks.release()
    refund.join(20)
    scheduler.join(20)
    assert [row.amount for row in answer[0]] == [booking.total_amount]
    assert "0 payout(s) paid" in output[0]
    assert "0 payout(s) paid" in run_due(app, due_at + timedelta(days=7))  # and never later
    db.session.expire_all()
    assert Payout.query.count() == 0 and stripe_stub.transfers == {}
    assert [(row.amount, row.status) for row in PaymentRefund.query] == [(booking.total_amount, "succeeded")]
    assert_settled(stripe_stub, [booking.id])


def test_two_admins_refunding_one_booking_at_once_refund_it_once(app, client, auth_headers, stripe_stub,
                                                                 monkeypatch):
    booking, _ = completed_stay(client, auth_headers)
    admins = [make_user(role="admin") for _ in range(2)]
    holding_locks = Pause()
    monkeypatch.setattr(refunds, "owe_refund", holding_locks.wrap(refunds.owe_refund))
    first, first_answer = admin_refund(app, admins[0].id, booking.id)
    assert holding_locks.reached.wait(10)
    second, second_answer = admin_refund(app, admins[1].id, booking.id)
    second.join(1)
    assert second.is_alive(), "the second refund did not wait for the first one's lock"
    holding_locks.release()
    first.join(20)
    second.join(20)
    assert [row.amount for row in first_answer[0]] == [booking.total_amount]
    assert isinstance(second_answer[0], refunds.NothingToRefund)
    assert len(stripe_stub.calls("/v1/refunds", "POST")) == 1
    db.session.expire_all()
    assert PaymentRefund.query.count() == 1 and Payout.query.count() == 0
    assert [entry.actor_id for entry in AuditEntry.query.filter_by(action="payment.refund")] == [admins[0].id]
    assert_settled(stripe_stub, [booking.id])
