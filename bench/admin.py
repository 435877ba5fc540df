"""Admin figures benchmark: the analytics page and GET /api/v1/admin/stats over HTTP, uncached, on a big database.

    .venv/bin/python bench/admin.py                 # seeds abode_bench_admin: 100k listings, 200k bookings
    .venv/bin/python bench/admin.py --reuse         # keep an earlier run's data

Seeds listings with bench_seed.py (see bench/README.md), adds guests, bookings created over the last year (and
payments for the paid ones) and builds the per-day revenue rows from them (what the app keeps as money moves).
Then runs the app under gunicorn (production config, Redis cache), signs an admin in through the login form, and
asks for each page `--samples` times, Redis flushed before each request so every answer is computed afresh.
Prints p50/p95/max in milliseconds. MariaDB's buffer pool is raised to --buffer-pool-mb for the run, as a server
sized for its data would be (the default 128 MiB reads this 1 GB data set from disk); see bench/README.md.
"""

from __future__ import annotations

import argparse
import http.cookiejar
import json
import logging
import random
import re
import statistics
import sys
import time
import urllib.parse
import urllib.request
from datetime import date, datetime, timedelta
from pathlib import Path

import redis

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
for _path in (str(ROOT), str(BENCH)):
    if _path not in sys.path:
        sys.path.insert(0, _path)

import bench_seed  # noqa: E402
import bench_server  # noqa: E402
import search  # noqa: E402  (its buffer pool sizing)

logger = logging.getLogger("bench")

DEFAULT_URL = "mysql+pymysql://root@127.0.0.1/abode_bench_admin?charset=utf8mb4"
GUESTS = 20_000
STATUSES = (("confirmed", 40), ("completed", 35), ("canceled", 15), ("pending", 10))
ADMIN_EMAIL, ADMIN_PASSWORD = "admin@bench.example", "bench-admin-password"


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
            nightly + cleaning + fee, "moderate", True, "UTC", nightly + cleaning + fee, created,
            datetime.combine(check_in + timedelta(days=nights), datetime.min.time()) if status == "completed" else None,
            created + timedelta(days=1) if status == "canceled" else None, created, created)))
        payments.append(bench_seed._values((
            booking_id, booking_id, guest_id, "stripe", f"bench-{booking_id}", "succeeded", nightly + cleaning + fee, 0,
            "EUR", f"{booking_id:064d}", "0" * 64, True, created, created)))
    writer.insert("bookings", "id, listing_id, guest_id, check_in, check_out, nights, guests, status, currency, "
                  "nightly_amount, cleaning_fee_amount, service_fee_amount, total_amount, cancellation_policy, "
                  "instant_book, timezone, paid_amount, paid_at, completed_at, canceled_at, created_at, updated_at",
                  rows)
    writer.insert("payments", "id, booking_id, guest_id, provider, provider_key, status, amount, refunded_amount, "
                  "currency, key_hash, request_hash, pays_booking, created_at, updated_at", payments)
    writer.close()
    with bench_seed.connect(url) as conn, conn.cursor() as cursor:
        cursor.execute("UPDATE bookings JOIN listings ON listings.id = bookings.listing_id "
                       "SET bookings.city = listings.city")  # as create_booking writes it
        for table in ("users", "bookings", "payments"):
            cursor.execute(f"ANALYZE TABLE {table}")
            cursor.fetchall()


def build_revenue(url: str) -> None:
    """The per-day revenue rows and fees kept of the seeded bookings, as the payments would have written them."""
    from app import create_app
    from app.blueprints.payments import revenue
    from app.extensions import db

    app = create_app(None, SQLALCHEMY_DATABASE_URI=url, CACHE_TYPE="NullCache", REDIS_URL=None, LOG_LEVEL="WARNING")
    with app.app_context():
        logger.info("%s revenue rows built", revenue.rebuild())
        db.session.commit()


