"""Payments over the JSON API with the fake provider: charges, declines, idempotency, refunds on cancellation."""

from __future__ import annotations

import threading
from datetime import date, datetime, timedelta

import pytest

from app.blueprints.bookings import services as bookings
from app.blueprints.payments import ledger as payments
from app.extensions import db
from app.models import Booking, Payment, PaymentRefund, Payout

from ..support.factories import make_listing, make_user

SOON = date.today() + timedelta(days=30)


def make_booking(listing, guest, check_in=SOON, nights=3) -> Booking:
    return bookings.create_booking(guest=guest, listing_id=listing.id, check_in=check_in,
                                   check_out=check_in + timedelta(days=nights), guests=1)[0]


def pay(client, auth_headers, guest, booking, method="pm_card_visa", key="pay-1", status=201):
    body = {"booking_id": booking.id, **({"payment_method": method} if method else {})}
    response = client.post("/api/v1/payments", json=body, headers={**auth_headers(guest), "Idempotency-Key": key})
    assert response.status_code == status, response.get_json()
    return response


@pytest.fixture
def guest(app):
    return make_user(email="payer@example.com")


@pytest.fixture
def instant(app):
    return make_listing(instant_book=True, cancellation_policy="moderate", min_nights=1,
                        price_per_night={"amount": 10000, "currency": "EUR"},
                        cleaning_fee={"amount": 2000, "currency": "EUR"})


def test_card_payment_confirms_an_instant_booking(client, auth_headers, instant, guest):
    booking = make_booking(instant, guest)
    body = pay(client, auth_headers, guest, booking).get_json()
    assert body["status"] == "succeeded" and body["amount"] == {"amount": booking.total_amount, "currency": "EUR"}
    assert body["provider"] == "fake" and "client_secret" not in body
    db.session.refresh(booking)
    assert (booking.status, booking.paid_amount) == ("confirmed", booking.total_amount)


def test_request_to_book_waits_for_its_host_after_payment(client, auth_headers, guest):
    listing = make_listing(instant_book=False, min_nights=1)
    booking = make_booking(listing, guest)
    pay(client, auth_headers, guest, booking)
    db.session.refresh(booking)
    assert (booking.status, booking.awaiting_approval) == ("pending", True)


def test_declined_card_is_402_and_the_booking_stays_payable(client, auth_headers, instant, guest):
    booking = make_booking(instant, guest)
    declined = pay(client, auth_headers, guest, booking, method="pm_card_chargeDeclined", status=402).get_json()
    assert declined["error"]["code"] == "card_declined"
    db.session.refresh(booking)
    assert booking.status == "pending" and not booking.paid
    again = pay(client, auth_headers, guest, booking, method="pm_card_chargeDeclined", status=402)  # same key
    assert again.get_json()["error"]["code"] == "card_declined"
    assert pay(client, auth_headers, guest, booking, key="pay-2").get_json()["status"] == "succeeded"
    assert Payment.query.count() == 2


def test_same_key_never_charges_twice(client, auth_headers, instant, guest):
    booking = make_booking(instant, guest)
    first = pay(client, auth_headers, guest, booking)
    again = pay(client, auth_headers, guest, booking)
    assert again.get_json() == first.get_json() and again.headers["Idempotent-Replayed"] == "true"
    assert Payment.query.count() == 1
    other = pay(client, auth_headers, guest, booking, method="pm_card_mastercard", status=409)
    assert other.get_json()["error"]["code"] == "idempotency_mismatch"


def test_without_a_method_the_payment_waits_with_a_client_secret(client, auth_headers, instant, guest):
    booking = make_booking(instant, guest)
    body = pay(client, auth_headers, guest, booking, method=None).get_json()
    assert body["status"] == "requires_payment" and body["client_secret"].startswith("pi_fake_")
    db.session.refresh(booking)
    assert booking.status == "pending" and not booking.paid


