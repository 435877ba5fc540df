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
from ..support.search import haversine_km, search, search_query, titles


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
        "display_price": item["display_price"], "stay_total": None, "rating": {"average": None, "count": 0},
        "thumbnail_url": None,
        "latitude": item["latitude"], "longitude": item["longitude"]}
    assert item["display_price"]["currency"] == "USD"
    assert 0.2 < haversine_km(52.3731, 4.8922, item["latitude"], item["longitude"]) <= 1.0  # about where it is


def test_search_shows_each_listing_at_one_approximate_point_and_measures_the_true_one(client, app):
    listing = make_listing(latitude=48.8566, longitude=2.3522)
    queries = ("", "location=ams", "lat=48.8566&lng=2.3522", "lat=48.8566&lng=2.3522&radius_km=0.1&sort=price_asc")
    found = [item for query in queries for item in search(client, query)["items"]]
    assert len(found) == 4  # a 100 m circle around the true point finds it...
    shown = {(item["latitude"], item["longitude"]) for item in found}
    assert len(shown) == 1  # ...shown at one point, a few hundred metres off
    point = shown.pop()
    assert 0.2 < haversine_km(48.8566, 2.3522, *point) <= 1.0
    body = client.get(f"/api/v1/properties/{listing.id}").get_json()
    assert (body["latitude"], body["longitude"]) == point


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


def test_radius_near_a_pole_keeps_every_listing_inside_the_circle(client, app):
    place("Wide", "Longyearbyen", "NO", latitude=85.0, longitude=52.0)      # 487 km east: the circle widens here
    place("South edge", "Longyearbyen", "NO", latitude=80.505, longitude=0)  # 499.8 km: R = 6371 km, not 111.32/deg
    place("Beyond", "Longyearbyen", "NO", latitude=85.0, longitude=56.0)    # 526 km
    assert titles(client, "lat=85&lng=0&radius_km=500") == ["Wide", "South edge"]
    place("Over the pole", "Longyearbyen", "NO", latitude=88.0, longitude=180.0)  # 778 km, the other side
    assert titles(client, "lat=85&lng=0&radius_km=800&sort=newest") == ["Over the pole", "Beyond", "South edge",
                                                                         "Wide"]


def test_radius_across_the_antimeridian_wraps_round(client, app):
    place("East of the line", "Suva", "FJ", latitude=-17.0, longitude=179.95)
    place("West of the line", "Suva", "FJ", latitude=-17.0, longitude=-179.95)  # 10.6 km from the point
    place("Far west", "Suva", "FJ", latitude=-17.0, longitude=-179.0)           # 117 km
    assert titles(client, "lat=-17&lng=179.95&radius_km=20") == ["East of the line", "West of the line"]
    assert titles(client, "lat=-17&lng=-179.95&radius_km=20") == ["West of the line", "East of the line"]


def test_radius_reaches_the_whole_earth_and_no_further(client, app):
    place("Near the antipode", "Auckland", "NZ", latitude=-40.0, longitude=174.0)  # 19,904 km away
    assert titles(client, "lat=41&lng=-6&radius_km=20000") == ["Near the antipode"]
    assert search(client, "lat=41&lng=-6&radius_km=20000.5", status=422)["error"]["fields"] == {
        "radius_km": ["must be between 0.1 and 20000"]}
    schema = client.get("/api/openapi.json").get_json()
    radius = next(p for p in schema["paths"]["/api/v1/search"]["get"]["parameters"] if p["name"] == "radius_km")
    assert (radius["schema"]["minimum"], radius["schema"]["maximum"]) == (0.1, 20000)


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


def test_dated_search_prices_the_stay_by_its_average_nightly_price(client, app, auth_headers):
    start = date.today() + timedelta(days=20)
    dates = f"check_in={start}&check_out={start + timedelta(days=3)}&currency=EUR"
    peak = make_listing(title="Peak", price_per_night={"amount": 10000, "currency": "EUR"}, min_nights=1)
    make_listing(title="Steady", price_per_night={"amount": 12000, "currency": "EUR"}, min_nights=1)
    response = client.put(f"/api/v1/properties/{peak.id}/availability", headers=auth_headers(peak.host), json={
        "ranges": [{"start": start.isoformat(), "end": (start + timedelta(days=1)).isoformat(),
                    "price": {"amount": 15001, "currency": "EUR"}}]})
    assert response.status_code == 200
    shown = {i["title"]: (i["display_price"]["amount"], i["price_per_night"]["amount"])
             for i in search(client, dates)["items"]}
    assert shown == {"Peak": (11667, 10000), "Steady": (12000, 12000)}  # (150.01 + 2 x 100) / 3 = 116.67
    assert titles(client, f"{dates}&sort=price_asc") == ["Peak", "Steady"]
    assert titles(client, f"{dates}&max_price=11667") == ["Peak"]
    assert titles(client, f"{dates}&max_price=11666") == []
    assert titles(client, f"{dates}&min_price=11668&sort=price_desc") == ["Steady"]
    assert titles(client, "currency=EUR&max_price=10000") == ["Peak"]  # without dates: the nightly price
    assert titles(client, f"location=amsterdam&{dates}&max_price=11667") == ["Peak"]  # through the place rows too
    # A per-night price change shows on the next search: the cached answer is stale at once.
    client.put(f"/api/v1/properties/{peak.id}/availability", headers=auth_headers(peak.host), json={
        "ranges": [{"start": start.isoformat(), "end": (start + timedelta(days=3)).isoformat(),
                    "price": {"amount": 13000, "currency": "EUR"}}]})
    assert titles(client, f"{dates}&sort=price_asc") == ["Steady", "Peak"]
    assert search(client, f"{dates}&sort=price_asc")["items"][1]["display_price"]["amount"] == 13000


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
