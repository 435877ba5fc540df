"""Benchmark data: (re)create the MariaDB database, migrate it, and bulk-load listings, amenities and calendars.

Rows go in as multi-row INSERTs on a raw PyMySQL connection, written by a thread while the next batch is
built, with unique and foreign-key checks off for the session. Nothing here goes through the ORM or the services.
"""

from __future__ import annotations

import itertools
import logging
import os
import queue
import random
import subprocess
import sys
import threading
import time
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pymysql
from bench_places import City, make_cities
from pymysql.converters import escape_item
from sqlalchemy.engine import make_url

from app import geo, money, rates
from app.blueprints.calendar.holds import held_nights_string
from app.blueprints.listings.places import HELD_COLUMNS
from app.models.listing import ListingPlace, amenity_mask
from app.models.money import DEFAULT_RATES

logger = logging.getLogger("bench.seed")

ROOT = Path(__file__).resolve().parent.parent
BATCH_ROWS = 10_000
NIGHT_BATCH_ROWS = 20_000
MAX_STATEMENT_BYTES = 8 * 2**20  # well under MariaDB's default max_allowed_packet (16 MiB)
CALENDAR_DAYS = 365
HOSTS = 400
RATES = {code: Decimal(rate) for code, rate in DEFAULT_RATES.items()}  # what rates.current_rates() gives after 0003
KINDS = (("apartment", 45), ("house", 25), ("room", 15), ("cabin", 5), ("villa", 5), ("other", 5))
AMENITY_WEIGHTS = {"wifi": 95, "kitchen": 75, "parking": 50, "pool": 15, "air_conditioning": 50, "heating": 70,
                   "washer": 55, "dryer": 35, "tv": 60, "workspace": 35, "pets_allowed": 20, "hot_tub": 8, "gym": 7,
                   "breakfast": 10, "ev_charger": 6, "smoke_alarm": 80}
LISTING_COLUMNS = (
    "id", "host_id", "status", "title", "description", "property_type", "address_line1", "city", "state", "country",
    "postal_code", "latitude", "longitude", "timezone", "currency", "price_per_night_amount", "cleaning_fee_amount",
    "max_guests", "bedrooms", "beds", "bathrooms", "min_nights", "max_nights", "cancellation_policy", "instant_book",
    "rating_count", "rating_sum", "price_usd_micros", "rating_score", "rank_score", "deleted_at", "created_at",
    "updated_at", "amenity_mask", "held_from", "held_nights",
)
BLURB = ("Light-filled rooms, fresh linen and towels, a fully equipped kitchen and fast Wi-Fi. Self check-in "
         "with a keypad; cafés, a bakery and the bus stop are a short walk away. ")


def connect(url: str, database: bool = True) -> pymysql.Connection:
    """A PyMySQL connection to the URL's server (and its database unless `database` is False)."""
    parts = make_url(url)
    return pymysql.connect(host=parts.host or "127.0.0.1", port=parts.port or 3306, user=parts.username or "root",
                           password=parts.password or "", database=parts.database if database else None,
                           charset="utf8mb4", autocommit=True)