def test_only_the_guest_pays_a_pending_unpaid_booking(client, auth_headers, instant, guest):
    booking = make_booking(instant, guest)
    stranger = make_user(email="stranger@example.com")
    assert pay(client, auth_headers, stranger, booking, status=404).get_json()["error"]["code"] == "not_found"
    pay(client, auth_headers, guest, booking)
    paid_again = pay(client, auth_headers, guest, booking, key="pay-again", status=409)
    assert paid_again.get_json()["error"]["code"] == "payment_in_progress"
    bad = client.post("/api/v1/payments", json={"booking_id": "one"}, headers=auth_headers(guest))
    assert bad.status_code == 422 and "booking_id" in bad.get_json()["error"]["fields"]


def test_jpy_is_charged_in_whole_yen(client, auth_headers, guest):
    listing = make_listing(min_nights=1, price_per_night={"amount": 15000, "currency": "JPY"},
                           cleaning_fee={"amount": 3000, "currency": "JPY"})
    booking = make_booking(listing, guest, nights=2)
    body = pay(client, auth_headers, guest, booking).get_json()
    assert body["amount"] == {"amount": 30000 + 3000 + 3960, "currency": "JPY"}  # service fee: 12% of 33000 yen


def test_guest_cancellation_refunds_through_the_provider(client, auth_headers, instant, guest):
    booking = make_booking(instant, guest)
    payment_id = pay(client, auth_headers, guest, booking).get_json()["id"]
    bookings.cancel_booking(booking.id, guest, "change of plans")  # 30 days ahead: moderate gives it all back
    body = client.get(f"/api/v1/payments/{payment_id}", headers=auth_headers(guest)).get_json()
    assert body["status"] == "refunded" and body["refunded"] == body["amount"]
    refund = PaymentRefund.query.one()
    assert (refund.status, refund.amount, refund.provider_reference[:8]) == ("succeeded", booking.total_amount,
                                                                             "re_fake_")


def test_strict_cancellation_refunds_part(client, auth_headers, guest):
    listing = make_listing(cancellation_policy="strict", min_nights=1, instant_book=True,
                           price_per_night={"amount": 10000, "currency": "EUR"}, cleaning_fee=None)
    booking = make_booking(listing, guest, nights=2)
    payment_id = pay(client, auth_headers, guest, booking).get_json()["id"]
    bookings.cancel_booking(booking.id, guest)
    body = client.get(f"/api/v1/payments/{payment_id}", headers=auth_headers(guest)).get_json()
    assert body["status"] == "partially_refunded" and body["refunded"]["amount"] == 10000  # half of 200.00


def test_decline_refunds_in_full(client, auth_headers, guest):
    listing = make_listing(instant_book=False, min_nights=1)
    booking = make_booking(listing, guest)
    payment_id = pay(client, auth_headers, guest, booking).get_json()["id"]
    bookings.decline_booking(booking.id, listing.host)
    assert db.session.get(Payment, payment_id).status == "refunded"


def test_payments_are_seen_by_their_guest_and_admins_only(client, auth_headers, instant, guest):
    booking = make_booking(instant, guest)
    payment_id = pay(client, auth_headers, guest, booking).get_json()["id"]
    admin = make_user(email="root@example.com", role="admin")
    assert [p["id"] for p in client.get("/api/v1/payments", headers=auth_headers(guest)).get_json()["items"]] \
        == [payment_id]
    assert client.get("/api/v1/payments", headers=auth_headers(admin)).get_json()["total"] == 1
    assert client.get(f"/api/v1/payments/{payment_id}", headers=auth_headers(instant.host)).status_code == 404
    assert client.get("/api/v1/payments").status_code == 401