def set_admin(url: str) -> None:
    """User 1 becomes the admin the run signs in as."""
    from app.blueprints.auth.passwords import hash_password

    with bench_seed.connect(url) as conn, conn.cursor() as cursor:
        cursor.execute("UPDATE users SET role = 'admin', email = %s, password_hash = %s WHERE id = 1",
                       (ADMIN_EMAIL, hash_password(ADMIN_PASSWORD)))


class _LoopbackPolicy(http.cookiejar.DefaultCookiePolicy):
    """Sends the production config's Secure cookies back over plain HTTP to the loopback server."""

    def return_ok_secure(self, cookie, request) -> bool:
        return True


def sign_in(base: str) -> urllib.request.OpenerDirector:
    """An opener carrying the admin's session cookie, got from the login form (CSRF token included) as a browser
    gets it."""
    jar = http.cookiejar.CookieJar(_LoopbackPolicy())
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    page = opener.open(f"{base}/login").read().decode()
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    form = urllib.parse.urlencode({"csrf_token": token, "email": ADMIN_EMAIL, "password": ADMIN_PASSWORD}).encode()
    opener.open(f"{base}/login", data=form).read()
    if not any(cookie.name == "session" for cookie in jar):
        raise RuntimeError("signing in as the bench admin did not give a session cookie")
    return opener


def measure(samples: int, call) -> dict:
    timings = []
    for _ in range(samples):
        started = time.perf_counter()
        call()
        timings.append((time.perf_counter() - started) * 1000)
    timings.sort()
    return {"p50": round(statistics.median(timings), 1), "p95": round(timings[int(0.95 * (len(timings) - 1))], 1),
            "max": round(timings[-1], 1)}


def run(args) -> None:
    cache = redis.Redis.from_url(args.redis_url)
    restore = search.size_buffer_pool(args) if args.buffer_pool_mb else None
    try:
        with bench_server.Server(args) as base:
            opener = sign_in(base)
            token = json.loads(urllib.request.urlopen(urllib.request.Request(  # noqa: S310 (loopback)
                f"{base}/api/v1/login", json.dumps({"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD}).encode(),
                {"Content-Type": "application/json"})).read())["access_token"]
            year = f"?from={date.today().year}-01-01&to={date.today().isoformat()}"
            for label, path, fetch in (
                    ("analytics page, last 30 days", "/admin/analytics/", opener.open),
                    ("analytics page, this year", f"/admin/analytics/{year}", opener.open),
                    ("GET /api/v1/admin/stats", "/api/v1/admin/stats", lambda url: urllib.request.urlopen(
                        urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"})))):  # noqa: S310
                def get(path=path, fetch=fetch):
                    cache.flushdb()
                    with fetch(base + path) as answer:
                        if answer.status != 200 or "/login" in answer.url:
                            raise RuntimeError(f"{path}: {answer.status} at {answer.url}")
                        answer.read()
                print(f"{label:35} {measure(args.samples, get)}")  # noqa: T201 (a bench script prints its figures)
    finally:
        search.restore_buffer_pool(args, restore)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default=DEFAULT_URL)
    parser.add_argument("--listings", type=int, default=100_000)
    parser.add_argument("--bookings", type=int, default=200_000)
    parser.add_argument("--samples", type=int, default=20)
    parser.add_argument("--reuse", action="store_true")
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/11", help="the app's cache; flushed per sample")
    parser.add_argument("--buffer-pool-mb", type=int, default=2048, help="0 leaves MariaDB's buffer pool alone")
    bench_server.add_server_arguments(parser, workers=1)
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    if not (args.reuse and bench_seed.count_listings(args.database_url) == args.listings):
        bench_seed.recreate_database(args.database_url)
        bench_seed.run_migrations(args.database_url)
        rng = random.Random(14)
        bench_seed.seed(args.database_url, args.listings, rng)
        seed_bookings(args.database_url, args.listings, args.bookings, rng)
        build_revenue(args.database_url)
    set_admin(args.database_url)
    run(args)


if __name__ == "__main__":
    main()
