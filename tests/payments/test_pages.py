"""Payment pages through the test client with CSRF on: checkout with the fake provider's test cards, receipts."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta

import pytest

from app.blueprints.bookings import services as bookings
from app.blueprints.payments import services as payments
from app.extensions import db
from app.models import Booking, Payment

from ..support.factories import make_listing, make_user
from ..support.pages import CSRF_INPUT, another_client, input_value, page_of, submit, text_of
from ..support.stripe_stub import API_KEY, StripeStub

SOON = date.today() + timedelta(days=20)
# 3 nights at EUR 100 + EUR 25 cleaning, 12 % service fee on both = EUR 39, total EUR 364.
PRICE_LINES = "3 nights €300.00 Cleaning fee €25.00 Service fee €39.00 Total €364.00"


@pytest.fixture
def host(app):
    return make_user(role="host", name="Hana Host")


@pytest.fixture
def guest(app):
    return make_user(name="Gus Guest")


def listing_of(host, instant_book: bool):
    return make_listing(host, title="Canal loft" if instant_book else "Quiet barn", max_guests=4,
                        price_per_night={"amount": 10000, "currency": "EUR"}, min_nights=2,
                        cleaning_fee={"amount": 2500, "currency": "EUR"}, cancellation_policy="moderate",
                        instant_book=instant_book)


@pytest.fixture
def listing(host):
    return listing_of(host, instant_book=True)


def book(guest, listing) -> Booking:
    return bookings.create_booking(guest=guest, listing_id=listing.id, check_in=SOON,
                                   check_out=SOON + timedelta(days=3), guests=2)[0]


def checkout_form(client, booking) -> dict:
    """The checkout page's hidden fields (CSRF token and the idempotency key made for this page)."""
    page = page_of(client.get(f"/bookings/{booking.id}/checkout"))
    return {"csrf_token": CSRF_INPUT.search(page).group(1), "idempotency_key": input_value(page, "idempotency_key")}


def pay(client, booking, card="pm_card_visa", form=None):
    form = form or checkout_form(client, booking)
    return client.post(f"/bookings/{booking.id}/checkout", data={**form, "payment_method": card})


def booking_now(booking) -> Booking:
    db.session.expire_all()
    return db.session.get(Booking, booking.id)


def test_checkout_with_visa_confirms_booking_and_receipt_shows_amount(client, login, guest, listing):
    booking = book(guest, listing)
    login(client, guest)
    detail = page_of(client.get(f"/bookings/{booking.id}"))
    assert f'href="/bookings/{booking.id}/checkout"' in detail and "Pay now" in detail
    page = client.get(f"/bookings/{booking.id}/checkout")
    text = text_of(page)
    assert page.status_code == 200 and "Confirm and pay" in text and "Canal loft" in text and PRICE_LINES in text
    assert "2 guests" in text and re.search(r"held for (29|30) more minutes", text)
    assert "pm_card_visa" in text and "pm_card_chargeDeclined" in text and "pm_card_processingError" in text
    assert "no real card is charged" in text and input_value(page_of(page), "idempotency_key")

    response = pay(client, booking)
    assert response.status_code == 302 and response.headers["Location"] == f"/bookings/{booking.id}"
    after = client.get(response.headers["Location"])
    assert "Paid €364.00. Your stay is confirmed!" in text_of(after) and "Pay now" not in text_of(after)
    assert booking_now(booking).status == "confirmed"
    payment = Payment.query.one()
    assert f'href="/payments/{payment.id}"' in page_of(after)
    receipt = text_of(client.get(f"/payments/{payment.id}"))
    assert "Receipt" in receipt and "Paid" in receipt and "Amount €364.00" in receipt and "Test mode" in receipt
    assert f"Booking #{booking.id}" in receipt and "No refunds." in receipt and "Net paid €364.00" in receipt


def test_checkout_of_a_request_to_book_waits_for_the_host(client, login, guest, host):
    booking = book(guest, listing_of(host, instant_book=False))
    login(client, guest)
    assert "Pay and request to book" in text_of(client.get(f"/bookings/{booking.id}/checkout"))
    text = text_of(client.get(pay(client, booking).headers["Location"]))
    assert "Paid €364.00. Waiting for the host" in text and "Awaiting host approval" in text
    assert booking_now(booking).awaiting_approval


@pytest.mark.parametrize(("card", "message"), [("pm_card_chargeDeclined", "Your card was declined."),
                                               ("pm_card_processingError", "The payment could not be processed.")])
