"""Where a listing is, and who may know (docs/api.md, Properties): the street, postal code and exact point for its
host, admins and the guest of a confirmed or completed booking; the city and a point about a kilometre off, the
same on every request, for everyone else, in the API, in search and on the pages."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from app.blueprints.bookings import services as bookings

from ..support.factories import make_listing, make_user
from ..support.pages import page_of
from ..support.search import haversine_km
from ..support.stays import completed_stay, paid_booking

TRUE_POINT = (48.8566, 2.3522)
ADDRESS = {"line1": "7 Rue Secrète", "city": "Paris", "state": "Île-de-France", "country": "FR",
           "postal_code": "75004"}


def place(**overrides):
    return make_listing(address=ADDRESS, latitude=TRUE_POINT[0], longitude=TRUE_POINT[1], min_nights=1, **overrides)


def property_seen(client, listing_id: int, headers=None) -> dict:
    response = client.get(f"/api/v1/properties/{listing_id}", headers=headers or {})
    assert response.status_code == 200
    return response.get_json()


def is_exact(body: dict) -> bool:
    """True when the answer shows the street, the postal code and the true point; else checks it shows none."""
    if body["address"]["line1"] == ADDRESS["line1"]:
        assert body["address"]["postal_code"] == "75004" and (body["latitude"], body["longitude"]) == TRUE_POINT
        return True
    assert body["address"]["line1"] is None and body["address"]["postal_code"] is None
    assert body["address"]["city"] == "Paris" and body["address"]["state"] == "Île-de-France"
    assert 0.2 < haversine_km(*TRUE_POINT, body["latitude"], body["longitude"]) <= 1.0
    return False


def test_a_stranger_sees_the_city_and_one_approximate_point(client, app, auth_headers):
    listing, other = place(), place()
    seen = [property_seen(client, listing.id), property_seen(client, listing.id, auth_headers(make_user())),
            property_seen(client, listing.id, auth_headers(make_user(role="host")))]
    assert not any(is_exact(body) for body in seen)
    assert len({(body["latitude"], body["longitude"]) for body in seen}) == 1  # nothing to average out
    moved = property_seen(client, other.id)
    assert (moved["latitude"], moved["longitude"]) != (seen[0]["latitude"], seen[0]["longitude"])  # per listing


def test_host_and_admin_see_the_address_and_the_true_point(client, app, auth_headers):
    listing = place()
    assert is_exact(property_seen(client, listing.id, auth_headers(listing.host)))
    assert is_exact(property_seen(client, listing.id, auth_headers(make_user(role="admin"))))


def test_the_guest_sees_the_address_once_a_booking_is_confirmed_or_completed(client, app, auth_headers):
    booking = paid_booking(address=ADDRESS, latitude=TRUE_POINT[0], longitude=TRUE_POINT[1])  # confirmed
    assert is_exact(property_seen(client, booking.listing_id, auth_headers(booking.guest)))
    completed = completed_stay(make_user(), booking.listing)
    assert is_exact(property_seen(client, booking.listing_id, auth_headers(completed.guest)))
    bookings.cancel_booking(booking.id, booking.guest)
    assert not is_exact(property_seen(client, booking.listing_id, auth_headers(booking.guest)))  # canceled


def test_a_pending_booking_does_not_give_the_address(client, app, auth_headers):
    listing, guest = place(instant_book=False), make_user()
    soon = date.today() + timedelta(days=20)
    bookings.create_booking(guest=guest, listing_id=listing.id, check_in=soon, check_out=soon + timedelta(days=2),
                            guests=1)
    assert not is_exact(property_seen(client, listing.id, auth_headers(guest)))


def test_search_shows_the_approximate_point_of_the_property_answer(client, app):
    listing = place()
    item = client.get("/api/v1/search?lat=48.8566&lng=2.3522&radius_km=0.2").get_json()["items"][0]
    body = property_seen(client, listing.id)
    assert item["id"] == listing.id and (item["latitude"], item["longitude"]) == (body["latitude"], body["longitude"])


@pytest.fixture
def stranger_page(client, login):
    def page(listing):
        login(client, make_user())
        return page_of(client.get(f"/listings/{listing.id}"))
    return page


def test_the_listing_page_shows_a_stranger_the_city_only(client, app, stranger_page):
    shown = stranger_page(place())
    assert "Paris" in shown and "Rue Secrète" not in shown and "75004" not in shown
    assert "48.8566" not in shown and "2.3522" not in shown


def test_the_trip_page_shows_the_address_once_confirmed(client, app, login):
    booking = paid_booking(address=ADDRESS, latitude=TRUE_POINT[0], longitude=TRUE_POINT[1])
    login(client, booking.guest)
    shown = page_of(client.get(f"/bookings/{booking.id}"))
    assert "7 Rue Secrète" in shown and "75004" in shown


def test_the_trip_page_of_a_pending_booking_promises_the_address_for_later(client, app, login):
    listing, guest = place(instant_book=False), make_user()
    soon = date.today() + timedelta(days=20)
    pending, _ = bookings.create_booking(guest=guest, listing_id=listing.id, check_in=soon,
                                         check_out=soon + timedelta(days=2), guests=1)
    login(client, guest)
    shown = page_of(client.get(f"/bookings/{pending.id}"))
    assert "Rue Secrète" not in shown and "75004" not in shown and "once the booking is confirmed" in shown
