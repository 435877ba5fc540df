"""Live notification stream benchmark: commit-to-stream latency across two processes, and idle streams' cost.

    .venv/bin/python bench/stream.py                         # 100 events, 200 idle streams
    .venv/bin/python bench/stream.py --events 300 --idle 200

Process A is this script's own app (same code, same database and Redis): it pays bookings through the bookings
service, so each commit notifies the host. Process B is gunicorn (gthread, production config) holding the host's
stream. The latency is from A's commit (an after_commit hook) to the event's arrival on B's stream. Then B holds
--idle idle streams while a plain GET (/api/v1/currencies) is timed with and without them, and the database and
Redis connections are counted. Prints the figures and writes bench/results/stream-<time>.json. See bench/README.md.
"""

from __future__ import annotations

import argparse
import http.client
import logging
import os
import sys
import time
from datetime import date, datetime, timedelta
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
for _path in (str(ROOT), str(BENCH)):  # the app package and the sibling bench modules
    if _path not in sys.path:
        sys.path.insert(0, _path)

import bench_seed  # noqa: E402
import redis  # noqa: E402
from bench_bookings_data import mint_tokens  # noqa: E402
from bench_load import percentile  # noqa: E402
from bench_server import DUMMY_SECRET, Server, add_server_arguments, run_and_report  # noqa: E402
from sqlalchemy import event as sa_event  # noqa: E402
from sqlalchemy.orm import Session  # noqa: E402

from tests.support.sse import EventStreamClient  # noqa: E402

logger = logging.getLogger("bench")
PLAIN_GET = "/api/v1/currencies"


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--events", type=int, default=100, help="events timed from commit to stream (default 100)")
    parser.add_argument("--idle", type=int, default=200, help="idle streams process B holds (default 200)")
    parser.add_argument("--plain-requests", type=int, default=500, help="plain GETs timed per phase (default 500)")
    parser.add_argument("--database-url", default="mysql+pymysql://root@127.0.0.1/abode_bench_stream?charset=utf8mb4",
                        help="MariaDB URL; its database is DROPPED and re-created")
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/12", help="Redis DB for the app (flushed)")
    add_server_arguments(parser, workers=1)
    parser.set_defaults(worker_class="gthread", threads=0)
    args = parser.parse_args(argv)
    args.threads = args.threads or args.idle + 16  # a thread per stream, and some for ordinary requests
    return args


def make_world(args) -> tuple:
    """Process A's app, a host with an instant-book listing, `--events` unpaid bookings and `--idle` users."""
    from app import create_app
    from app.blueprints.bookings import services as bookings
    from app.blueprints.listings import schemas
    from app.blueprints.listings import services as listings
    from app.extensions import db
    from app.models import User
    from config import DevelopmentConfig
    from tests.support.factories import listing_data

    app = create_app(DevelopmentConfig, SQLALCHEMY_DATABASE_URI=args.database_url, REDIS_URL=args.redis_url,
                     LOG_LEVEL="WARNING")
    app.app_context().push()
    users = [User(email=f"stream{n}@bench.example", name=f"Bench User {n}", role="host" if n == 0 else "guest",
                  password_hash="!") for n in range(args.idle + 2)]
    db.session.add_all(users)
    db.session.commit()
    host, guest = users[0], users[1]
    listing = listings.create_listing(host=host, **schemas.ListingInputSchema().load(
        listing_data(min_nights=1, max_nights=5, instant_book=True)))
    first = date.today() + timedelta(days=10)
    booking_ids = []
    for n in range(args.events):
        check_in = first + timedelta(days=2 * n)
        booking, _ = bookings.create_booking(guest=guest, listing_id=listing.id, check_in=check_in,
                                             check_out=check_in + timedelta(days=1), guests=1)
        booking_ids.append((booking.id, booking.total_amount))
    return app, bookings, host.id, booking_ids, [user.id for user in users[2:]]


def time_latency(base: str, token: str, bookings, booking_ids: list[tuple[int, int]]) -> list[float]:
    """Pay each booking in this process; the ms from its commit to its event on B's stream."""
    committed: list[float] = []
    sa_event.listen(Session, "after_commit", lambda _s: committed.append(time.perf_counter()))
    latencies = []
    with EventStreamClient(base, headers={"Authorization": f"Bearer {token}"}, timeout=10) as stream:
        assert stream.status == 200, stream.status
        stream.next_block()
        for booking_id, total in booking_ids:
            committed.clear()
            bookings.record_payment(booking_id, total)
            stream.next_event()
            latencies.append((time.perf_counter() - committed[-1]) * 1000)
    return latencies