def recreate_database(url: str) -> None:
    """DROP and CREATE the URL's database (utf8mb4, the server's default collation)."""
    name = make_url(url).database
    with connect(url, database=False) as conn, conn.cursor() as cursor:
        cursor.execute(f"DROP DATABASE IF EXISTS `{name}`")
        cursor.execute(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4")


def count_listings(url: str) -> int | None:
    """How many listings the database holds, or None when it (or its tables) does not exist."""
    try:
        with connect(url) as conn, conn.cursor() as cursor:
            cursor.execute("SELECT COUNT(*) FROM listings")
            return cursor.fetchone()[0]
    except pymysql.MySQLError:
        return None


def run_migrations(url: str) -> None:
    """`flask --app wsgi db upgrade` against the URL, as an operator would run it."""
    env = {**os.environ, "DATABASE_URL": url, "APP_CONFIG": "development", "LOG_LEVEL": "WARNING"}
    env.pop("REDIS_URL", None)
    result = subprocess.run([sys.executable, "-m", "flask", "--app", "wsgi", "db", "upgrade"], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=300)
    if result.returncode != 0:
        raise RuntimeError(f"db upgrade failed:\n{result.stdout[-2000:]}\n{result.stderr[-4000:]}")


class BatchWriter:
    """Runs INSERT statements on its own connection in a thread, so the next batch is built meanwhile."""

    def __init__(self, url: str) -> None:
        self.conn = connect(url)
        with self.conn.cursor() as cursor:
            cursor.execute("SET SESSION unique_checks=0, foreign_key_checks=0")
        self.queue: queue.Queue[str | None] = queue.Queue(maxsize=4)
        self.error: BaseException | None = None
        self.rows = 0
        self.thread = threading.Thread(target=self._run, name="bench-writer", daemon=True)
        self.thread.start()

    def _run(self) -> None:
        while (statement := self.queue.get()) is not None:
            if self.error is None:
                try:
                    with self.conn.cursor() as cursor:
                        cursor.execute(statement)
                except BaseException as exc:  # handed to the producer at its next call
                    self.error = exc

    def insert(self, table: str, columns: str, values: list[str]) -> None:
        """Queue multi-row INSERTs of pre-escaped value tuples, each statement under MAX_STATEMENT_BYTES."""
        if self.error is not None:
            raise self.error
        start, size = 0, 0
        for end, value in enumerate(values):
            size += len(value) + 1
            if size > MAX_STATEMENT_BYTES:
                self.queue.put(f"INSERT INTO {table} ({columns}) VALUES {','.join(values[start:end])}")
                start, size = end, len(value) + 1
        if values[start:]:
            self.queue.put(f"INSERT INTO {table} ({columns}) VALUES {','.join(values[start:])}")
        self.rows += len(values)

    def close(self) -> None:
        """Wait for every queued statement; re-raise the first failure."""
        self.queue.put(None)
        self.thread.join()
        self.conn.close()
        if self.error is not None:
            raise self.error


def _values(row: tuple) -> str:
    """One escaped VALUES tuple."""
    return "(" + ",".join(escape_item(value, "utf8mb4") for value in row) + ")"


def _weighted_sample(rng: random.Random, weights: dict[str, int], k: int) -> list[str]:
    """k distinct keys drawn by weight (Efraimidis-Spirakis keys)."""
    return sorted(weights, key=lambda key: rng.random() ** (1.0 / weights[key]), reverse=True)[:k]


def _price(rng: random.Random, city: City) -> tuple[int, int]:
    """(nightly amount in minor units of the city's currency, the same in USD micros as the app computes it)."""
    major = city.usd_nightly * rng.lognormvariate(0, 0.35) * float(RATES[city.currency])
    step = 100 if money.minor_units(city.currency) == 0 else 1  # whole yen/won in hundreds, others in whole units
    amount = max(step, round(major / step) * step) * 10 ** money.minor_units(city.currency)
    return amount, rates.to_usd_micros(amount, city.currency, RATES)


def _listing_row(rng: random.Random, listing_id: int, city: City, now: datetime) -> tuple:
    kind = rng.choices([k for k, _w in KINDS], [w for _k, w in KINDS])[0]
    amount, micros = _price(rng, city)
    reviews = 0 if rng.random() < 0.25 else int(rng.paretovariate(1.2) * 3)
    mean = rng.uniform(3.6, 5.0)
    created = now - timedelta(days=rng.randint(0, 1100), seconds=rng.randint(0, 86399))
    deleted = created + timedelta(days=rng.randint(1, 200)) if rng.random() < 0.03 else None
    guests = rng.choices(range(1, 11), [6, 30, 12, 20, 6, 10, 3, 6, 2, 5])[0]
    return (listing_id, 1 + listing_id % HOSTS, "deleted" if deleted else "active",
            f"{kind.capitalize()} {listing_id} in {city.name}", BLURB * rng.randint(1, 4), kind,
            f"{rng.randint(1, 400)} {city.name} Road", city.name, city.state, city.country,
            str(rng.randint(10000, 99999)), round(city.latitude + rng.gauss(0, 0.04), 6),
            round(city.longitude + rng.gauss(0, 0.05), 6), "UTC", city.currency, amount, amount // 5, guests,
            max(0, guests // 2), max(1, guests // 2), max(1, guests // 3), rng.choice((1, 1, 1, 2, 2, 3, 5)),
            rng.choice((14, 30, 90, 365, 365)), rng.choice(("flexible", "moderate", "strict")),
            rng.random() < 0.6, reviews, round(reviews * mean), micros,
            round(mean * 100) if reviews else 0, rng.randint(0, 10_000), deleted, created, created)


def _calendar(rng: random.Random, listing_id: int, days: list[str], next_booking: list[int]) -> tuple[list[str], str]:
    """Rows of night_holds: runs of booked (2-7 nights) or host-blocked (1-14) nights, 12-38% of the year;
    and the listing's held-nights string from days[0] (what calendar/holds.py would build)."""
    occupancy = rng.uniform(0.12, 0.38)
    mean_gap = 5.25 * (1 - occupancy) / occupancy
    rows, held, day = [], [], int(rng.expovariate(1 / mean_gap))
    while day < len(days):
        if rng.random() < 0.25:
            length, booking = rng.randint(1, 14), "NULL"
        else:
            length, booking = rng.randint(2, 7), str(next_booking[0])
            next_booking[0] += 1
        taken = range(day, min(len(days), day + length))
        rows.extend(f"({listing_id},'{days[d]}',{booking})" for d in taken)
        held.extend(taken)
        day += length + int(rng.expovariate(1 / mean_gap))
    start = date.fromisoformat(days[0])
    return rows, held_nights_string((start + timedelta(days=d) for d in held), start)


def _night_prices(rng: random.Random, listing_id: int, amount: int, days: list[str]) -> list[str]:
    nights = sorted(set(rng.sample(range(len(days)), rng.randint(5, 30))))
    return [f"({listing_id},'{days[d]}',{round(amount * rng.uniform(1.1, 1.6))})" for d in nights]


def _amenity_ids(url: str) -> dict[str, int]:
    with connect(url) as conn, conn.cursor() as cursor:
        cursor.execute("SELECT code, id FROM amenities")
        return dict(cursor.fetchall())


def seed(url: str, listings: int, rng: random.Random) -> dict[str, float]:
    """Load hosts, `listings` listings in 500+ cities, their amenities, a year of calendar and some night prices.

    Returns {table or step: seconds}. Raises pymysql errors as they come.
    """
    started = time.perf_counter()
    now = datetime.now().replace(microsecond=0)
    cities = make_cities(rng)
    city_weights = list(itertools.accumulate(city.weight for city in cities))
    ids = _amenity_ids(url)
    amenities = {code: weight for code, weight in AMENITY_WEIGHTS.items() if code in ids}
    days = [(date.today() + timedelta(days=d)).isoformat() for d in range(CALENDAR_DAYS)]
    writer = BatchWriter(url)
    try:
        writer.insert("users", "id, email, name, role, is_active, preferred_currency, preferred_language, "
                      "created_at, updated_at",
                      [_values((n, f"host{n}@bench.example", f"Bench Host {n}", "host", True, "USD", "en", now, now))
                       for n in range(1, HOSTS + 1)])
        props, links, places, holds, prices, next_booking = [], [], [], [], [], [1]
        for listing_id in range(1, listings + 1):
            city = rng.choices(cities, cum_weights=city_weights)[0]
            row = _listing_row(rng, listing_id, city, now)
            chosen = [ids[code] for code in _weighted_sample(rng, amenities, rng.randint(3, 8))]
            links.extend(f"({listing_id},{amenity_id})" for amenity_id in chosen)
            calendar, held = _calendar(rng, listing_id, days, next_booking)
            holds.extend(calendar)
            values = (*row, amenity_mask(chosen), days[0], held)
            props.append(_values(values))
            listing = dict(zip(LISTING_COLUMNS, values, strict=True))
            if listing["status"] == "active":
                copied = tuple(listing[name] for name in (*ListingPlace.COPIED, *HELD_COLUMNS))
                places.extend(_values((kind, place, listing_id, *copied))
                              for kind, place in sorted(geo.search_places(city.name, city.state, city.country)))
            if rng.random() < 0.1:
                prices.extend(_night_prices(rng, listing_id, row[15], days))
            if len(props) >= BATCH_ROWS or listing_id == listings:
                writer.insert("listings", ", ".join(LISTING_COLUMNS), props)
                writer.insert("listing_amenities", "listing_id, amenity_id", links)
                writer.insert("listing_places", ", ".join(("kind", "place", "listing_id", *ListingPlace.COPIED,
                                                            *HELD_COLUMNS)), places)
                writer.insert("night_prices", "listing_id, night, amount", prices)
                props, links, places, prices = [], [], [], []
            if len(holds) >= NIGHT_BATCH_ROWS or listing_id == listings:
                writer.insert("night_holds", "listing_id, night, booking_id", holds)
                holds = []
    finally:
        writer.close()
    loaded = time.perf_counter()
    with connect(url) as conn, conn.cursor() as cursor:
        for table in ("users", "listings", "listing_amenities", "listing_places", "night_holds", "night_prices",
                      "amenities"):
            cursor.execute(f"ANALYZE TABLE {table}")
            cursor.fetchall()
    logger.info("loaded %s rows in %.1f s, analyzed in %.1f s", writer.rows, loaded - started,
                time.perf_counter() - loaded)
    return {"rows": writer.rows, "load_s": round(loaded - started, 1),
            "analyze_s": round(time.perf_counter() - loaded, 1)}


def places(url: str) -> list[dict]:
    """Every (city, state, country) with its centre and listing count, read back for building searches."""
    with connect(url) as conn, conn.cursor(pymysql.cursors.DictCursor) as cursor:
        cursor.execute("SELECT city, state, country, AVG(latitude) AS lat, AVG(longitude) AS lng, COUNT(*) AS n "
                       "FROM listings WHERE status = 'active' GROUP BY city, state, country")
        return [{**row, "lat": float(row["lat"]), "lng": float(row["lng"])} for row in cursor.fetchall()]


def table_counts(url: str) -> dict[str, int]:
    """Row counts of the tables search reads."""
    counts = {}
    with connect(url) as conn, conn.cursor() as cursor:
        for table in ("listings", "listing_amenities", "listing_places", "night_holds", "night_prices", "users"):
            cursor.execute(f"SELECT COUNT(*) FROM {table}")
            counts[table] = cursor.fetchone()[0]
    return counts
