"""Listings over the JSON API: create, read, update, soft delete, permissions and validation."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest

from app.blueprints.bookings.state import check_out_at
from app.extensions import db
from app.models import Listing

from ..support.factories import booking_holding, listing_data, make_listing, make_user
from ..support.stays import paid_booking


def run_due(app, now: datetime) -> None:
    """`flask jobs run-due --now NOW`, as the scheduler runs it (NOW naive UTC)."""
    result = app.test_cli_runner().invoke(args=["jobs", "run-due", "--now", now.isoformat() + "Z"])
    assert result.exit_code == 0, result.output


def post_listing(client, headers, **overrides):
    return client.post("/api/v1/properties", headers=headers, json=listing_data(**overrides))


def test_create_listing_as_host_returns_listing(client, app, auth_headers):
    host = make_user(role="host", name="Hana")
    response = post_listing(client, auth_headers(host))
    assert response.status_code == 201
    body = response.get_json()
    assert body["title"] == "Sunny loft by the canal" and body["host_id"] == host.id
    assert body["price_per_night"] == {"amount": 12500, "currency": "EUR"}
    assert body["cleaning_fee"] == {"amount": 3000, "currency": "EUR"}
    assert body["address"]["country"] == "NL" and body["timezone"] == "Europe/Amsterdam"
    assert sorted(body["amenities"]) == ["kitchen", "wifi"]
    assert body["images"] == [] and body["rating"] == {
        "average": None, "count": 0, "sub_ratings": {name: None for name in ("cleanliness", "accuracy", "communication",
                                                                         "location", "check_in", "value")}}
    assert body["host"] == {"id": host.id, "name": "Hana", "avatar_url": None, "created_at": body["host"]["created_at"]}
    assert "email" not in body["host"]


def test_create_listing_defaults_apply(client, app, auth_headers):
    body = {k: v for k, v in listing_data().items() if k not in {"min_nights", "max_nights", "timezone",
                                                                 "cleaning_fee", "amenities"}}
    response = client.post("/api/v1/properties", headers=auth_headers(make_user(role="host")), json=body)
    created = response.get_json()
    assert (created["min_nights"], created["max_nights"], created["timezone"]) == (1, 365, "UTC")
    assert created["cleaning_fee"] == {"amount": 0, "currency": "EUR"}


def test_create_listing_as_admin_is_allowed(client, app, auth_headers):
    assert post_listing(client, auth_headers(make_user(role="admin"))).status_code == 201


def test_create_listing_as_guest_is_403_and_anonymous_401(client, app, auth_headers):
    response = post_listing(client, auth_headers(make_user(role="guest")))
    assert response.status_code == 403 and response.get_json()["error"]["code"] == "forbidden"
    assert post_listing(client, {}).status_code == 401
    assert Listing.query.count() == 0


@pytest.mark.parametrize("overrides, field", [
    ({"title": "ab"}, "title"),
    ({"title": "x" * 121}, "title"),
    ({"title": "x" * 10_000}, "title"),
    ({"price_per_night": {"amount": -100, "currency": "EUR"}}, "price_per_night.amount"),
    ({"price_per_night": {"amount": 125.5, "currency": "EUR"}}, "price_per_night.amount"),
    ({"price_per_night": {"amount": "12500", "currency": "EUR"}}, "price_per_night.amount"),
    ({"price_per_night": {"amount": 12500, "currency": "XYZ"}}, "price_per_night.currency"),
    ({"price_per_night": 125}, "price_per_night"),
    ({"cleaning_fee": {"amount": 100, "currency": "USD"}}, "cleaning_fee.currency"),
    ({"amenities": ["wifi", "helipad"]}, "amenities"),
    ({"amenities": "wifi"}, "amenities"),
    ({"min_nights": 10, "max_nights": 5}, "min_nights"),
    ({"latitude": 91}, "latitude"),
    ({"longitude": -181}, "longitude"),
    ({"latitude": None}, "latitude"),
    ({"address": {"city": "Paris", "country": "XX"}}, "address.country"),
    ({"address": {"country": "FR"}}, "address.city"),
    ({"property_type": "castle"}, "property_type"),
    ({"cancellation_policy": "never"}, "cancellation_policy"),
    ({"instant_book": "yes"}, "instant_book"),
    ({"timezone": "Mars/Olympus"}, "timezone"),
    ({"max_guests": 0}, "max_guests"),
    ({"max_guests": True}, "max_guests"),
])
def test_create_listing_invalid_field_is_422_naming_it(client, app, auth_headers, overrides, field):
    response = post_listing(client, auth_headers(make_user(role="host")), **overrides)
    assert response.status_code == 422, response.get_json()
    error = response.get_json()["error"]
    assert error["code"] == "validation_error" and field in error["fields"]


def test_create_listing_missing_fields_are_422(client, app, auth_headers):
    response = client.post("/api/v1/properties", headers=auth_headers(make_user(role="host")), json={})
    fields = response.get_json()["error"]["fields"]
    assert response.status_code == 422
    assert {"title", "property_type", "address", "price_per_night", "max_guests"} <= set(fields)


def test_create_listing_jpy_has_no_minor_unit(client, app, auth_headers):
    response = post_listing(client, auth_headers(make_user(role="host")),
                            price_per_night={"amount": 15000, "currency": "JPY"}, cleaning_fee=None)
    assert response.status_code == 201
    assert response.get_json()["price_per_night"] == {"amount": 15000, "currency": "JPY"}


def test_get_listing_anyone_can_read(client, app):
    listing = make_listing()
    response = client.get(f"/api/v1/properties/{listing.id}")
    assert response.status_code == 200 and response.get_json()["id"] == listing.id


def test_get_listing_unknown_is_404(client):
    assert client.get("/api/v1/properties/999999").status_code == 404


def test_update_listing_by_owner_changes_only_sent_fields(client, app, auth_headers):
    listing = make_listing()
    response = client.patch(f"/api/v1/properties/{listing.id}", headers=auth_headers(listing.host),
                            json={"title": "Quiet loft", "address": {"city": "Utrecht"}, "amenities": ["pool"]})
    assert response.status_code == 200
    body = response.get_json()
    assert body["title"] == "Quiet loft" and body["address"]["city"] == "Utrecht"
    assert body["address"]["country"] == "NL" and body["amenities"] == ["pool"]
    assert body["price_per_night"] == {"amount": 12500, "currency": "EUR"}


def test_update_listing_changing_currency_moves_cleaning_fee(client, app, auth_headers):
    listing = make_listing()
    response = client.patch(f"/api/v1/properties/{listing.id}", headers=auth_headers(listing.host),
                            json={"price_per_night": {"amount": 14000, "currency": "USD"}})
    assert response.get_json()["cleaning_fee"] == {"amount": 3000, "currency": "USD"}


def test_update_listing_invalid_combination_is_422_and_changes_nothing(client, app, auth_headers):
    listing = make_listing(min_nights=2, max_nights=30)
    response = client.patch(f"/api/v1/properties/{listing.id}", headers=auth_headers(listing.host),
                            json={"title": "Renamed", "min_nights": 40})
    assert response.status_code == 422 and "min_nights" in response.get_json()["error"]["fields"]
    db.session.expire_all()
    assert client.get(f"/api/v1/properties/{listing.id}").get_json()["title"] == "Sunny loft by the canal"


@pytest.mark.parametrize("role, status", [("guest", 403), ("host", 403), ("admin", 200)])
def test_update_listing_permission_matrix(client, app, auth_headers, role, status):
    listing = make_listing()
    response = client.patch(f"/api/v1/properties/{listing.id}", headers=auth_headers(make_user(role=role)),
                            json={"title": "Taken over"})
    assert response.status_code == status


def test_update_listing_anonymous_is_401(client, app):
    listing = make_listing()
    assert client.patch(f"/api/v1/properties/{listing.id}", json={"title": "x" * 5}).status_code == 401


def test_delete_listing_is_soft(client, app, auth_headers):
    listing = make_listing()
    assert client.delete(f"/api/v1/properties/{listing.id}", headers=auth_headers(listing.host)).status_code == 204
    assert client.get(f"/api/v1/properties/{listing.id}").status_code == 404
    row = db.session.get(Listing, listing.id)
    assert row is not None and row.status == "deleted" and row.deleted_at is not None
    assert client.delete(f"/api/v1/properties/{listing.id}", headers=auth_headers(listing.host)).status_code == 404


@pytest.mark.parametrize("role, status", [("guest", 403), ("host", 403), ("admin", 204)])
def test_delete_listing_permission_matrix(client, app, auth_headers, role, status):
    listing = make_listing()
    response = client.delete(f"/api/v1/properties/{listing.id}", headers=auth_headers(make_user(role=role)))
    assert response.status_code == status


def test_delete_listing_with_upcoming_booked_night_is_409(client, app, auth_headers):
    from datetime import date, timedelta

    listing = make_listing()
    booking_holding(listing, date.today() + timedelta(days=3))
    response = client.delete(f"/api/v1/properties/{listing.id}", headers=auth_headers(listing.host))
    assert response.status_code == 409 and response.get_json()["error"]["code"] == "has_active_bookings"


def test_delete_listing_whose_future_stay_was_completed_early_is_204(client, app, auth_headers):
    booking = paid_booking()  # its nights are still ahead when the scheduler runs with a later --now
    run_due(app, check_out_at(booking) + timedelta(hours=1))
    db.session.refresh(booking)
    assert booking.status == "completed" and booking.check_in > date.today()
    response = client.delete(f"/api/v1/properties/{booking.listing_id}", headers=auth_headers(booking.listing.host))
    assert response.status_code == 204 and client.get(f"/api/v1/properties/{booking.listing_id}").status_code == 404


def test_host_listings_lists_only_own_active_listings(client, app, auth_headers):
    host = make_user(role="host")
    mine = [make_listing(host, title=f"Place number {n}") for n in range(3)]
    make_listing()  # someone else's
    client.delete(f"/api/v1/properties/{mine[0].id}", headers=auth_headers(host))
    response = client.get("/api/v1/host/properties?per_page=1", headers=auth_headers(host))
    body = response.get_json()
    assert response.status_code == 200
    assert (body["total"], body["pages"], body["per_page"], body["page"]) == (2, 2, 1, 1)
    assert body["items"][0]["title"] == "Place number 2"


def test_host_listings_guest_is_403_and_bad_page_is_400(client, app, auth_headers):
    assert client.get("/api/v1/host/properties", headers=auth_headers(make_user())).status_code == 403
    host_headers = auth_headers(make_user(role="host"))
    assert client.get("/api/v1/host/properties?page=abc", headers=host_headers).status_code == 400
    assert client.get("/api/v1/host/properties?per_page=1000", headers=host_headers).get_json()["per_page"] == 100
