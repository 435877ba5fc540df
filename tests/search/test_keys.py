"""The search keys kept beside the truth: held nights on the listing row, place rows with copied filter columns
and held nights, and the amenity bitmask. Whichever way a search is answered, it must say what the listings and
their calendars say."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from app import rates
from app.blueprints.calendar import holds
from app.blueprints.calendar import services as calendar
from app.blueprints.calendar.ranges import NightRange
from app.blueprints.listings import places
from app.blueprints.listings import services as listings
from app.extensions import db
from app.models import Amenity, ListingPlace

from ..support.factories import make_listing, make_user
from ..support.search import search, titles

SORTS = ("relevance", "price_asc", "price_desc", "rating", "newest")


def ids(client, query: str) -> list[int]:
    return [item["id"] for item in search(client, query)["items"]]


def test_held_nights_string_marks_each_held_night_from_its_start():
    start = date(2030, 1, 1)
    nights = [start + timedelta(days=2), start + timedelta(days=4), start - timedelta(days=1)]
    assert holds.held_nights_string(nights, start) == "00101"  # nights before the start are left out
    assert holds.held_nights_string([], start) == ""


def test_calendar_changes_rewrite_the_held_nights(app):
    listing = make_listing(timezone="UTC")
    now = datetime(2026, 12, 3, 7, 30, tzinfo=UTC)  # 2 December somewhere on Earth (UTC-12) until noon UTC
    start = date(2026, 12, 1)  # the string starts a day before the earliest today: no search's check-in is earlier
    night = date(2026, 12, 6)
    calendar.set_availability(listing, actor=listing.host, now=now, ranges=[
        NightRange(night, night + timedelta(days=2), available=False)])
    assert (listing.held_from, listing.held_nights) == (start, "0000011")
    calendar.set_availability(listing, actor=listing.host, now=now, ranges=[
        NightRange(night + timedelta(days=1), night + timedelta(days=2), available=True)])
    assert listing.held_nights == "000001"  # reopening the last held night shortens the string
    place_rows = db.session.query(ListingPlace).filter_by(listing_id=listing.id).all()
    assert place_rows and {(row.held_from, row.held_nights) for row in place_rows} == {(start, "000001")}


def test_a_night_held_years_ahead_keeps_that_stay_out_of_search(client, app):
    listing = make_listing(title="Far", max_nights=30)
    night = date.today() + timedelta(days=900)
    calendar.set_availability(listing, actor=listing.host, ranges=[
        NightRange(night, night + timedelta(days=1), available=False)])
    assert titles(client, f"check_in={night - timedelta(days=2)}&check_out={night + timedelta(days=1)}") == []
    assert titles(client, f"check_in={night - timedelta(days=2)}&check_out={night}") == ["Far"]
    assert titles(client, f"check_in={night + timedelta(days=1)}&check_out={night + timedelta(days=4)}") == ["Far"]


def test_address_change_moves_the_listing_to_its_new_places(client, app):
    listing = make_listing(title="Mover")
    assert titles(client, "location=amsterdam") == ["Mover"]
    listings.update_listing(listing, actor=listing.host, address={"city": "Porto", "state": "Norte", "country": "PT"})
    assert titles(client, "location=amsterdam") == []
    assert titles(client, "location=nl") == []
    assert titles(client, "location=port") == ["Mover"]  # the city, and Portugal by name
    assert titles(client, "location=pt") == ["Mover"]


def test_deleted_listing_leaves_location_search(client, app):
    listing = make_listing(title="Gone")
    listings.delete_listing(listing, actor=listing.host)
    assert titles(client, "location=amsterdam") == []
    assert db.session.query(ListingPlace).filter_by(listing_id=listing.id).count() == 0


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
    """Nine listings in two cities with distinct prices, ratings and ranks; a night blocked on three of them."""
    host = make_user(role="host")
    made = []
    for n in range(9):
        city, country, lat = (("Lisbon", "PT", 38.72), ("Porto", "PT", 41.15))[n % 2]
        listing = make_listing(host, title=f"Place {n}", address={"city": city, "state": "", "country": country},
                               latitude=lat + n / 1000, longitude=-9.14 + n / 1000,
                               price_per_night={"amount": 5000 + (n * 37) % 9 * 1000, "currency": "EUR"},
                               cleaning_fee=None, min_nights=1)
        listing.rating_score, listing.rating_count = (n * 53) % 500, n
        listing.rank_score = (n * 71) % 1000
        places.write_places(listing, places.place_keys(listing))  # what a writer of a copied column does
        db.session.commit()
        if n % 3 == 0:
            calendar.set_availability(listing, actor=host, ranges=[
                NightRange(BLOCKED, BLOCKED + timedelta(days=1), available=False)])
        made.append(listing)
    return made


BLOCKED = date.today() + timedelta(days=9)
ORDERS = {
    "relevance": lambda listing: (-listing.rank_score, -listing.id),
    "price_asc": lambda listing: (listing.price_usd_micros, listing.id),
    "price_desc": lambda listing: (-listing.price_usd_micros, -listing.id),
    "rating": lambda listing: (-listing.rating_score, -listing.rating_count, -listing.id),
    "newest": lambda listing: -listing.id,
}
WHERE = {
    "": lambda listing: True,
    "location=pt": lambda listing: True,
    "location=lisbon": lambda listing: listing.city == "Lisbon",
    f"location=lis&check_in={BLOCKED - timedelta(days=1)}&check_out={BLOCKED + timedelta(days=1)}":
        lambda listing: listing.city == "Lisbon" and int(listing.title.split()[1]) % 3,
    f"check_in={BLOCKED}&check_out={BLOCKED + timedelta(days=2)}": lambda listing: int(listing.title.split()[1]) % 3,
    "lat=38.72&lng=-9.14&radius_km=50": lambda listing: listing.city == "Lisbon",
}


@pytest.mark.parametrize("sort", sorted(ORDERS))
@pytest.mark.parametrize("where", sorted(WHERE))
def test_every_way_of_answering_gives_the_exact_total_and_order(client, catalogue, sort, where):
    expected = [listing.id for listing in sorted(filter(WHERE[where], catalogue), key=ORDERS[sort])]
    if sort == "relevance" and where.startswith("lat="):  # near a point, relevance is distance: nearest first
        expected = [listing.id for listing in sorted(filter(WHERE[where], catalogue), key=lambda x: x.latitude)]
    query = f"{where}&sort={sort}&per_page=2"
    first = search(client, query)
    assert (first["total"], first["pages"]) == (len(expected), (len(expected) + 1) // 2)
    assert [item_id for n in (1, 2, 3, 4, 5) for item_id in ids(client, f"{query}&page={n}")] == expected
    past = search(client, f"{query}&page=9")
    assert (past["items"], past["total"]) == ([], len(expected))


def test_search_ignores_case_and_accents_of_place_names(client, app):
    place_listing = make_listing(title="Bosphorus view", address={"city": "İstanbul", "state": "Île-de-Test",
                                                                  "country": "TR"})
    for term in ("ist", "istanbul", "İSTANBUL", "ile-de", "Île", "tur", "tr"):
        assert titles(client, f"location={term}") == [place_listing.title], term
