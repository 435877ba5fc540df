"""Search over the JSON API: every filter, sorting, pagination, currencies, bad input and the cache."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from app import rates
from app.blueprints.calendar import services as calendar
from app.blueprints.calendar.ranges import NightRange
from app.extensions import db
from app.models import Listing

from ..support.factories import make_listing, make_user
from ..support.search import search, search_query, titles


def place(title: str, city: str, country: str, state: str = "", **overrides):
    return make_listing(title=title, address={"city": city, "state": state, "country": country}, **overrides)


def test_search_item_has_contract_shape(client, app):
    listing = make_listing()
    body = search(client)
    assert (body["total"], body["page"], body["per_page"], body["pages"]) == (1, 1, 20, 1)
    item = body["items"][0]
    assert item == {
        "id": listing.id, "title": "Sunny loft by the canal", "city": "Amsterdam", "country": "NL",
        "property_type": "apartment", "max_guests": 4, "price_per_night": {"amount": 12500, "currency": "EUR"},
        "display_price": item["display_price"], "rating": {"average": None, "count": 0}, "thumbnail_url": None,
        "latitude": 52.3731, "longitude": 4.8922}
    assert item["display_price"]["currency"] == "USD"


@pytest.mark.parametrize("term", ["par", "PARIS", "île", "Fra", "fr", "FR"])
def test_location_prefix_matches_city_state_country_any_case(client, app, term):
    place("Paris flat", "Paris", "FR", state="Île-de-France", latitude=48.85, longitude=2.35)
    place("Lisbon flat", "Lisbon", "PT", latitude=38.7, longitude=-9.1)
    assert titles(client, f"location={term}") == ["Paris flat"]


def test_location_does_not_match_the_middle_of_a_name(client, app):
    place("Paris flat", "Paris", "FR", latitude=48.85, longitude=2.35)
    assert titles(client, "location=aris") == []


def test_radius_keeps_listings_inside_the_circle_only(client, app):
    place("Centre", "Paris", "FR", latitude=48.8566, longitude=2.3522)
    place("Near", "Paris", "FR", latitude=48.8800, longitude=2.3522)      # ~2.6 km north
    place("Corner", "Paris", "FR", latitude=48.9200, longitude=2.4480)    # in the 10 km box, ~9.8 km... outside
    place("Far", "Versailles", "FR", latitude=48.8049, longitude=2.1204)  # ~17 km
    found = titles(client, "lat=48.8566&lng=2.3522&radius_km=5")
    assert found == ["Centre", "Near"]  # relevance with coordinates: nearest first
    assert "Far" not in titles(client, "lat=48.8566&lng=2.3522&radius_km=10")


def test_dates_exclude_listings_with_a_held_night(client, app):
    free, busy = make_listing(title="Free one"), make_listing(title="Busy one")
    start = date.today() + timedelta(days=10)
    calendar.set_availability(busy, actor=busy.host, ranges=[
        NightRange(start + timedelta(days=1), start + timedelta(days=2), available=False)])
    query = f"check_in={start}&check_out={start + timedelta(days=3)}"
    assert titles(client, query) == ["Free one"]
    # Adjacent stay: the blocked night is the check-out day of this one, so it is free.
    query = f"check_in={start - timedelta(days=2)}&check_out={start + timedelta(days=1)}"
    assert sorted(titles(client, query)) == ["Busy one", "Free one"]
    assert free


def test_dates_respect_min_and_max_nights(client, app):
    make_listing(title="Long stays", min_nights=5, max_nights=30)
    start = date.today() + timedelta(days=3)
    assert titles(client, f"check_in={start}&check_out={start + timedelta(days=2)}") == []
    assert titles(client, f"check_in={start}&check_out={start + timedelta(days=5)}") == ["Long stays"]
    assert titles(client, f"check_in={start}&check_out={start + timedelta(days=31)}") == []


def test_guests_type_instant_book_and_amenities_filters(client, app):
    make_listing(title="Big house", property_type="house", max_guests=8, instant_book=False,
                 amenities=["wifi", "pool", "kitchen"])
    make_listing(title="Small flat", property_type="apartment", max_guests=2, instant_book=True, amenities=["wifi"])
    assert titles(client, "guests=5") == ["Big house"]
    assert titles(client, "property_type=apartment") == ["Small flat"]
    assert titles(client, "instant_book=true") == ["Small flat"]
    assert titles(client, "instant_book=false") == ["Big house"]
    assert titles(client, "amenities=wifi,pool") == ["Big house"]
    assert sorted(titles(client, "amenities=wifi")) == ["Big house", "Small flat"]


def test_price_filter_and_display_price_in_requested_currency(client, app):
    rates.set_rate("EUR", "0.9")
    make_listing(title="Euro place", price_per_night={"amount": 10000, "currency": "EUR"}, cleaning_fee=None)
    make_listing(title="Dollar place", price_per_night={"amount": 10000, "currency": "USD"}, cleaning_fee=None)
    body = search(client, "currency=USD&sort=price_asc")
    shown = {item["title"]: item["display_price"] for item in body["items"]}
    assert shown == {"Dollar place": {"amount": 10000, "currency": "USD"},
                     "Euro place": {"amount": 11111, "currency": "USD"}}  # 100 EUR / 0.9, half-even
    assert titles(client, "currency=USD&min_price=11111") == ["Euro place"]
    assert titles(client, "currency=USD&min_price=11112") == []
    assert titles(client, "currency=USD&max_price=11110") == ["Dollar place"]
    assert titles(client, "currency=EUR&max_price=9000") == ["Dollar place"]  # 100 USD shows as 90.00 EUR
    euro = search(client, "currency=EUR&location=ams&min_price=10000&max_price=10000")["items"]
    assert [i["display_price"] for i in euro] == [{"amount": 10000, "currency": "EUR"}]


def test_jpy_has_no_minor_unit_in_display(client, app):
    make_listing(title="Dollar place", price_per_night={"amount": 10000, "currency": "USD"}, cleaning_fee=None)
    item = search(client, "currency=JPY")["items"][0]
    assert item["display_price"] == {"amount": 15000, "currency": "JPY"}  # 100 USD x 150


def test_rate_change_moves_price_filter_at_once(client, app):
    make_listing(title="Euro place", price_per_night={"amount": 10000, "currency": "EUR"}, cleaning_fee=None)
    assert titles(client, "currency=USD&max_price=10000") == []  # 100 EUR at 0.92 = 108.70 USD
    rates.set_rate("EUR", "1.25")
    assert titles(client, "currency=USD&max_price=10000") == ["Euro place"]  # now 80.00 USD


def test_sorting(client, app):
    cheap = make_listing(title="Cheap", price_per_night={"amount": 5000, "currency": "USD"}, cleaning_fee=None)
    dear = make_listing(title="Dear", price_per_night={"amount": 50000, "currency": "USD"}, cleaning_fee=None)
    mid = make_listing(title="Mid", price_per_night={"amount": 9000, "currency": "EUR"}, cleaning_fee=None)
    assert titles(client, "sort=price_asc") == ["Cheap", "Mid", "Dear"]
    assert titles(client, "sort=price_desc") == ["Dear", "Mid", "Cheap"]
    assert titles(client, "sort=newest") == ["Mid", "Dear", "Cheap"]
    for listing, score, count in ((cheap, 480, 10), (dear, 350, 4), (mid, 480, 25)):
        listing.rating_score, listing.rating_count, listing.rating_sum = score, count, score * count // 100
    db.session.commit()
    from app import search_cache

    search_cache.bump()
    assert titles(client, "sort=rating") == ["Mid", "Cheap", "Dear"]


def test_pagination_and_per_page_cap(client, app):
    host = make_user(role="host")
    for n in range(5):
        make_listing(host, title=f"Place {n}")
    body = search(client, "per_page=2&page=3&sort=newest")
    assert (body["total"], body["pages"], body["page"]) == (5, 3, 3)
    assert [i["title"] for i in body["items"]] == ["Place 0"]
    assert search(client, "per_page=1000")["per_page"] == 100
    assert search(client, "page=99")["items"] == []


def test_deleted_listing_disappears_from_search(client, app, auth_headers):
    listing = make_listing(title="Soon gone")
    assert titles(client) == ["Soon gone"]
    client.delete(f"/api/v1/properties/{listing.id}", headers=auth_headers(listing.host))
    assert titles(client) == []


@pytest.mark.parametrize("query, status", [
    ("lat=abc&lng=2", 400), ("guests=many", 400), ("min_price=1.5", 400), ("page=abc", 400),
    ("check_in=2030-02-30&check_out=2030-03-02", 400), ("instant_book=maybe", 400), ("lat=nan&lng=1", 400),
    ("check_in=2030-03-05&check_out=2030-03-01", 422), ("check_in=2030-03-05", 422),
    ("check_in=2001-01-01&check_out=2001-01-03", 422), ("radius_km=5", 422), ("lat=91&lng=0", 422),
    ("lat=10", 422), ("sort=cheapest", 422), ("currency=XYZ", 422), ("amenities=wifi,helipad", 422),
    ("property_type=castle", 422), ("min_price=500&max_price=100", 422), ("page=0", 422),
    ("page=999999999", 422), ("min_price=-5", 422), ("location=" + "x" * 10_000, 422), ("guests=0", 422),
])
def test_bad_parameters_are_4xx_with_error_body(client, app, query, status):
    body = search(client, query, status=status)
    assert body["error"]["code"] in ("bad_request", "validation_error") and body["error"]["message"]


@pytest.mark.parametrize("query, status, fields", [
    ("lat=abc&lng=2", 400, ["lat"]), ("min_price=1.5", 400, ["min_price"]), ("lat=inf&lng=1", 400, ["lat"]),
    ("check_in=2030-02-30&check_out=2030-03-02", 400, ["check_in"]), ("check_in=2030-03-05", 422, ["check_out"]),
    ("check_in=2030-03-05&check_out=2030-03-01", 422, ["check_out"]), ("radius_km=5", 422, ["radius_km"]),
    ("lat=10", 422, ["lng"]), ("min_price=500&max_price=100", 422, ["max_price"]), ("page=0", 422, ["page"]),
    ("guests=101", 422, ["guests"]), ("currency=%20", 422, ["currency"]), ("sort=%20", 422, ["sort"]),
    ("guests=0&lat=abc&lng=1", 400, ["guests", "lat"]),  # every value at fault; one that cannot be parsed: 400
])
def test_a_bad_parameter_is_named_in_fields(client, app, query, status, fields):
    body = search(client, query, status=status)
    assert sorted(body["error"]["fields"]) == fields


def test_equal_searches_spelled_differently_share_one_cache_key(app):
    spellings = [{"currency": " usd ", "amenities": "wifi,pool,wifi", "guests": " 2", "lat": "10", "lng": "1"},
                 {"currency": "USD", "amenities": "pool,wifi", "guests": "2", "lat": "10.0", "lng": "1",
                  "radius_km": "25", "sort": "relevance", "page": "1", "per_page": "20", "location": "  "}]
    assert len({search_query(args).cache_key() for args in spellings}) == 1


def test_results_are_cached_until_a_write_bumps_the_version(client, app, auth_headers):
    listing = make_listing(title="Original title")
    assert titles(client) == ["Original title"]
    # A change behind the services' back is not seen: the answer comes from the cache...
    db.session.execute(db.update(Listing).where(Listing.id == listing.id).values(title="Sneaky title"))
    db.session.commit()
    assert titles(client) == ["Original title"]
    # ...while any write through the services is visible on the very next search.
    client.patch(f"/api/v1/properties/{listing.id}", headers=auth_headers(listing.host), json={"title": "New title"})
    assert titles(client) == ["New title"]


def test_calendar_write_is_visible_on_next_search(client, app, auth_headers):
    listing = make_listing(title="Calendar place")
    start = date.today() + timedelta(days=20)
    query = f"check_in={start}&check_out={start + timedelta(days=2)}"
    assert titles(client, query) == ["Calendar place"]
    client.put(f"/api/v1/properties/{listing.id}/availability", headers=auth_headers(listing.host),
               json={"ranges": [{"start": start.isoformat(), "end": (start + timedelta(days=1)).isoformat(),
                                 "available": False}]})
    assert titles(client, query) == []


def test_rates_commands_set_and_show(app, client):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["rates", "set", "EUR", "0.9"])
    assert result.exit_code == 0 and "1 USD = 0.9 EUR" in result.output
    assert "EUR  0.9" in runner.invoke(args=["rates", "show"]).output
    make_listing(title="Dollar place", price_per_night={"amount": 10000, "currency": "USD"}, cleaning_fee=None)
    assert search(client, "currency=EUR")["items"][0]["display_price"] == {"amount": 9000, "currency": "EUR"}
    for bad in (["rates", "set", "XYZ", "1"], ["rates", "set", "EUR", "-1"], ["rates", "set", "EUR", "abc"]):
        assert runner.invoke(args=bad).exit_code != 0
