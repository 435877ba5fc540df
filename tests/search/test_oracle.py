"""Search against an independent oracle: random queries over a seeded catalogue, each answered again in plain
Python from the raw tables (listings, listing_amenities, night_holds, night_prices, exchange_rates) by the rules of
docs/api.md, and the API must answer exactly the same page: the same listings in the same order, the same
display prices, total and pages.

The catalogue crowds the places where a shortcut breaks: near both poles, on both sides of the antimeridian, with
per-night prices and held nights inside the searched stays, in four currencies.
"""

from __future__ import annotations

import random
from datetime import date, timedelta
from fractions import Fraction
from urllib.parse import urlencode

import pytest
from sqlalchemy import text

from app.blueprints.bookings import services as bookings
from app.blueprints.calendar import services as calendar
from app.blueprints.calendar.ranges import NightRange
from app.blueprints.listings import services as listings
from app.extensions import db
from app.models.money import DEFAULT_RATES

from ..support.factories import make_listing, make_user
from ..support.search import haversine_km

QUERIES = 300
DIGITS = {"USD": 2, "EUR": 2, "GBP": 2, "JPY": 0}
PLACES = [("Tromso", "Troms", "NO"), ("Suva", "Central", "FJ"), ("Auckland", "Auckland", "NZ"),
          ("Paris", "Ile-de-France", "FR"), ("Portland", "Oregon", "US"), ("Porto", "Norte", "PT"),
          ("Nome", "Alaska", "US"), ("Osaka", "Osaka", "JP"), ("McMurdo", "Ross", "AQ")]
COUNTRY_NAMES = {"NO": "Norway", "FJ": "Fiji", "NZ": "New Zealand", "FR": "France", "US": "United States",
                 "PT": "Portugal", "JP": "Japan", "AQ": "Antarctica"}
AMENITIES = ["wifi", "kitchen", "pool", "parking", "tv", "pets_allowed"]
TYPES = ["apartment", "house", "room", "cabin", "villa", "other"]
SORTS = ["relevance", "price_asc", "price_desc", "rating", "newest"]
TODAY = date.today()


def _point(rng: random.Random) -> tuple[float, float]:
    """Somewhere awkward most of the time: near a pole, beside the antimeridian, else anywhere."""
    kind = rng.random()
    if kind < 0.25:
        return rng.uniform(80, 89.95), rng.uniform(-180, 180)
    if kind < 0.4:
        return rng.uniform(-89.95, -80), rng.uniform(-180, 180)
    if kind < 0.65:
        return rng.uniform(-60, 65), rng.choice([rng.uniform(170, 180), rng.uniform(-180, -170)])
    return rng.uniform(-60, 75), rng.uniform(-180, 180)


def _stay(rng: random.Random) -> tuple[date, date]:
    start = TODAY + timedelta(days=rng.randint(3, 45))
    return start, start + timedelta(days=rng.randint(1, 9))


@pytest.fixture
def catalogue(app):
    """Sixty listings (two of them deleted, two without coordinates), a third with per-night prices, many with
    held nights (blocked by the host or booked)."""
    rng = random.Random(16)
    hosts = [make_user(role="host") for _ in range(4)]
    made = []
    for n in range(60):
        city, state, country = rng.choice(PLACES)
        currency = rng.choice(sorted(DIGITS))
        lat, lng = (None, None) if n < 2 else _point(rng)
        min_nights = rng.randint(1, 3)
        listing = make_listing(
            host=rng.choice(hosts), title=f"Listing {n}", property_type=rng.choice(TYPES),
            address={"line1": f"{n} Main St", "city": city, "state": state, "country": country, "postal_code": "1"},
            latitude=lat, longitude=lng, price_per_night={"amount": rng.randint(2000, 60000), "currency": currency},
            cleaning_fee=None, max_guests=rng.randint(1, 8), min_nights=min_nights,
            max_nights=rng.randint(min_nights, 12), instant_book=rng.random() < 0.5, timezone="UTC",
            amenities=rng.sample(AMENITIES, rng.randint(0, 4)))
        made.append(listing)
        if n in (2, 3):
            listings.delete_listing(listing, actor=listing.host)
            continue
        ranges = []
        if rng.random() < 0.35:
            start, end = _stay(rng)
            ranges.append(NightRange(start=start, end=end, price={"amount": rng.randint(1000, 90000),
                                                                  "currency": currency}))
        if rng.random() < 0.3:
            start, end = _stay(rng)
            ranges.append(NightRange(start=start, end=end, available=False))
        if ranges:
            calendar.set_availability(listing, actor=listing.host, ranges=ranges)
        if rng.random() < 0.15:
            check_in = TODAY + timedelta(days=rng.randint(3, 40))
            bookings.create_booking(guest=make_user(), listing_id=listing.id, check_in=check_in,
                                    check_out=check_in + timedelta(days=max(min_nights, 2)), guests=1)
    return made


