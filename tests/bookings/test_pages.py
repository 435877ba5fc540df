"""Booking pages through the test client with CSRF on: the listing page's panel, trips, cancel, reservations."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import pytest

from app.blueprints.bookings import services
from app.extensions import db
from app.models import Booking

from ..support.factories import make_listing, make_user
from ..support.pages import another_client, input_value, page_of, submit, text_of

SOON = date.today() + timedelta(days=20)
LATER = SOON + timedelta(days=3)
# 3 nights at EUR 100 + EUR 25 cleaning, 12 % service fee on both = EUR 39, total EUR 364.
STAY = {"check_in": SOON.isoformat(), "check_out": LATER.isoformat(), "guests": "2"}


@pytest.fixture
def host(app):
    return make_user(role="host", name="Hana Host")


@pytest.fixture
def listing(host):
    return make_listing(host, title="Canal loft", price_per_night={"amount": 10000, "currency": "EUR"},
                        cleaning_fee={"amount": 2500, "currency": "EUR"}, max_guests=4, min_nights=2, max_nights=14,
                        cancellation_policy="moderate", instant_book=True)


@pytest.fixture
def request_listing(host):
    return make_listing(host, title="Quiet barn", price_per_night={"amount": 10000, "currency": "EUR"},
                        cleaning_fee={"amount": 2500, "currency": "EUR"}, instant_book=False)


@pytest.fixture
def guest(app):
    return make_user(name="Gus Guest")


def book(guest, listing, check_in=SOON, nights=3, guests=2) -> Booking:
    return services.create_booking(guest=guest, listing_id=listing.id, check_in=check_in,
                                   check_out=check_in + timedelta(days=nights), guests=guests)[0]


def book_from_page(client, listing, stay=STAY):
    return submit(client, f"/listings/{listing.id}/book", stay, form_url=f"/listings/{listing.id}")


def paid_request(guest, listing) -> Booking:
    booking = book(guest, listing)
    return services.record_payment(booking.id, booking.total_amount)


# --- the booking panel on the listing page --------------------------------------------------------------------------

def test_panel_query_string_prefills_stay_and_shows_quote(client, listing):
    page = client.get(f"/listings/{listing.id}?check_in={SOON}&check_out={LATER}&guests=2")
    html, text = page_of(page), text_of(page)
    assert input_value(html, "check_in") == SOON.isoformat() and input_value(html, "check_out") == LATER.isoformat()
    assert input_value(html, "guests") == "2"
    assert "3 nights €300.00 Cleaning fee €25.00 Service fee €39.00 Total €364.00" in text
    assert "Book" in text and "Taken nights in the next 6 months: none" in text


def test_panel_shows_taken_nights_and_refuses_a_taken_stay(client, listing, guest):
    book(guest, listing)
    response = client.get(f"/listings/{listing.id}?check_in={SOON + timedelta(days=1)}&check_out={LATER}")
    text = text_of(response)
    assert f"Nights of {SOON:%d %b} – {SOON + timedelta(days=2):%d %b %Y}" in text
    assert "Some of these nights are taken. Choose other dates." in text and "Total" not in text


def test_panel_invalid_query_shows_the_rule(client, listing):
    text = text_of(client.get(f"/listings/{listing.id}?check_in={SOON}&check_out={SOON + timedelta(days=1)}"))
    assert "Check-out: Stays here are 2 to 14 nights." in text


def test_book_from_listing_page_redirects_to_booking(client, login, listing, guest):
    login(client, guest)
    response = book_from_page(client, listing)
    booking = Booking.query.one()
    assert response.status_code == 302 and response.headers["Location"] == f"/bookings/{booking.id}"
    assert (booking.check_in, booking.check_out, booking.guests, booking.guest_id) == (SOON, LATER, 2, guest.id)
    text = text_of(client.get(response.headers["Location"]))
    assert "Booked!" in text and "Pending payment" in text and "Waiting for payment" in text
    assert f"held until {booking.expires_at:%a %d %b %Y, %H:%M} UTC" in text
    assert "3 nights €300.00 Cleaning fee €25.00 Service fee €39.00 Total €364.00" in text


def test_book_twice_with_one_form_gives_the_first_booking(client, login, listing, guest):
    login(client, guest)
    data = {**STAY, "idempotency_key": "panel-1"}
    first, again = book_from_page(client, listing, data), book_from_page(client, listing, data)
    assert first.headers["Location"] == again.headers["Location"] and Booking.query.count() == 1


def test_book_taken_dates_shows_error_on_listing_page_with_values_kept(client, login, listing, guest):
    book(make_user(), listing, check_in=SOON + timedelta(days=2))
    login(client, guest)
    response = book_from_page(client, listing)
    assert response.status_code == 303
    location = urlsplit(response.headers["Location"])
    assert location.path == f"/listings/{listing.id}" and location.fragment == "book"
    page = client.get(response.headers["Location"])
    assert "Some of those nights are already taken." in text_of(page)
    assert input_value(page_of(page), "check_in") == SOON.isoformat()
    assert input_value(page_of(page), "check_out") == LATER.isoformat()
    assert Booking.query.count() == 1
    assert "already taken" not in text_of(client.get(f"/listings/{listing.id}"))  # shown once


def test_book_invalid_stay_marks_the_field(client, login, listing, guest):
    login(client, guest)
    response = book_from_page(client, listing, {**STAY, "check_out": (SOON + timedelta(days=1)).isoformat()})
    html = page_of(client.get(response.headers["Location"]))
    assert re.search(r'is-invalid" id="booking-check_out"', html)
    assert "Stays here are 2 to 14 nights." in html and Booking.query.count() == 0
    response = book_from_page(client, listing, {**STAY, "guests": "9"})
    assert "This place sleeps 1 to 4." in page_of(client.get(response.headers["Location"]))


def test_book_own_listing_is_refused_on_the_page(client, login, host, listing):
    login(client, host)
    page = page_of(client.get(f"/listings/{listing.id}"))
    assert "This is your listing" in page and re.search(r'id="booking-submit" disabled', page)
    response = book_from_page(client, listing)
    assert "Hosts cannot book their own listing." in text_of(client.get(response.headers["Location"]))
    assert Booking.query.count() == 0


def test_book_logged_out_goes_to_login_and_comes_back_with_the_stay(client, listing, guest):
    response = book_from_page(client, listing)
    assert response.status_code == 302 and urlsplit(response.headers["Location"]).path == "/login"
    back = parse_qs(urlsplit(response.headers["Location"]).query)["next"][0]
    assert back.startswith(f"/listings/{listing.id}?") and f"check_in={SOON}" in back
    login_url = response.headers["Location"]
    assert "Log in or sign up to book this stay" in text_of(client.get(login_url))
    response = submit(client, login_url, {"email": guest.email, "password": "correct-horse-battery"})
    assert response.status_code == 302 and response.headers["Location"] == back
    html = page_of(client.get(back))
    assert input_value(html, "check_out") == LATER.isoformat() and "Total" in text_of(client.get(back))
    assert Booking.query.count() == 0


# --- trips ---------------------------------------------------------------------------------------------------------

def test_trips_sorts_bookings_into_upcoming_past_and_canceled(client, login, guest, listing, request_listing):
    done = services.record_payment(book(guest, listing, check_in=SOON + timedelta(days=30)).id, 36400)
    services.complete_due(datetime.combine(done.check_out, datetime.min.time()) + timedelta(days=1))
    upcoming = book(guest, listing)
    canceled = book(guest, request_listing)
    services.cancel_booking(canceled.id, guest)
    book(make_user(), listing, check_in=SOON + timedelta(days=5))  # someone else's trip
    login(client, guest)
    text = text_of(client.get("/trips"))
    assert "Upcoming 1 Past 1 Canceled 1" in text
    assert "Canal loft" in text and "Quiet barn" not in text and "Pending payment" in text
    assert f"{upcoming.check_in:%a %d %b} – {upcoming.check_out:%a %d %b %Y} · 3 nights €364.00 total" in text
    past = text_of(client.get("/trips?tab=past"))
    assert "Completed" in past and f"{done.check_in:%a %d %b}" in past and "Quiet barn" not in past
    gone = text_of(client.get("/trips?tab=canceled"))
    assert "Quiet barn" in gone and "Canceled" in gone and "refund €0.00" in gone
    assert f'href="/bookings/{canceled.id}"' in page_of(client.get("/trips?tab=canceled"))


def test_trips_empty_and_logged_out(client, login, guest):
    assert client.get("/trips").headers["Location"].startswith("/login")
    login(client, guest)
    assert "No trips booked" in text_of(client.get("/trips"))


def test_nav_links_trips_for_guests_and_reservations_for_hosts(client, login, guest, host):
    login(client, guest)
    page = page_of(client.get("/"))
    assert 'href="/trips"' in page and 'href="/host/reservations"' not in page
    other = another_client(client, login, host)
    page = page_of(other.get("/"))
    assert 'href="/trips"' in page and 'href="/host/reservations"' in page


# --- cancel --------------------------------------------------------------------------------------------------------

def test_guest_cancel_shows_refund_first_then_cancels(client, login, guest, listing):
    booking = services.record_payment(book(guest, listing).id, 36400)
    login(client, guest)
    detail = text_of(client.get(f"/bookings/{booking.id}"))
    assert "Confirmed" in detail and "Cancel trip" in detail and "Paid €364.00" in detail
    confirm = text_of(client.get(f"/bookings/{booking.id}/cancel"))
    assert "Cancel your trip?" in confirm and "Refund if you cancel now €364.00" in confirm
    assert "moderate policy" in confirm and db.session.get(Booking, booking.id).status == "confirmed"
    response = submit(client, f"/bookings/{booking.id}/cancel", {"reason": "Plans changed"})
    assert response.status_code == 302 and response.headers["Location"] == f"/bookings/{booking.id}"
    text = text_of(client.get(response.headers["Location"]))
    assert "Your trip is canceled. Refund: €364.00." in text and "Canceled" in text
    assert "Refund: €364.00 of €364.00 paid" in text and "Plans changed" in text and "Cancel trip" not in text
    db.session.expire_all()
    assert db.session.get(Booking, booking.id).refund_amount == 36400


def test_guest_cancel_late_on_strict_policy_shows_what_is_lost(client, login, guest, host):
    strict = make_listing(host, cancellation_policy="strict", price_per_night={"amount": 10000, "currency": "EUR"},
                          cleaning_fee={"amount": 2500, "currency": "EUR"})
    booking = services.record_payment(book(guest, strict, check_in=date.today() + timedelta(days=3)).id, 36400)
    login(client, guest)
    text = text_of(client.get(f"/bookings/{booking.id}/cancel"))
    assert "Refund if you cancel now €0.00" in text and "You would not get back €364.00." in text


def test_cancel_of_a_canceled_booking_goes_back_with_a_message(client, login, guest, listing):
    booking = book(guest, listing)
    services.cancel_booking(booking.id, guest)
    login(client, guest)
    response = client.get(f"/bookings/{booking.id}/cancel", follow_redirects=True)
    assert "can no longer be canceled" in text_of(response)


def test_cancel_reason_too_long_is_a_form_error(client, login, guest, listing):
    booking = book(guest, listing)
    login(client, guest)
    response = submit(client, f"/bookings/{booking.id}/cancel", {"reason": "x" * 501})
    assert response.status_code == 200 and "Field cannot be longer than 500 characters." in page_of(response)
    assert db.session.get(Booking, booking.id).status == "pending"


# --- host reservations -----------------------------------------------------------------------------------------------

def test_host_approves_a_paid_request(client, login, host, guest, request_listing):
    booking = paid_request(guest, request_listing)
    login(client, host)
    text = text_of(client.get("/host/reservations"))
    assert "Gus Guest" in text and "Quiet barn" in text and "Awaiting host approval" in text and "Approve" in text
    response = submit(client, f"/bookings/{booking.id}/approve", {"next": "/host/reservations?status=pending"},
                      form_url="/host/reservations")
    assert response.status_code == 302 and response.headers["Location"] == "/host/reservations?status=pending"
    assert "Approved. Gus Guest's stay is confirmed." in text_of(client.get("/host/reservations"))
    text = text_of(client.get("/host/reservations?status=confirmed"))
    assert "Confirmed" in text and "Approve" not in text and "Quiet barn" in text


def test_host_declines_a_paid_request_with_full_refund(client, login, host, guest, request_listing):
    booking = paid_request(guest, request_listing)
    login(client, host)
    page = page_of(client.get(f"/bookings/{booking.id}"))
    assert "gets back everything paid (€364.00)" in page
    response = submit(client, f"/bookings/{booking.id}/decline", {}, form_url=f"/bookings/{booking.id}")
    assert response.headers["Location"] == f"/bookings/{booking.id}"
    text = text_of(client.get(response.headers["Location"]))
    assert "Declined. Gus Guest gets a full refund." in text and "Refund: €364.00 of €364.00 paid" in text
    assert "declined the request" in text


def test_host_cannot_approve_an_unpaid_booking(client, login, host, guest, request_listing):
    booking = book(guest, request_listing)
    login(client, host)
    assert "Approve" not in text_of(client.get("/host/reservations"))
    response = submit(client, f"/bookings/{booking.id}/approve", {}, form_url="/host/reservations")
    assert "cannot be approved" in text_of(client.get(response.headers["Location"]))
    assert db.session.get(Booking, booking.id).status == "pending"


def test_host_cancel_confirmation_says_everything_paid_goes_back(client, login, host, guest, listing):
    booking = services.record_payment(book(guest, listing).id, 36400)
    login(client, host)
    text = text_of(client.get(f"/bookings/{booking.id}/cancel"))
    assert "Cancel this reservation?" in text and "refunds everything the guest paid: €364.00 goes back" in text
    response = submit(client, f"/bookings/{booking.id}/cancel", {})
    text = text_of(client.get(response.headers["Location"]))
    assert "The reservation is canceled. The guest gets back €364.00." in text


def test_reservations_filter_by_status_and_only_own_listings(client, login, host, guest, listing):
    kept = book(guest, listing)
    gone = book(guest, listing, check_in=SOON + timedelta(days=10))
    services.cancel_booking(gone.id, guest)
    make_listing(make_user(role="host"), title="Elsewhere barn")
    book(guest, db.session.scalars(db.select(type(listing)).filter_by(title="Elsewhere barn")).one())
    login(client, host)
    text = text_of(client.get("/host/reservations"))
    assert "2 bookings of your listings" in text and "Elsewhere barn" not in text
    canceled = page_of(client.get("/host/reservations?status=canceled"))
    assert f'data-booking-id="{gone.id}"' in canceled and f'data-booking-id="{kept.id}"' not in canceled
    assert client.get("/host/reservations?status=bogus").status_code == 200


# --- access control --------------------------------------------------------------------------------------------------

def test_strangers_get_404_pages_and_guests_no_host_pages(client, login, guest, listing, request_listing):
    booking = paid_request(guest, request_listing)
    stranger = make_user()
    login(client, stranger)
    for url in (f"/bookings/{booking.id}", f"/bookings/{booking.id}/cancel"):
        response = client.get(url)
        assert response.status_code == 404 and "Gus Guest" not in page_of(response)
    assert submit(client, f"/bookings/{booking.id}/cancel", {}, form_url="/trips").status_code == 404
    assert client.get("/host/reservations").status_code == 403
    assert submit(client, f"/bookings/{booking.id}/approve", {}, form_url="/trips").status_code == 403
    other = another_client(client, login, make_user(role="host"))
    assert submit(other, f"/bookings/{booking.id}/approve", {}, form_url="/trips").status_code == 404
    assert "Gus Guest" not in text_of(other.get("/host/reservations"))
    assert db.session.get(Booking, booking.id).awaiting_approval


def test_guest_cannot_approve_own_request(client, login, guest, request_listing):
    booking = paid_request(guest, request_listing)
    login(client, guest)
    page = text_of(client.get(f"/bookings/{booking.id}"))
    assert "Approve" not in page and "Waiting for the host" in page
    assert submit(client, f"/bookings/{booking.id}/approve", {}, form_url="/trips").status_code == 403


def test_missing_listing_booking_is_404(client, login, guest):
    login(client, guest)
    assert submit(client, "/listings/999999/book", STAY, form_url="/trips").status_code == 404


def test_reservations_show_the_requests_awaiting_an_answer(client, login, host, guest, request_listing):
    waiting = paid_request(guest, request_listing)
    unpaid = book(guest, request_listing, check_in=SOON + timedelta(days=10))
    login(client, host)
    page = page_of(client.get("/host/reservations?status=awaiting"))
    assert f"/bookings/{waiting.id}" in page and f"/bookings/{unpaid.id}" not in page
    assert "Awaiting your answer" in page
    services.approve_booking(waiting.id, host)
    assert "No requests waiting for your answer" in text_of(client.get("/host/reservations?status=awaiting"))