def time_plain(base: str, count: int) -> list[float]:
    """`count` sequential GETs of PLAIN_GET on one keep-alive connection, in ms."""
    host, port = base.removeprefix("http://").split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=10)
    times = []
    for _ in range(count):
        started = time.perf_counter()
        conn.request("GET", PLAIN_GET)
        response = conn.getresponse()
        response.read()
        assert response.status == 200, response.status
        times.append((time.perf_counter() - started) * 1000)
    conn.close()
    return times


def counts(args) -> dict:
    """Connections the database server sees (all of its clients) and Redis clients on the bench's database (this
    script's own counting connection left out)."""
    with bench_seed.connect(args.database_url) as conn, conn.cursor() as cursor:
        cursor.execute("SHOW STATUS LIKE 'Threads_connected'")
        db_connections = int(cursor.fetchone()[1])
    client = redis.Redis.from_url(args.redis_url)
    number = str(client.connection_pool.connection_kwargs.get("db", 0))
    return {"db_connections_server_wide": db_connections,
            "redis_clients_on_this_db": sum(1 for c in client.client_list() if c.get("db") == number) - 1}


def stats(values: list[float]) -> dict:
    ordered = sorted(values)
    return {"n": len(ordered), "p50_ms": round(percentile(ordered, 50), 2), "p95_ms": round(percentile(ordered, 95), 2),
            "max_ms": round(ordered[-1], 2)}


def run(args) -> dict:
    redis.Redis.from_url(args.redis_url).flushdb()
    bench_seed.recreate_database(args.database_url)
    bench_seed.run_migrations(args.database_url)
    _app, bookings, host_id, booking_ids, idle_ids = make_world(args)
    tokens = mint_tokens([host_id, *idle_ids], DUMMY_SECRET[::-1])
    os.environ.update(NOTIFICATION_STREAMS_PER_PROCESS=str(args.idle + 5), NOTIFICATION_STREAM_MAX_SECONDS="3600")
    report = {"started": datetime.now().isoformat(timespec="seconds"), "args": vars(args),
              "nproc": len(os.sched_getaffinity(0))}
    with Server(args) as base:
        time_plain(base, 50)  # warm up
        report["latency"] = stats(time_latency(base, tokens[host_id], bookings, booking_ids))
        report["plain_without"] = stats(time_plain(base, args.plain_requests))
        report["connections_without"] = counts(args)
        streams = [EventStreamClient(base, headers={"Authorization": f"Bearer {tokens[user_id]}"}, timeout=30)
                   for user_id in idle_ids]
        try:
            opened = sum(1 for stream in streams if stream.status == 200 and stream.next_block())
            report["idle_streams_open"] = opened
            report["plain_with"] = stats(time_plain(base, args.plain_requests))
            report["connections_with"] = counts(args)
        finally:
            for stream in streams:
                stream.close()
    return report


def render(report: dict) -> str:
    lat, without, with_ = report["latency"], report["plain_without"], report["plain_with"]
    verdict = "PASS" if lat["p95_ms"] < 500 else "FAIL"
    lines = [f"commit (process A) -> event on a stream of process B, {lat['n']} events: p50 {lat['p50_ms']} ms, "
             f"p95 {lat['p95_ms']} ms, max {lat['max_ms']} ms  [{verdict} p95 < 500 ms]",
             f"GET {PLAIN_GET}, {without['n']} sequential: without streams p50 {without['p50_ms']} ms "
             f"p95 {without['p95_ms']} ms; with {report['idle_streams_open']} idle streams p50 {with_['p50_ms']} ms "
             f"p95 {with_['p95_ms']} ms",
             f"connections without streams {report['connections_without']}, "
             f"with them {report['connections_with']}"]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    report = run_and_report(args, run, render, "stream")
    return 0 if report["latency"]["p95_ms"] < 500 and report["idle_streams_open"] == args.idle else 1


if __name__ == "__main__":
    sys.exit(main())