def test_checkout_refused_card_shows_message_and_another_card_pays(client, login, guest, listing, card, message):
    booking = book(guest, listing)
    login(client, guest)
    first = checkout_form(client, booking)
    response = pay(client, booking, card, form=first)
    text = text_of(response)
    assert response.status_code == 200 and f"{message} Nothing was charged. Try another card." in text
    assert booking_now(booking).status == "pending" and not booking_now(booking).paid
    retry_key = input_value(page_of(response), "idempotency_key")
    assert retry_key and retry_key != first["idempotency_key"]
    retry = pay(client, booking, form={**first, "idempotency_key": retry_key})
    assert retry.status_code == 302 and booking_now(booking).status == "confirmed"
    assert [p.status for p in Payment.query.order_by(Payment.id)] == ["failed", "succeeded"]


def test_checkout_double_submit_pays_once(client, login, guest, listing):
    booking = book(guest, listing)
    login(client, guest)
    form = checkout_form(client, booking)
    first, second = pay(client, booking, form=form), pay(client, booking, form=form)
    assert first.status_code == second.status_code == 302
    assert second.headers["Location"] == f"/bookings/{booking.id}"
    assert Payment.query.count() == 1 and booking_now(booking).paid_amount == 36400


def test_checkout_without_a_card_or_a_key_is_refused(client, login, guest, listing):
    booking = book(guest, listing)
    login(client, guest)
    form = checkout_form(client, booking)
    no_card = client.post(f"/bookings/{booking.id}/checkout", data=form)
    assert no_card.status_code == 200 and "Choose a card." in text_of(no_card)
    keyless = pay(client, booking, form={"csrf_token": form["csrf_token"]})
    assert keyless.status_code == 200 and "The form expired; please try again." in text_of(keyless)
    assert Payment.query.count() == 0


def test_checkout_is_404_for_anyone_but_the_guest(client, login, guest, host, listing):
    booking = book(guest, listing)
    login(client, host)
    assert client.get(f"/bookings/{booking.id}/checkout").status_code == 404
    assert "Pay now" not in text_of(client.get(f"/bookings/{booking.id}"))
    stranger = another_client(client, login, make_user())
    assert stranger.get(f"/bookings/{booking.id}/checkout").status_code == 404
    response = submit(stranger, f"/bookings/{booking.id}/checkout", {"payment_method": "pm_card_visa",
                                                                       "idempotency_key": "k"}, form_url="/trips")
    assert response.status_code == 404 and Payment.query.count() == 0
    assert client.get("/bookings/999999/checkout").status_code == 404


def test_checkout_of_a_paid_or_expired_booking_redirects(client, login, guest, listing):
    paid = bookings.record_payment(book(guest, listing).id, 36400)
    login(client, guest)
    response = client.get(f"/bookings/{paid.id}/checkout")
    assert response.status_code == 302 and response.headers["Location"] == f"/bookings/{paid.id}"
    assert "This booking is already paid." in text_of(client.get(response.headers["Location"]))

    late = book(guest, listing_of(make_user(role="host"), instant_book=True))
    late.expires_at -= timedelta(hours=1)
    db.session.commit()
    assert "Pay now" not in text_of(client.get(f"/bookings/{late.id}"))
    response = client.get(f"/bookings/{late.id}/checkout", follow_redirects=True)
    assert "The time to pay for this booking ran out." in text_of(response)
    posted = pay(client, late, form={"csrf_token": CSRF_INPUT.search(page_of(client.get("/trips"))).group(1),
                                     "idempotency_key": "late-1"})
    assert posted.status_code == 302 and Payment.query.count() == 0


def test_trips_card_has_pay_now_only_while_unpaid(client, login, guest, host, listing):
    unpaid = book(guest, listing)
    bookings.record_payment(book(guest, listing_of(host, instant_book=True)).id, 36400)
    login(client, guest)
    page = page_of(client.get("/trips"))
    assert page.count("Pay now") == 1 and f'href="/bookings/{unpaid.id}/checkout"' in page


def test_receipt_of_someone_elses_payment_is_404_but_admin_sees_it(client, login, guest, host, listing):
    booking = book(guest, listing)
    payment, _replayed = payments.create_payment(guest, booking_id=booking.id, payment_method="pm_card_visa")
    login(client, host)
    assert client.get(f"/payments/{payment.id}").status_code == 404
    assert "Receipt" not in text_of(client.get(f"/bookings/{booking.id}"))
    assert client.get("/payments/999999").status_code == 404
    admin = another_client(client, login, make_user(role="admin"))
    assert "Net paid €364.00" in text_of(admin.get(f"/payments/{payment.id}"))