def _raw_tables() -> dict:
    """The rows the oracle reads, straight from the tables."""
    rows = db.session.execute(text(
        "SELECT id, status, title, city, state, country, latitude, longitude, currency, price_per_night_amount,"
        " max_guests, min_nights, max_nights, property_type, instant_book, rating_score, rating_count, rank_score"
        " FROM listings")).mappings().all()
    amenities = {}
    for listing_id, code in db.session.execute(text(
            "SELECT la.listing_id, a.code FROM listing_amenities la JOIN amenities a ON a.id = la.amenity_id")):
        amenities.setdefault(listing_id, set()).add(code)
    held = {(listing_id, _day(night)) for listing_id, night in
            db.session.execute(text("SELECT listing_id, night FROM night_holds"))}
    prices = {(listing_id, _day(night)): amount for listing_id, night, amount in
              db.session.execute(text("SELECT listing_id, night, amount FROM night_prices"))}
    rates = {code: Fraction(rate) for code, rate in DEFAULT_RATES.items()}
    rates.update({code: Fraction(str(rate)) for code, rate in
                  db.session.execute(text("SELECT currency, rate FROM exchange_rates"))})
    return {"listings": [dict(row) for row in rows], "amenities": amenities, "held": held, "prices": prices,
            "rates": rates}


def _day(value) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value)[:10])


def _matches_location(listing: dict, term: str) -> bool:
    term = term.strip().lower()
    names = [listing["city"], listing["state"], COUNTRY_NAMES[listing["country"]]]
    return any(name.lower().startswith(term) for name in names if name) or term == listing["country"].lower()


def _nightly(listing: dict, args: dict, tables: dict) -> Fraction:
    """The listing's price per night for this search: its nightly price, or with dates the stay's average."""
    base = listing["price_per_night_amount"]
    if "check_in" not in args:
        return Fraction(base)
    start, end = date.fromisoformat(args["check_in"]), date.fromisoformat(args["check_out"])
    nights = [start + timedelta(days=i) for i in range((end - start).days)]
    return Fraction(sum(tables["prices"].get((listing["id"], night), base) for night in nights), len(nights))


def _shown(nightly: Fraction, source: str, target: str, rates: dict) -> int:
    """The exact conversion, rounded half-even once (Fraction's round)."""
    return round(nightly * rates[target] / rates[source] * Fraction(10) ** (DIGITS[target] - DIGITS[source]))


def _usd_micros(nightly: Fraction, source: str, rates: dict) -> int:
    return round(nightly / Fraction(10) ** DIGITS[source] / rates[source] * 10**6)


def _keeps(listing: dict, args: dict, tables: dict) -> bool:
    """Every filter of the search but the price, by docs/api.md."""
    if listing["status"] != "active":
        return False
    if "location" in args and not _matches_location(listing, args["location"]):
        return False
    if "lat" in args:
        if listing["latitude"] is None or haversine_km(
                float(args["lat"]), float(args["lng"]), float(listing["latitude"]),
                float(listing["longitude"])) > float(args.get("radius_km", 25)):
            return False
    if "check_in" in args:
        start, end = date.fromisoformat(args["check_in"]), date.fromisoformat(args["check_out"])
        nights = (end - start).days
        if not listing["min_nights"] <= nights <= listing["max_nights"]:
            return False
        if any((listing["id"], start + timedelta(days=i)) in tables["held"] for i in range(nights)):
            return False
    if "guests" in args and listing["max_guests"] < int(args["guests"]):
        return False
    if "amenities" in args and not set(args["amenities"].split(",")) <= tables["amenities"].get(listing["id"], set()):
        return False
    if "property_type" in args and listing["property_type"] != args["property_type"]:
        return False
    return "instant_book" not in args or bool(listing["instant_book"]) == (args["instant_book"] == "true")


