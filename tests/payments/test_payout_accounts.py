"""Hosts' payout accounts: the API (masked, stored encrypted, 422/403/401), the host's page, and Stripe and PayPal
payouts that wait for the host's account (against the local Stripe and PayPal stubs) and are paid once it is set."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import text

from app.blueprints.bookings import services as bookings
from app.blueprints.payments import payout_accounts
from app.errors import PermissionDenied
from app.extensions import db
from app.models import Booking, Payout, User

from ..support.factories import make_listing, make_user
from ..support.pages import submit, text_of
from ..support.paypal_stub import PayPalStub
from ..support.stripe_stub import CONNECTED_ACCOUNT, StripeStub

URL, PAGE = "/api/v1/profile/payout-account", "/host/payout-account"
SOON = date.today() + timedelta(days=30)


@pytest.fixture
def host(app) -> User:
    return make_user(role="host", name="Hana Host")


@pytest.fixture
def guest(app) -> User:
    return make_user(name="Gus Guest")


def put(client, headers, body):
    return client.put(URL, json=body, headers=headers)


def run_due(app, now: datetime) -> str:
    result = app.test_cli_runner().invoke(args=["jobs", "run-due", "--now", now.isoformat() + "Z"])
    assert result.exit_code == 0, result.output
    return result.output


def after_check_out(booking: Booking) -> datetime:
    return datetime.combine(booking.check_out, datetime.min.time()) + timedelta(hours=12)


def new_booking(host: User, guest: User) -> Booking:
    listing = make_listing(host, instant_book=True, min_nights=1, cancellation_policy="flexible",
                           price_per_night={"amount": 10000, "currency": "USD"}, cleaning_fee=None)
    return bookings.create_booking(guest=guest, listing_id=listing.id, check_in=SOON,
                                   check_out=SOON + timedelta(days=2), guests=1)[0]


def pay(client, auth_headers, booking: Booking, method: str | None = "pm_card_visa") -> dict:
    body = {"booking_id": booking.id, **({"payment_method": method} if method else {})}
    response = client.post("/api/v1/payments", json=body,
                           headers={**auth_headers(booking.guest), "Idempotency-Key": f"pay-{booking.id}"})
    assert response.status_code == 201, response.get_json()
    return response.get_json()


@pytest.fixture
def stripe_app(app, stripe_stub: StripeStub):
    app.config.update(**stripe_stub.settings())
    return app


@pytest.fixture
def paypal_app(app, paypal_stub: PayPalStub):
    app.config.update(**paypal_stub.settings())
    return app


# --- the API ------------------------------------------------------------------------------------------------------

def test_get_payout_account_without_one_is_null(client, auth_headers, host):
    response = client.get(URL, headers=auth_headers(host))
    assert (response.status_code, response.get_json()) == (200, {"provider": None, "destination": None})


def test_put_stripe_account_answers_it_masked_and_get_shows_the_same(client, auth_headers, host):
    response = put(client, auth_headers(host), {"provider": "stripe", "account_id": " acct_1StubHost00001234 "})
    assert (response.status_code, response.get_json()) == (200, {"provider": "stripe",
                                                                 "destination": "acct_***1234"})
    assert client.get(URL, headers=auth_headers(host)).get_json() == response.get_json()
    db.session.refresh(host)
    assert (host.payout_provider, host.payout_account) == ("stripe", "acct_1StubHost00001234")


def test_put_paypal_email_is_masked_and_replaces_the_stripe_account(client, auth_headers, host):
    put(client, auth_headers(host), {"provider": "stripe", "account_id": CONNECTED_ACCOUNT})
    response = put(client, auth_headers(host), {"provider": "paypal", "email": "jane.doe@Example.COM"})
    assert (response.status_code, response.get_json()) == (200, {"provider": "paypal",
                                                                 "destination": "j***@example.com"})
    assert "jane" not in response.get_data(as_text=True)
    db.session.refresh(host)
    assert (host.payout_provider, host.payout_account) == ("paypal", "jane.doe@example.com")


def test_payout_account_is_stored_encrypted(client, auth_headers, host):
    put(client, auth_headers(host), {"provider": "paypal", "email": "jane@example.com"})
    raw, provider = db.session.execute(text("SELECT payout_account, payout_provider FROM users WHERE id = :id"),
                                       {"id": host.id}).one()
    assert provider == "paypal" and raw and "jane" not in raw and "example.com" not in raw
    assert payout_accounts.payout_destination(db.session.get(User, host.id), "paypal") == "jane@example.com"


@pytest.mark.parametrize("body, field", [
    ({"provider": "stripe", "account_id": "acct_"}, "account_id"),
    ({"provider": "stripe", "account_id": "acct_12-34"}, "account_id"),
    ({"provider": "stripe", "account_id": "1StubHost0000001"}, "account_id"),
    ({"provider": "stripe", "account_id": "acct_" + "a" * 300}, "account_id"),
    ({"provider": "stripe", "account_id": 12345}, "account_id"),
    ({"provider": "stripe", "email": "jane@example.com"}, "account_id"),
    ({"provider": "paypal", "email": "jane"}, "email"),
    ({"provider": "paypal", "email": "jane@"}, "email"),
    ({"provider": "paypal", "email": "@example.com"}, "email"),
    ({"provider": "paypal", "email": ["jane@example.com"]}, "email"),
    ({"provider": "paypal", "account_id": CONNECTED_ACCOUNT}, "email"),
    ({"provider": "bank", "account_id": CONNECTED_ACCOUNT}, "provider"),
    ({"provider": "fake"}, "provider"),
    ({"provider": ["stripe"]}, "provider"),
    ({"account_id": CONNECTED_ACCOUNT}, "provider"),
])
def test_put_malformed_account_is_422_with_fields_and_keeps_the_old_one(client, auth_headers, host, body, field):
    put(client, auth_headers(host), {"provider": "stripe", "account_id": CONNECTED_ACCOUNT})
    response = put(client, auth_headers(host), body)
    error = response.get_json()["error"]
    assert (response.status_code, error["code"], list(error["fields"])) == (422, "validation_error", [field])
    assert error["request_id"] and error["message"]
    assert client.get(URL, headers=auth_headers(host)).get_json()["destination"] == "acct_***0001"


def test_put_with_a_body_that_is_not_an_object_is_422_and_bad_json_400(client, auth_headers, host):
    assert put(client, auth_headers(host), ["stripe"]).status_code == 422
    response = client.put(URL, data="{", headers={**auth_headers(host), "Content-Type": "application/json"})
    assert (response.status_code, response.get_json()["error"]["code"]) == (400, "bad_request")


def test_guest_gets_403_and_anonymous_401(client, auth_headers, guest):
    body = {"provider": "stripe", "account_id": CONNECTED_ACCOUNT}
    for response in (client.get(URL, headers=auth_headers(guest)), put(client, auth_headers(guest), body)):
        assert (response.status_code, response.get_json()["error"]["code"]) == (403, "forbidden")
    for response in (client.get(URL), client.put(URL, json=body)):
        assert (response.status_code, response.get_json()["error"]["code"]) == (401, "unauthorized")
    db.session.refresh(guest)
    assert guest.payout_account is None


def test_openapi_documents_both_operations(client):
    path = client.get("/api/openapi.json").get_json()["paths"]["/api/v1/profile/payout-account"]
    assert set(path) >= {"get", "put"} and "422" in path["put"]["responses"] and "403" in path["get"]["responses"]


# --- where payouts go ---------------------------------------------------------------------------------------------

def test_payout_destination_per_provider(app, host):
    assert payout_accounts.payout_destination(host, "stripe") is None
    assert payout_accounts.payout_destination(host, "fake") == f"acct_fake_host_{host.id}"
    payout_accounts.set_payout_account(host, provider="paypal", destination="jane@example.com")
    assert payout_accounts.payout_destination(host, "stripe") is None  # a PayPal account is not Stripe's
    assert payout_accounts.payout_destination(host, "paypal") == "jane@example.com"
    assert payout_accounts.payout_destination(host, "fake") == "jane@example.com"


def test_set_payout_account_is_for_hosts_only(app, guest):
    with pytest.raises(PermissionDenied):
        payout_accounts.set_payout_account(guest, provider="stripe", destination=CONNECTED_ACCOUNT)
    db.session.refresh(guest)
    assert guest.payout_account is None


@pytest.mark.parametrize("provider, destination, masked", [
    ("paypal", "jane@example.com", "j***@example.com"), ("stripe", "acct_1StubHost00001234", "acct_***1234"),
    ("stripe", "acct_1234", "acct_***"), (None, None, None)])
def test_mask_hides_all_but_a_hint(provider, destination, masked):
    assert payout_accounts.mask(provider, destination) == masked


def test_stripe_payout_waits_for_the_hosts_account_then_the_next_run_pays_it(stripe_app, client, auth_headers, host,
                                                                            guest, stripe_stub):
    booking = new_booking(host, guest)
    pay(client, auth_headers, booking)
    when = after_check_out(booking)
    assert "0 payout(s) paid" in run_due(stripe_app, when)
    assert "0 payout(s) paid" in run_due(stripe_app, when + timedelta(minutes=1))  # still waiting, looked again
    payout = Payout.query.one()
    assert (payout.provider, payout.status, payout.attempts, payout.next_attempt_at) == ("stripe", "scheduled", 0,
                                                                                         None)
    assert payout.last_error == "Waiting for the host's Stripe payout account."
    assert stripe_stub.calls("/v1/transfers") == []
    listed = client.get("/api/v1/payouts", headers=auth_headers(host)).get_json()["items"]
    assert [item["status"] for item in listed] == ["scheduled"]

    assert put(client, auth_headers(host), {"provider": "stripe", "account_id": CONNECTED_ACCOUNT}).status_code == 200
    assert "1 payout(s) paid" in run_due(stripe_app, when + timedelta(minutes=2))
    [transfer] = stripe_stub.calls("/v1/transfers", "POST")
    assert (transfer.params["destination"], transfer.params["amount"]) == (
        CONNECTED_ACCOUNT, str(booking.total_amount - booking.service_fee_amount))
    db.session.refresh(payout)
    assert (payout.status, payout.attempts, payout.last_error) == ("paid", 1, None)


def test_stripe_payout_waits_while_the_host_has_only_a_paypal_account(stripe_app, client, auth_headers, host,
                                                                      guest, stripe_stub):
    put(client, auth_headers(host), {"provider": "paypal", "email": "hana@example.com"})
    booking = new_booking(host, guest)
    pay(client, auth_headers, booking)
    assert "0 payout(s) paid" in run_due(stripe_app, after_check_out(booking))
    payout = Payout.query.one()
    assert (payout.status, payout.attempts, payout.last_error) == (
        "scheduled", 0, "Waiting for the host's Stripe payout account.")
    assert stripe_stub.calls("/v1/transfers") == []


def test_a_payout_that_failed_before_is_retried_at_once_when_the_host_sets_an_account(stripe_app, client,
                                                                                     auth_headers, host, guest):
    booking = new_booking(host, guest)
    pay(client, auth_headers, booking)
    when = after_check_out(booking)
    run_due(stripe_app, when)
    payout = Payout.query.one()  # as the old code left it: failed, next try a day later
    payout.status, payout.attempts, payout.next_attempt_at = "failed", 9, when + timedelta(days=1)
    db.session.commit()
    put(client, auth_headers(host), {"provider": "stripe", "account_id": CONNECTED_ACCOUNT})
    assert "1 payout(s) paid" in run_due(stripe_app, when + timedelta(minutes=1))


def test_paypal_payout_waits_for_the_hosts_email_then_is_paid_to_it(paypal_app, client, auth_headers, host, guest,
                                                                    paypal_stub):
    booking = new_booking(host, guest)
    created = pay(client, auth_headers, booking, method=None)
    paypal_stub.approve(created["client_secret"])  # the buyer approves in PayPal's window
    confirmed = client.post(f"/api/v1/payments/{created['id']}/confirm", headers=auth_headers(guest))
    assert confirmed.get_json()["status"] == "succeeded"
    when = after_check_out(booking)
    assert "0 payout(s) paid" in run_due(paypal_app, when)
    payout = Payout.query.one()
    assert (payout.provider, payout.status, payout.attempts) == ("paypal", "scheduled", 0)
    assert paypal_stub.calls("/v1/payments/payouts") == []
    put(client, auth_headers(host), {"provider": "paypal", "email": "hana@example.com"})
    assert "1 payout(s) paid" in run_due(paypal_app, when + timedelta(minutes=1))
    [call] = paypal_stub.calls("/v1/payments/payouts")
    assert [item["receiver"] for item in call.json["items"]] == ["hana@example.com"]


# --- the host's pages ---------------------------------------------------------------------------------------------

def test_payout_account_page_sets_a_stripe_account_and_shows_it_masked(client, login, host):
    login(client, host)
    assert "None yet" in text_of(client.get(PAGE))
    response = submit(client, PAGE, {"provider": "stripe", "account_id": CONNECTED_ACCOUNT})
    assert response.status_code == 302 and response.headers["Location"] == PAGE
    page = client.get(PAGE).get_data(as_text=True)
    assert "Stripe · acct_***0001" in text_of(client.get(PAGE)) and "Saved" in page
    assert CONNECTED_ACCOUNT not in page
    db.session.refresh(host)
    assert (host.payout_provider, host.payout_account) == ("stripe", CONNECTED_ACCOUNT)


def test_payout_account_page_sets_a_paypal_email(client, login, host):
    login(client, host)
    submit(client, PAGE, {"provider": "paypal", "email": "hana@example.com", "account_id": ""})
    assert "PayPal · h***@example.com" in text_of(client.get(PAGE))


@pytest.mark.parametrize("data, message", [
    ({"provider": "stripe", "account_id": "stripe-1234"}, "a Stripe account id is acct_ followed by letters"),
    ({"provider": "stripe", "account_id": ""}, "give your Stripe account id"),
    ({"provider": "paypal", "email": "hana@"}, "There must be something after the @-sign."),
    ({"provider": "bank", "account_id": CONNECTED_ACCOUNT}, "Not a valid choice"),
])
def test_payout_account_page_shows_errors_on_the_form_and_saves_nothing(client, login, host, data, message):
    login(client, host)
    response = submit(client, PAGE, data)
    assert response.status_code == 200 and message in text_of(response)
    assert "invalid-feedback" in response.get_data(as_text=True)
    db.session.refresh(host)
    assert host.payout_account is None


def test_payout_account_page_without_csrf_token_saves_nothing(client, login, host):
    login(client, host)
    response = client.post(PAGE, data={"provider": "stripe", "account_id": CONNECTED_ACCOUNT})
    assert response.status_code == 400 and "CSRF token is missing" in text_of(response)
    db.session.refresh(host)
    assert host.payout_account is None


def test_payout_account_page_is_for_hosts(client, login, guest):
    anonymous = client.get(PAGE)
    assert anonymous.status_code == 302 and "/login" in anonymous.headers["Location"]
    login(client, guest)
    assert client.get(PAGE).status_code == 403


def test_payouts_page_tells_the_host_a_payout_waits_for_the_account(stripe_app, client, auth_headers, login, host,
                                                                   guest):
    booking = new_booking(host, guest)
    pay(client, auth_headers, booking)
    run_due(stripe_app, after_check_out(booking))
    login(client, host)
    page = client.get("/host/payouts")
    shown = text_of(page)
    assert "1 payout is waiting for your Stripe payout account" in shown
    assert "Waiting for your payout account" in shown and "Set up your payout account" in shown
    assert f'href="{PAGE}"' in page.get_data(as_text=True)
    submit(client, PAGE, {"provider": "stripe", "account_id": CONNECTED_ACCOUNT})
    shown = text_of(client.get("/host/payouts"))
    assert "payout is waiting" not in shown and "Waiting for your payout account" not in shown
    assert "Payouts go to Stripe acct_***0001" in shown and "Scheduled" in shown
    run_due(stripe_app, after_check_out(booking) + timedelta(minutes=1))
    assert "Paid" in text_of(client.get("/host/payouts"))