def test_fifty_parallel_payments_with_one_key_charge_once(make_app, auth_headers):
    app = make_app(SQLALCHEMY_ENGINE_OPTIONS={"pool_size": 54, "max_overflow": 4, "pool_pre_ping": True})
    if db.engine.dialect.name not in ("mysql", "mariadb"):
        pytest.skip("the race runs against MariaDB (set TEST_DATABASE_URL)")
    guest = make_user(email="clicker@example.com")
    booking_id = make_booking(make_listing(instant_book=True, min_nights=1), guest).id
    headers = {**auth_headers(guest), "Idempotency-Key": "one-click"}
    barrier, statuses = threading.Barrier(50), []

    def run() -> None:
        client = app.test_client()
        barrier.wait()
        statuses.append(client.post("/api/v1/payments", json={"booking_id": booking_id,
                                                              "payment_method": "pm_card_visa"},
                                    headers=headers).status_code)

    threads = [threading.Thread(target=run) for _ in range(50)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert statuses.count(201) == 50
    db.session.rollback()
    assert Payment.query.count() == 1
    assert db.session.get(Booking, booking_id).status == "confirmed"


def run_due(app, now: datetime) -> str:
    result = app.test_cli_runner().invoke(args=["jobs", "run-due", "--now", now.isoformat() + "Z"])
    assert result.exit_code == 0, result.output
    return result.output


def after_check_out(booking: Booking) -> datetime:
    return datetime.combine(booking.check_out, datetime.min.time()) + timedelta(hours=12)


def test_completed_stay_pays_the_host_total_minus_service_fee_once(app, client, auth_headers, instant, guest):
    booking = make_booking(instant, guest)
    pay(client, auth_headers, guest, booking)
    output = run_due(app, after_check_out(booking))
    assert "1 stay(s) completed" in output and "1 payout(s) paid" in output
    payouts = client.get("/api/v1/payouts", headers=auth_headers(instant.host)).get_json()
    assert [(p["booking_id"], p["amount"]["amount"], p["status"]) for p in payouts["items"]] == [
        (booking.id, booking.total_amount - booking.service_fee_amount, "paid")]
    assert payouts["items"][0]["scheduled_for"] == booking.check_out.isoformat()
    assert "0 payout(s) paid" in run_due(app, after_check_out(booking) + timedelta(hours=1))
    assert Payout.query.count() == 1
    assert client.get("/api/v1/payouts", headers=auth_headers(guest)).status_code == 403


def test_failed_payout_stays_failed_and_is_retried_with_backoff(app, client, auth_headers, instant, guest):
    instant.host.payout_account = "acct_unreachable"
    db.session.commit()
    booking = make_booking(instant, guest)
    pay(client, auth_headers, guest, booking)
    when = after_check_out(booking)
    assert "0 payout(s) paid" in run_due(app, when)
    payout = Payout.query.one()
    assert (payout.status, payout.attempts, payout.next_attempt_at) == ("failed", 1, when + timedelta(minutes=5))
    assert client.get("/api/v1/payouts", headers=auth_headers(instant.host)).get_json()["items"][0]["status"] \
        == "failed"
    assert "0 payout(s) paid" in run_due(app, when + timedelta(minutes=4))  # not yet: waiting
    assert "0 payout(s) paid" in run_due(app, when + timedelta(minutes=5))  # tried again, failed again
    db.session.refresh(payout)
    assert (payout.attempts, payout.next_attempt_at) == (2, when + timedelta(minutes=15))  # then 10 minutes
    instant.host.payout_account = "acct_fixed"
    db.session.commit()
    assert "1 payout(s) paid" in run_due(app, when + timedelta(minutes=15))
    db.session.refresh(payout)
    assert (payout.status, payout.attempts, payout.last_error) == ("paid", 3, None)


def test_partial_refund_pays_the_host_the_rest_minus_the_fee_at_check_out(app, client, auth_headers, guest):
    listing = make_listing(cancellation_policy="strict", min_nights=1, instant_book=True,
                           price_per_night={"amount": 10000, "currency": "EUR"}, cleaning_fee=None)
    booking = make_booking(listing, guest, nights=2)  # 200.00 + 24.00 fee
    pay(client, auth_headers, guest, booking)
    bookings.cancel_booking(booking.id, guest)  # strict, 30 days ahead: 100.00 back
    payout = Payout.query.one()
    assert (payout.amount, payout.scheduled_for, payout.status) == (22400 - 10000 - 2400, booking.check_out,
                                                                    "scheduled")
    assert "0 payout(s) paid" in run_due(app, datetime.combine(booking.check_out, datetime.min.time())
                                         - timedelta(days=1))


def test_the_ledger_balances_for_every_kind_of_booking(app, client, auth_headers, instant, guest):
    strict = make_listing(cancellation_policy="strict", min_nights=1, instant_book=True)
    done = make_booking(instant, guest)
    full = make_booking(instant, guest, check_in=SOON + timedelta(days=5))
    part = make_booking(strict, guest)
    held = make_booking(instant, guest, check_in=SOON + timedelta(days=10))
    for n, booking in enumerate((done, full, part, held)):
        pay(client, auth_headers, guest, booking, key=f"k{n}")
    bookings.cancel_booking(full.id, guest)
    bookings.cancel_booking(part.id, guest)
    run_due(app, after_check_out(done))
    lines = {line.booking_id: line for line in payments.ledger()}
    assert all(line.balance == 0 for line in lines.values()), lines
    assert lines[done.id].fee_kept == done.service_fee_amount and lines[done.id].held == 0
    assert lines[full.id].refunded == full.total_amount and lines[full.id].payout == 0
    assert lines[part.id].payout > 0 and lines[part.id].fee_kept == part.service_fee_amount
    assert lines[held.id].held == held.total_amount


def test_ledger_command_reports_every_booking_balanced(app, client, auth_headers, instant, guest):
    booking = make_booking(instant, guest)
    pay(client, auth_headers, guest, booking)
    bookings.cancel_booking(booking.id, guest)
    result = app.test_cli_runner().invoke(args=["payments", "ledger", "--all"])
    assert result.exit_code == 0 and "1 booking(s) with payments, 0 not balancing" in result.output
    assert f"{booking.id:>8}  EUR" in result.output


def test_a_cancellation_commits_its_refund_and_a_crash_before_sending_leaves_it_owed(app, client, auth_headers,
                                                                                    instant, guest):
    booking = make_booking(instant, guest)
    pay(client, auth_headers, guest, booking)
    from app.blueprints.bookings import state

    locked = bookings.locked_booking(booking.id)  # cancel as the service does, then "crash" before sending
    state.cancel(locked, "guest", locked.created_at + timedelta(minutes=1))
    db.session.commit()
    refund = PaymentRefund.query.one()  # owed in the cancellation's own transaction
    assert (refund.status, refund.amount) == ("pending", booking.total_amount)
    assert "1 refund(s) sent" in run_due(app, locked.created_at + timedelta(minutes=2))
    db.session.refresh(refund)
    assert refund.status == "succeeded" and db.session.get(Payment, refund.payment_id).refunded_amount \
        == booking.total_amount
    assert "0 refund(s) sent" in run_due(app, locked.created_at + timedelta(minutes=3))
    assert PaymentRefund.query.count() == 1


def test_a_rolled_back_cancellation_owes_nothing(app, client, auth_headers, instant, guest):
    booking = make_booking(instant, guest)
    pay(client, auth_headers, guest, booking)
    from app.blueprints.bookings import state

    locked = bookings.locked_booking(booking.id)
    state.cancel(locked, "guest", locked.created_at + timedelta(minutes=1))
    db.session.rollback()
    assert PaymentRefund.query.count() == 0 and Payout.query.count() == 0
    assert db.session.get(Booking, booking.id).status == "confirmed"


@pytest.mark.parametrize("value", ["abc", "9223372036854775808", "-1", "0", "%C2%B2"])
def test_payments_list_refuses_a_booking_id_that_is_not_one(client, auth_headers, guest, value):
    response = client.get(f"/api/v1/payments?booking_id={value}", headers=auth_headers(guest))
    assert response.status_code == 422 and "booking_id" in response.get_json()["error"]["fields"]


def test_ledger_command_flags_a_payment_whose_refunded_disagrees_with_its_refunds(app, client, auth_headers,
                                                                                 instant, guest):
    booking = make_booking(instant, guest)
    pay(client, auth_headers, guest, booking)
    bookings.cancel_booking(booking.id, guest)
    payment = Payment.query.one()
    payment.refunded_amount = payment.amount - 1  # a lost update, as a read-modify-write would make
    db.session.commit()
    result = app.test_cli_runner().invoke(args=["payments", "ledger"])
    assert result.exit_code == 1 and "1 not balancing" in result.output
