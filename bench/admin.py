"""Admin figures benchmark: the analytics page and the /admin/stats figures, uncached, on a big database.

    .venv/bin/python bench/admin.py                 # seeds abode_bench_admin: 100k listings, 200k bookings
    .venv/bin/python bench/admin.py --reuse         # keep an earlier run's data

Seeds listings with bench_seed.py (see bench/README.md), adds guests, bookings created over the last year (and
payments for the paid ones), then renders the analytics page in-process (its view, signed in as an admin: SQL,
template, no HTTP) and computes marketplace_stats() (what GET /api/v1/admin/stats returns), the cache cleared
before each sample. Prints p50/p95/max in milliseconds. See bench/README.md.
"""

from __future__ import annotations

import argparse
import logging
import os
import random
import statistics
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
for _path in (str(ROOT), str(BENCH)):
    if _path not in sys.path:
        sys.path.insert(0, _path)

import bench_seed  # noqa: E402

logger = logging.getLogger("bench")

DEFAULT_URL = "mysql+pymysql://root@127.0.0.1/abode_bench_admin?charset=utf8mb4"
GUESTS = 20_000
STATUSES = (("confirmed", 40), ("completed", 35), ("canceled", 15), ("pending", 10))


def seed_bookings(url: str, listings: int, bookings: int, rng: random.Random) -> None:
    """GUESTS guests and `bookings` bookings spread over the last year (ids after the seed's hosts)."""
    now = datetime.now().replace(microsecond=0)
    writer = bench_seed.BatchWriter(url)
    first_guest = bench_seed.HOSTS + 1
    writer.insert("users", "id, email, name, role, is_active, preferred_currency, preferred_language, created_at, "
                  "updated_at", [bench_seed._values((n, f"guest{n}@bench.example", f"Guest {n}", "guest", True, "USD",
                                                     "en", now - timedelta(minutes=rng.randint(0, 525_600)), now))
                                 for n in range(first_guest, first_guest + GUESTS)])
    names, weights = zip(*STATUSES, strict=True)
    rows, payments = [], []
    for booking_id in range(1, bookings + 1):
        created = now - timedelta(minutes=rng.randint(0, 525_600))
        check_in = created.date() + timedelta(days=rng.randint(1, 120))
        nights = rng.randint(2, 7)
        nightly, cleaning = nights * 10_000, 3_000
        fee = nightly // 10
        status = rng.choices(names, weights)[0]
        guest_id = rng.randint(first_guest, first_guest + GUESTS - 1)
        rows.append(bench_seed._values((
            booking_id, rng.randint(1, listings), guest_id, check_in,
            check_in + timedelta(days=nights), nights, 2, status, "EUR", nightly, cleaning, fee,
            nightly + cleaning + fee, "moderate", True, "UTC", nightly + cleaning + fee, created, created, created)))
        payments.append(bench_seed._values((
            booking_id, booking_id, guest_id, "stripe", f"bench-{booking_id}", "succeeded", nightly + cleaning + fee, 0,
            "EUR", f"{booking_id:064d}", "0" * 64, True, created, created)))
    writer.insert("bookings", "id, listing_id, guest_id, check_in, check_out, nights, guests, status, currency, "
                  "nightly_amount, cleaning_fee_amount, service_fee_amount, total_amount, cancellation_policy, "
                  "instant_book, timezone, paid_amount, paid_at, created_at, updated_at", rows)
    writer.insert("payments", "id, booking_id, guest_id, provider, provider_key, status, amount, refunded_amount, "
                  "currency, key_hash, request_hash, pays_booking, created_at, updated_at", payments)
    writer.close()
    with bench_seed.connect(url) as conn, conn.cursor() as cursor:
        for table in ("users", "bookings", "payments"):
            cursor.execute(f"ANALYZE TABLE {table}")
            cursor.fetchall()


def measure(samples: int, call) -> dict:
    timings = []
    for _ in range(samples):
        started = time.perf_counter()
        call()
        timings.append((time.perf_counter() - started) * 1000)
    timings.sort()
    return {"p50": round(statistics.median(timings), 1), "p95": round(timings[int(0.95 * (len(timings) - 1))], 1),
            "max": round(timings[-1], 1)}


def run(url: str, samples: int) -> None:
    os.environ.update({"DATABASE_URL": url, "LOG_LEVEL": "WARNING"})
    os.environ.pop("REDIS_URL", None)
    from flask_login import login_user

    from app import create_app
    from app.blueprints.administration.queries import marketplace_stats
    from app.extensions import cache, db
    from app.models import User

    app = create_app(None, SQLALCHEMY_DATABASE_URI=url, CACHE_TYPE="SimpleCache", REDIS_URL=None,
                     LOG_LEVEL="WARNING")
    with app.app_context():
        admin = db.session.get(User, 1)
        for path in ("/admin/analytics/", "/admin/analytics/?from=2026-01-01&to=2026-12-31"):
            def page(path=path):
                cache.clear()
                with app.test_request_context(path):
                    login_user(admin)
                    app.view_functions["analytics.index"]()
            print(f"{path:55} {measure(samples, page)}")  # noqa: T201 (a bench script prints its figures)

        def stats():
            cache.clear()
            marketplace_stats()
        print(f"{'marketplace_stats() (GET /api/v1/admin/stats)':55} {measure(samples, stats)}")  # noqa: T201


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default=DEFAULT_URL)
    parser.add_argument("--listings", type=int, default=100_000)
    parser.add_argument("--bookings", type=int, default=200_000)
    parser.add_argument("--samples", type=int, default=20)
    parser.add_argument("--reuse", action="store_true")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    if not (args.reuse and bench_seed.count_listings(args.database_url) == args.listings):
        bench_seed.recreate_database(args.database_url)
        bench_seed.run_migrations(args.database_url)
        rng = random.Random(14)
        bench_seed.seed(args.database_url, args.listings, rng)
        seed_bookings(args.database_url, args.listings, args.bookings, rng)
        with bench_seed.connect(args.database_url) as conn, conn.cursor() as cursor:
            cursor.execute("UPDATE users SET role = 'admin' WHERE id = 1")
    run(args.database_url, args.samples)


if __name__ == "__main__":
    main()