def oracle(args: dict, tables: dict) -> dict:
    """The page docs/api.md says the search `args` answers: ids in order, their display amounts, total, pages."""
    currency, rates = args.get("currency", "USD"), tables["rates"]
    found = []
    for listing in tables["listings"]:
        if not _keeps(listing, args, tables):
            continue
        nightly = _nightly(listing, args, tables)
        shown = _shown(nightly, listing["currency"], currency, rates)
        if int(args.get("min_price", shown)) <= shown <= int(args.get("max_price", shown)):
            found.append((listing, shown, _usd_micros(nightly, listing["currency"], rates)))
    sort = args.get("sort", "relevance")
    if sort in ("price_asc", "price_desc"):
        found.sort(key=lambda hit: (hit[2], hit[0]["id"]), reverse=sort == "price_desc")
    elif sort == "rating":
        found.sort(key=lambda hit: (hit[0]["rating_score"], hit[0]["rating_count"], hit[0]["id"]), reverse=True)
    elif sort == "newest":
        found.sort(key=lambda hit: hit[0]["id"], reverse=True)
    elif "lat" in args:
        point = float(args["lat"]), float(args["lng"])
        found.sort(key=lambda hit: (haversine_km(*point, float(hit[0]["latitude"]), float(hit[0]["longitude"])),
                                    hit[0]["id"]))
    else:
        found.sort(key=lambda hit: (hit[0]["rank_score"], hit[0]["id"]), reverse=True)
    per_page = min(max(int(args.get("per_page", 20)), 1), 100)
    page = int(args.get("page", 1))
    window = found[(page - 1) * per_page:page * per_page]
    return {"items": [(hit[0]["id"], hit[1]) for hit in window], "total": len(found),
            "pages": (len(found) + per_page - 1) // per_page}


def random_query(rng: random.Random, tables: dict) -> dict:
    """A search a client could send: a few filters drawn at random, a circle often drawn just around a listing."""
    args: dict[str, str] = {}
    located = [row for row in tables["listings"] if row["latitude"] is not None]
    if rng.random() < 0.55:
        lat, lng = _point(rng)
        if rng.random() < 0.5:  # a circle whose edge passes just beyond, or just short of, a listing
            other = rng.choice(located)
            distance = haversine_km(lat, lng, float(other["latitude"]), float(other["longitude"]))
            radius = distance * (1 + rng.choice([1e-7, -1e-7, 1e-3]))
        else:
            radius = rng.choice([1, 50, 300, 481, 500, 800, 1500, 3000, 8000, 20000]) * rng.uniform(0.5, 1.5)
        args.update(lat=f"{lat:.6f}", lng=f"{lng:.6f}", radius_km=f"{min(max(radius, 0.1), 20000):.6f}")
    elif rng.random() < 0.3:
        name = rng.choice([part for place in PLACES for part in (place[0], place[1], COUNTRY_NAMES[place[2]])])
        args["location"] = rng.choice([str.lower, str.upper, str])(name[:rng.randint(1, len(name))])
    if rng.random() < 0.5:
        start, end = _stay(rng)
        args.update(check_in=start.isoformat(), check_out=end.isoformat())
    if rng.random() < 0.4:
        args["currency"] = rng.choice(sorted(DIGITS))
    if rng.random() < 0.4:
        scale = 1 if args.get("currency") == "JPY" else 100
        low = rng.randint(0, 300) * scale
        bounds = rng.choice(["min", "max", "both"])
        if bounds != "max":
            args["min_price"] = str(low)
        if bounds != "min":
            args["max_price"] = str(low + rng.randint(0, 400) * scale)
    if rng.random() < 0.3:
        args["guests"] = str(rng.randint(1, 8))
    if rng.random() < 0.2:
        args["amenities"] = ",".join(rng.sample(AMENITIES, rng.randint(1, 2)))
    if rng.random() < 0.15:
        args["property_type"] = rng.choice(TYPES)
    if rng.random() < 0.15:
        args["instant_book"] = rng.choice(["true", "false"])
    if rng.random() < 0.7:
        args["sort"] = rng.choice(SORTS)
    if rng.random() < 0.5:
        args["per_page"] = str(rng.choice([1, 3, 7, 20, 150, -2]))
        args["page"] = str(rng.randint(1, 4))
    return args


def test_search_answers_what_the_oracle_says(client, catalogue):
    tables = _raw_tables()
    rng = random.Random(1613)
    seen = 0
    for _ in range(QUERIES):
        args = random_query(rng, tables)
        response = client.get(f"/api/v1/search?{urlencode(args)}")
        assert response.status_code == 200, (args, response.get_json())
        body, expected = response.get_json(), oracle(args, tables)
        answered = [(item["id"], item["display_price"]["amount"]) for item in body["items"]]
        assert (answered, body["total"], body["pages"]) == (expected["items"], expected["total"],
                                                             expected["pages"]), args
        seen += bool(answered)
    assert seen > QUERIES // 3  # the queries do find listings: the comparison is not of empty pages
