"""The nightly calendar: reading availability and prices, blocking, reopening and pricing nights."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from app import clock
from app.models import NightHold, NightPrice

from ..support.factories import booking_holding, make_listing, make_user

TODAY = date.today()


def day(n: int) -> str:
    return (TODAY + timedelta(days=n)).isoformat()


def put(client, listing, headers, ranges):
    return client.put(f"/api/v1/properties/{listing.id}/availability", headers=headers, json={"ranges": ranges})


def read(client, listing, start: int, end: int) -> list[dict]:
    response = client.get(f"/api/v1/properties/{listing.id}/availability?from={day(start)}&to={day(end)}")
    assert response.status_code == 200, response.get_json()
    return response.get_json()["days"]


def test_availability_defaults_to_free_at_base_price(client, app):
    listing = make_listing()
    days = read(client, listing, 1, 4)
    assert [d["date"] for d in days] == [day(1), day(2), day(3)]
    assert all(d["available"] and d["price"] == {"amount": 12500, "currency": "EUR"} for d in days)


def test_block_and_reopen_nights(client, app, auth_headers):
    listing = make_listing()
    headers = auth_headers(listing.host)
    assert put(client, listing, headers, [{"start": day(2), "end": day(5), "available": False}]).status_code == 200
    assert [d["available"] for d in read(client, listing, 1, 6)] == [True, False, False, False, True]
    assert put(client, listing, headers, [{"start": day(3), "end": day(4), "available": True}]).status_code == 200
    assert [d["available"] for d in read(client, listing, 1, 6)] == [True, False, True, False, True]


def test_blocking_twice_is_idempotent(client, app, auth_headers):
    listing = make_listing()
    headers = auth_headers(listing.host)
    for _ in range(2):
        assert put(client, listing, headers, [{"start": day(1), "end": day(3), "available": False}]).status_code == 200
    assert NightHold.query.filter_by(listing_id=listing.id).count() == 2


def test_set_and_reset_custom_prices(client, app, auth_headers):
    listing = make_listing()
    headers = auth_headers(listing.host)
    weekend = {"start": day(5), "end": day(7), "price": {"amount": 20000, "currency": "EUR"}}
    response = put(client, listing, headers, [weekend])
    assert response.status_code == 200
    assert [d["price"]["amount"] for d in response.get_json()["days"]] == [20000, 20000]
    assert [d["price"]["amount"] for d in read(client, listing, 4, 8)] == [12500, 20000, 20000, 12500]
    put(client, listing, headers, [{"start": day(6), "end": day(7), "price": None}])
    assert [d["price"]["amount"] for d in read(client, listing, 5, 7)] == [20000, 12500]


def test_price_in_other_currency_or_negative_is_422(client, app, auth_headers):
    listing = make_listing()
    headers = auth_headers(listing.host)
    for price in ({"amount": 100, "currency": "USD"}, {"amount": -5, "currency": "EUR"},
                  {"amount": 1.5, "currency": "EUR"}):
        response = put(client, listing, headers, [{"start": day(1), "end": day(2), "price": price}])
        assert response.status_code == 422, price
    assert NightPrice.query.count() == 0


def test_blocking_booked_night_is_409_and_changes_nothing(client, app, auth_headers):
    listing = make_listing()
    booking_holding(listing, TODAY + timedelta(days=4))
    ranges = [{"start": day(1), "end": day(3), "available": False},
              {"start": day(3), "end": day(6), "available": False}]
    response = put(client, listing, auth_headers(listing.host), ranges)
    assert response.status_code == 409 and response.get_json()["error"]["code"] == "dates_unavailable"
    assert NightHold.query.filter_by(listing_id=listing.id).count() == 1  # the first range was rolled back too


def test_reopening_does_not_free_booked_nights(client, app, auth_headers):
    listing = make_listing()
    booking_holding(listing, TODAY + timedelta(days=2))
    put(client, listing, auth_headers(listing.host), [{"start": day(1), "end": day(4), "available": True}])
    assert [d["available"] for d in read(client, listing, 1, 4)] == [True, False, True]


@pytest.mark.parametrize("ranges", [
    [{"start": day(5), "end": day(5), "available": False}],
    [{"start": day(5), "end": day(2), "available": False}],
    [{"start": day(-3), "end": day(2), "available": False}],
    [{"start": "tomorrow", "end": day(2), "available": False}],
    [{"start": day(1), "end": day(400), "available": False}],
    [{"start": day(1), "end": day(2)}],
    [{"start": day(1), "end": day(2), "available": "no"}],
    ["not an object"],
    [],
    "all of them",
])
def test_invalid_ranges_are_422(client, app, auth_headers, ranges):
    listing = make_listing()
    assert put(client, listing, auth_headers(listing.host), ranges).status_code == 422


def _range(**change) -> dict:
    return {"start": day(1), "end": day(2), "available": False, **change}


@pytest.mark.parametrize("ranges, field", [
    ("all of them", "ranges"),
    (None, "ranges"),
    ([], "ranges"),
    ([_range()] * 101, "ranges"),
    (["not an object"], "ranges.0"),
    ([_range(start="tomorrow")], "ranges.0"),
    ([{"start": day(1), "available": False}], "ranges.0"),
    ([_range(start=(TODAY + timedelta(days=1)).strftime("%Y%m%d"))], "ranges.0"),  # YYYY-MM-DD only
    ([_range(end=day(1))], "ranges.0.end"),
    ([_range(start=day(-1))], "ranges.0.start"),
    ([_range(available="no")], "ranges.0.available"),
    ([_range(available=None)], "ranges.0.available"),
    ([{"start": day(1), "end": day(2)}], "ranges.0"),
    ([_range(price="cheap")], "ranges.0.price"),
    ([_range(price={"amount": 100})], "ranges.0.price"),
    ([_range(price={"amount": 100, "currency": 5})], "ranges.0.price"),
    ([_range(price={"amount": 100, "currency": "USD"})], "ranges.0.price"),
    ([_range(price={"currency": "EUR"})], "ranges.0.price.amount"),
    ([_range(price={"amount": 1.5, "currency": "EUR"})], "ranges.0.price.amount"),
    ([_range(price={"amount": 0, "currency": "EUR"})], "ranges.0.price.amount"),
    ([_range(), _range(start=day(3), end=day(2))], "ranges.1.end"),
])
def test_a_fault_in_the_ranges_is_422_naming_it(client, app, auth_headers, ranges, field):
    listing = make_listing()  # EUR
    body = {"ranges": ranges} if ranges is not None else {}
    response = client.put(f"/api/v1/properties/{listing.id}/availability", headers=auth_headers(listing.host),
                          json=body)
    assert response.status_code == 422, response.get_json()
    assert list(response.get_json()["error"]["fields"]) == [field]
    assert NightHold.query.count() == 0


def test_a_stranger_is_refused_before_the_ranges_are_read(client, app, auth_headers):
    listing = make_listing()
    assert put(client, listing, auth_headers(make_user()), "all of them").status_code == 403


@pytest.mark.parametrize("role, status", [("guest", 403), ("host", 403), ("admin", 200)])
def test_calendar_write_permission_matrix(client, app, auth_headers, role, status):
    listing = make_listing()
    response = put(client, listing, auth_headers(make_user(role=role)),
                   [{"start": day(1), "end": day(2), "available": False}])
    assert response.status_code == status


def test_calendar_write_anonymous_is_401(client, app):
    listing = make_listing()
    assert put(client, listing, {}, [{"start": day(1), "end": day(2), "available": False}]).status_code == 401


@pytest.mark.parametrize("query, status", [("from=2026-13-01&to=2027-01-01", 400), ("from=abc", 400),
                                           (f"from={day(5)}&to={day(1)}", 422),
                                           (f"from={day(1)}&to={day(500)}", 422),
                                           ("from=9999-12-20", 422), ("from=9999-12-31", 422),
                                           ("from=9999-12-30&to=9999-12-31", 422), ("from=0001-01-01", 422),
                                           ("to=0001-01-01", 422), ("from=0001-01-01&to=0001-01-02", 422)])
def test_availability_bad_query_is_4xx(client, app, query, status):
    listing = make_listing()
    assert client.get(f"/api/v1/properties/{listing.id}/availability?{query}").status_code == status


def test_past_nights_are_not_available(client, app):
    listing = make_listing(timezone="UTC")  # the listing's today is the UTC date (see test_listing_today.py)
    local = clock.listing_today(listing)
    days = read(client, listing, (local - TODAY).days - 2, (local - TODAY).days + 1)
    assert [d["available"] for d in days] == [False, False, True]


def test_deleted_listing_calendar_is_404(client, app, auth_headers):
    listing = make_listing()
    client.delete(f"/api/v1/properties/{listing.id}", headers=auth_headers(listing.host))
    assert client.get(f"/api/v1/properties/{listing.id}/availability").status_code == 404