def test_receipt_shows_the_refund_after_cancel(client, login, guest, listing):
    booking = book(guest, listing)
    login(client, guest)
    pay(client, booking)
    response = submit(client, f"/bookings/{booking.id}/cancel", {"reason": "Plans changed"})
    assert response.status_code == 302
    payment = Payment.query.one()
    text = text_of(client.get(f"/payments/{payment.id}"))
    assert "Refunded" in text and "Refunded €364.00" in text and "Net paid €0.00" in text
    assert re.search(r"\d{2} \w{3} \d{4}, \d{2}:\d{2} UTC Refunded €364\.00", text)
    assert "Receipt" in text_of(client.get(f"/bookings/{booking.id}"))


@pytest.fixture
def stripe_app(app, stripe_stub: StripeStub):
    app.config.update(PAYMENT_PROVIDER="stripe", STRIPE_SECRET_KEY=API_KEY, STRIPE_API_BASE=stripe_stub.url,
                      STRIPE_PUBLISHABLE_KEY="pk_test_abode")
    return app


def continue_to_card(client, booking):
    page = page_of(client.get(f"/bookings/{booking.id}/checkout"))
    assert "Continue to card details" in page and "pm_card_visa" not in page and "js.stripe.com" not in page
    return client.post(f"/bookings/{booking.id}/checkout", data={
        "csrf_token": CSRF_INPUT.search(page).group(1), "idempotency_key": input_value(page, "idempotency_key")})


def test_stripe_checkout_renders_elements_then_confirms_on_return(stripe_app, client, login, guest, listing,
                                                                  stripe_stub):
    booking = book(guest, listing)
    login(client, guest)
    response = continue_to_card(client, booking)
    payment = Payment.query.one()
    html = page_of(response)
    assert response.status_code == 200 and '<script src="https://js.stripe.com/v3/"></script>' in html
    assert f'data-client-secret="{payment.client_secret}"' in html and 'data-publishable-key="pk_test_abode"' in html
    assert f'data-return-url="http://localhost/payments/{payment.id}/confirm"' in html
    stripe_stub.confirm(payment.provider_reference, "pm_card_visa")  # what Stripe.js does with the client_secret
    back = client.get(f"/payments/{payment.id}/confirm")
    assert back.status_code == 302 and back.headers["Location"] == f"/bookings/{booking.id}"
    assert "Paid €364.00. Your stay is confirmed!" in text_of(client.get(back.headers["Location"]))
    assert booking_now(booking).status == "confirmed"


def test_stripe_return_after_a_decline_goes_back_to_checkout(stripe_app, client, login, guest, listing, stripe_stub):
    booking = book(guest, listing)
    login(client, guest)
    continue_to_card(client, booking)
    payment = Payment.query.one()
    stripe_stub.confirm(payment.provider_reference, "pm_card_chargeDeclined")
    back = client.get(f"/payments/{payment.id}/confirm")
    assert back.status_code == 302 and back.headers["Location"] == f"/bookings/{booking.id}/checkout"
    assert "Nothing was charged. Try another card." in text_of(client.get(back.headers["Location"]))
    assert booking_now(booking).status == "pending"
    stranger = another_client(client, login, make_user())
    assert stranger.get(f"/payments/{payment.id}/confirm").status_code == 404


def test_host_payouts_page_shows_paid_and_failed_payouts(app, client, login, guest, host, listing):
    booking = book(guest, listing)
    login(client, guest)
    pay(client, booking)
    host.payout_account = "acct_unreachable"
    db.session.commit()
    noon = datetime.combine(booking.check_out, datetime.min.time()) + timedelta(hours=12)
    app.test_cli_runner().invoke(args=["jobs", "run-due", "--now", noon.isoformat() + "Z"])
    other = another_client(client, login, host)
    text = text_of(other.get("/host/payouts"))
    assert "Failed" in text and "Trying again" in text and f"#{booking.id}" in text
    host.payout_account = "acct_fixed"
    db.session.commit()
    app.test_cli_runner().invoke(args=["jobs", "run-due", "--now", (noon + timedelta(minutes=5)).isoformat() + "Z"])
    text = text_of(other.get("/host/payouts"))
    assert "Paid" in text and "Failed" not in text
    assert other.get("/host/payouts").status_code == 200
    assert another_client(client, login, guest).get("/host/payouts").status_code == 403


def test_checkout_shows_the_total_in_the_guests_currency_too(client, login, guest, listing):
    guest.preferred_currency = "USD"
    db.session.commit()
    booking = book(guest, listing)
    login(client, guest)
    text = text_of(client.get(f"/bookings/{booking.id}/checkout"))
    assert "in your currency at today's rate" in text and "$" in text and "you are charged €" in text
