"""The search keys kept beside the truth: held nights on the listing row, place rows with copied filter columns,
the amenity bitmask, and the count that stops at COUNT_LIMIT. Whichever way a search is answered, it must say
what the listings and their calendars say."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from app import rates, search_cache
from app.blueprints.listings import calendar, holds
from app.blueprints.listings import services as listings
from app.blueprints.search import services as search_services
from app.extensions import db
from app.models import Amenity, PropertyPlace

from .factories import make_listing, make_user
from .test_search_api import search, titles
from .test_search_pages import page

SORTS = ("relevance", "price_asc", "price_desc", "rating", "newest")


def ids(client, query: str) -> list[int]:
    return [item["id"] for item in search(client, query)["items"]]


def test_held_nights_string_marks_each_held_night_from_its_start():
    start = date(2030, 1, 1)
    nights = [start + timedelta(days=2), start + timedelta(days=4), start - timedelta(days=1)]
    assert holds.held_nights_string(nights, start) == "00101"  # nights before the start are left out
    assert holds.held_nights_string([], start) == ""


def test_calendar_changes_rewrite_the_held_nights(app):
    listing = make_listing()
    today = date.today()
    night = today + timedelta(days=3)
    calendar.set_availability(listing, actor=listing.host, ranges=[
        {"start": night.isoformat(), "end": (night + timedelta(days=2)).isoformat(), "available": False}])
    assert (listing.held_from, listing.held_nights) == (today, "00011")
    calendar.set_availability(listing, actor=listing.host, ranges=[
        {"start": (night + timedelta(days=1)).isoformat(), "end": (night + timedelta(days=2)).isoformat(),
         "available": True}])
    assert listing.held_nights == "0001"  # reopening the last held night shortens the string


def test_a_night_held_years_ahead_keeps_that_stay_out_of_search(client, app):
    listing = make_listing(title="Far", max_nights=30)
    night = date.today() + timedelta(days=900)
    calendar.set_availability(listing, actor=listing.host, ranges=[
        {"start": night.isoformat(), "end": (night + timedelta(days=1)).isoformat(), "available": False}])
    assert titles(client, f"check_in={night - timedelta(days=2)}&check_out={night + timedelta(days=1)}") == []
    assert titles(client, f"check_in={night - timedelta(days=2)}&check_out={night}") == ["Far"]
    assert titles(client, f"check_in={night + timedelta(days=1)}&check_out={night + timedelta(days=4)}") == ["Far"]


def test_address_change_moves_the_listing_to_its_new_places(client, app):
    listing = make_listing(title="Mover")
    assert titles(client, "location=amsterdam") == ["Mover"]
    listings.update_listing(listing, actor=listing.host, data={"address": {"city": "Porto", "state": "Norte",
                                                                            "country": "PT"}})
    assert titles(client, "location=amsterdam") == []
    assert titles(client, "location=nl") == []
    assert titles(client, "location=port") == ["Mover"]  # the city, and Portugal by name
    assert titles(client, "location=pt") == ["Mover"]


def test_deleted_listing_leaves_location_search(client, app):
    listing = make_listing(title="Gone")
    listings.delete_listing(listing, actor=listing.host)
    assert titles(client, "location=amsterdam") == []
    assert db.session.query(PropertyPlace).filter_by(property_id=listing.id).count() == 0


def test_rate_change_moves_the_price_filter_of_a_location_search(client, app):
    make_listing(title="Euro place", price_per_night={"amount": 10000, "currency": "EUR"}, cleaning_fee=None)
    assert titles(client, "location=ams&currency=USD&max_price=10000") == []  # 108.70 USD at 0.92
    rates.set_rate("EUR", "1.25")
    assert titles(client, "location=ams&currency=USD&max_price=10000") == ["Euro place"]  # now 80.00 USD


def test_amenities_beyond_the_bitmask_still_filter(client, app):
    db.session.add(Amenity(id=70, code="sauna", name="Sauna"))
    db.session.commit()
    make_listing(title="Sauna and wifi", amenities=["sauna", "wifi"])
    make_listing(title="Wifi only", amenities=["wifi"])
    assert titles(client, "amenities=sauna") == ["Sauna and wifi"]
    assert titles(client, "location=ams&amenities=sauna,wifi") == ["Sauna and wifi"]
    assert sorted(titles(client, "amenities=wifi")) == ["Sauna and wifi", "Wifi only"]


@pytest.fixture
def catalogue(app):
    """Nine listings in two cities with distinct prices, ratings and ranks."""
    host = make_user(role="host")
    made = []
    for n in range(9):
        city, country, lat = (("Lisbon", "PT", 38.72), ("Porto", "PT", 41.15))[n % 2]
        listing = make_listing(host, title=f"Place {n}", address={"city": city, "state": "", "country": country},
                               latitude=lat + n / 1000, longitude=-9.14 + n / 1000,
                               price_per_night={"amount": 5000 + (n * 37) % 9 * 1000, "currency": "EUR"},
                               cleaning_fee=None)
        listing.rating_score, listing.rating_count = (n * 53) % 500, n
        listing.rank_score = (n * 71) % 1000
        listings.index_places(listing)  # what a writer of a copied column does
        made.append(listing)
    db.session.commit()
    return made


@pytest.mark.parametrize("sort", SORTS)
@pytest.mark.parametrize("where", ["", "location=pt", "location=lisbon", "lat=38.72&lng=-9.14&radius_km=50"])
def test_pages_are_the_same_counted_in_full_or_not(client, catalogue, monkeypatch, sort, where):
    query = f"{where}&sort={sort}&per_page=2"
    exact = [ids(client, f"{query}&page={n}") for n in (1, 2, 3)]
    assert search(client, query)["total_exact"] is True
    monkeypatch.setattr(search_services, "COUNT_LIMIT", 2)
    search_cache.bump()  # the cached answers were counted in full
    counted = search(client, query)
    assert (counted["total"], counted["total_exact"], counted["pages"]) == (2, False, 1)
    assert [ids(client, f"{query}&page={n}") for n in (1, 2, 3)] == exact


def test_a_search_past_the_counted_matches_still_answers(client, catalogue, monkeypatch):
    monkeypatch.setattr(search_services, "COUNT_LIMIT", 3)
    body = search(client, "per_page=2&page=5&sort=newest")
    assert (body["total"], body["total_exact"]) == (3, False)
    assert [item["title"] for item in body["items"]] == ["Place 0"]  # the ninth listing, newest first
    assert search(client, "per_page=2&page=6&sort=newest")["items"] == []


def test_results_page_says_when_there_are_more(client, catalogue, monkeypatch):
    assert "9 stays" in page(client, "location=pt")
    monkeypatch.setattr(search_services, "COUNT_LIMIT", 4)
    search_cache.bump()
    assert "4+ stays" in page(client, "location=pt")
