"""Bookings benchmark data: bench_seed's catalogue, guest users and their tokens, and the request mix.

The catalogue is bench_seed's (listings, hosts, amenities, a year of calendar) as it stands, except that the
seeded bookings' nights become host blocks: they name booking ids that have no row in `bookings` (and that the
run's bookings would reuse), and the audit counts such holds as strays. The nights stay held, so the listings'
held-nights strings stay right without being rebuilt here. The request mix, within each listing's min/max nights:

- hot: short stays inside one three-week window of a few hot listings, so most of them collide (409);
- free: stays on the other listings that overlap nothing (no held night, no other request), so all must be 201.
"""

from __future__ import annotations

import json
import logging
import random
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta

import bench_seed
from bench_load import Request
from flask import Flask
from flask_jwt_extended import JWTManager, create_access_token

logger = logging.getLogger("bench.bookings.data")

BOOKINGS_PATH = "/api/v1/bookings"
HOT_FROM_DAY, HOT_WINDOW_DAYS = 14, 21  # the contested window of each hot listing, counted from today
FREE_FROM_DAY = 3  # free stays start a few days out, clear of any time-zone edge of "today"
TOKEN_LIFETIME = timedelta(hours=2)


@dataclass(frozen=True)
class Listing:
    """What the request mix needs to know of a listing: its id and booking rules."""

    id: int
    max_guests: int
    min_nights: int
    max_nights: int

    def length(self, rng: random.Random, spread: int) -> int:
        """A stay length it accepts: min_nights to min_nights + spread, capped at max_nights."""
        return rng.randint(self.min_nights, min(self.min_nights + spread, self.max_nights))

    def party(self, rng: random.Random) -> int:
        """A party size it accepts (1 to 4)."""
        return rng.randint(1, min(self.max_guests, 4))


@dataclass(frozen=True)
class Stay:
    """One booking request to make: which listing, which nights, how many guests, hot or free."""

    listing_id: int
    check_in: date
    check_out: date
    guests: int
    hot: bool


def prepare(url: str, listings: int, guests: int, rng: random.Random) -> dict:
    """Drop and re-create the database, migrate it, seed `listings` listings and `guests` guest users.

    Returns the seeding figures. Raises RuntimeError (migrations) and pymysql errors as they come.
    """
    bench_seed.recreate_database(url)
    bench_seed.run_migrations(url)
    stats = bench_seed.seed(url, listings, rng)
    with bench_seed.connect(url) as conn, conn.cursor() as cursor:
        cursor.execute("UPDATE night_holds SET booking_id = NULL WHERE booking_id IS NOT NULL")
        now = datetime.now().replace(microsecond=0)
        first = bench_seed.HOSTS + 1
        cursor.executemany(
            "INSERT INTO users (id, email, name, role, is_active, preferred_currency, preferred_language, "
            "created_at, updated_at) VALUES (%s, %s, %s, 'guest', 1, 'USD', 'en', %s, %s)",
            [(n, f"guest{n}@bench.example", f"Bench Guest {n}", now, now) for n in range(first, first + guests)])
    return stats


def catalogue(url: str) -> tuple[dict[int, Listing], dict[int, set[date]], list[int]]:
    """({id: active listing}, {listing id: held nights}, guest user ids) as seeded."""
    with bench_seed.connect(url) as conn, conn.cursor() as cursor:
        cursor.execute("SELECT id, max_guests, min_nights, max_nights FROM listings WHERE status = 'active' "
                       "ORDER BY id")
        listings = {row[0]: Listing(*row) for row in cursor.fetchall()}
        cursor.execute("SELECT listing_id, night FROM night_holds")
        held: dict[int, set[date]] = defaultdict(set)
        for listing_id, night in cursor.fetchall():
            held[listing_id].add(night)
        cursor.execute("SELECT id FROM users WHERE role = 'guest' ORDER BY id")
        guest_ids = [row[0] for row in cursor.fetchall()]
    return listings, held, guest_ids


def _free_slots(listings: list[Listing], held: dict[int, set[date]], today: date,
                rng: random.Random) -> list[tuple[Listing, date, date]]:
    """Stays on these listings, within the seeded year, that touch no held night and no other slot."""
    slots = []
    for listing in listings:
        day = FREE_FROM_DAY
        while day + listing.min_nights <= bench_seed.CALENDAR_DAYS:
            nights = min(listing.length(rng, 4), bench_seed.CALENDAR_DAYS - day)
            check_in = today + timedelta(days=day)
            if any(check_in + timedelta(days=n) in held[listing.id] for n in range(nights)):
                day += 1
                continue
            slots.append((listing, check_in, check_in + timedelta(days=nights)))
            day += nights + rng.randint(0, 2)
    return slots


def plan(listings: dict[int, Listing], held: dict[int, set[date]], requests: int, hot_share: float,
         hot_listings: int, rng: random.Random) -> list[Stay]:
    """`requests` stays in random order, `hot_share` of them hot. Raises ValueError when the free listings
    cannot hold that many non-overlapping stays (seed more listings)."""
    today = date.today()
    candidates = [listing for listing in listings.values() if listing.min_nights <= HOT_WINDOW_DAYS // 3]
    hot = rng.sample(candidates, min(hot_listings, len(candidates), len(listings) - 1))
    hot_count = round(requests * hot_share)
    stays = []
    for _ in range(hot_count):
        listing = rng.choice(hot)
        nights = listing.length(rng, 3)
        check_in = today + timedelta(days=HOT_FROM_DAY + rng.randint(0, HOT_WINDOW_DAYS - nights))
        stays.append(Stay(listing.id, check_in, check_in + timedelta(days=nights), listing.party(rng), True))
    free = [listing for listing in listings.values() if listing not in hot]
    slots = _free_slots(free, held, today, rng)
    if len(slots) < requests - hot_count:
        raise ValueError(f"only {len(slots)} free stays fit in {len(free)} listings; "
                         f"{requests - hot_count} are wanted: seed more listings or lower --requests")
    for listing, check_in, check_out in rng.sample(slots, requests - hot_count):
        stays.append(Stay(listing.id, check_in, check_out, listing.party(rng), False))
    rng.shuffle(stays)
    return stays


def mint_tokens(guest_ids: list[int], jwt_secret: str) -> dict[int, str]:
    """An access token per guest, signed with the server's JWT secret as a sign-in would issue it."""
    app = Flask("bench-tokens")
    app.config.update(JWT_SECRET_KEY=jwt_secret, JWT_ACCESS_TOKEN_EXPIRES=TOKEN_LIFETIME)
    JWTManager(app)
    with app.app_context():
        return {guest_id: create_access_token(identity=str(guest_id), additional_claims={"role": "guest"})
                for guest_id in guest_ids}


def to_requests(stays: list[Stay], tokens: dict[int, str], rng: random.Random) -> list[Request]:
    """POST /api/v1/bookings for each stay, each by a random guest, tagged "hot" or "free"."""
    guest_ids = sorted(tokens)
    requests = []
    for stay in stays:
        body = {"property_id": stay.listing_id, "check_in": stay.check_in.isoformat(),
                "check_out": stay.check_out.isoformat(), "guests": stay.guests}
        headers = {"Authorization": f"Bearer {tokens[rng.choice(guest_ids)]}", "Content-Type": "application/json"}
        tag = "hot" if stay.hot else "free"
        requests.append(Request("POST", BOOKINGS_PATH, json.dumps(body).encode(), headers, tag))
    return requests
