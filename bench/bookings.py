"""Bookings benchmark: many clients booking at once against gunicorn on MariaDB, then an audit for double bookings.

    .venv/bin/python bench/bookings.py                    # 200 listings, 4000 requests from 200 clients
    .venv/bin/python bench/bookings.py --hot-share 0.6    # more of them fighting over the same nights

Seeds its own database, serves the app under gunicorn (production config), sends POST /api/v1/bookings from
--clients concurrent connections, part of them for overlapping nights of a few hot listings, then audits
bookings and night_holds in SQL. Prints bookings/s, latency, 409s, 5xx and the audit, writes
bench/results/bookings-<time>.json, and exits 1 on any 5xx, failed request or audit finding. See bench/README.md.
"""

from __future__ import annotations

import argparse
import logging
import os
import random
import sys
import time
from collections import Counter
from datetime import date, datetime, timedelta
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
for _path in (str(ROOT), str(BENCH)):  # the app package and the sibling bench modules
    if _path not in sys.path:
        sys.path.insert(0, _path)

import bench_bookings_data as data  # noqa: E402
import bench_seed  # noqa: E402
import redis  # noqa: E402
from bench_bookings_audit import run_audit  # noqa: E402
from bench_load import Outcome, fetch_all, percentile, send_all  # noqa: E402
from bench_server import Server, add_server_arguments, run_and_report, server_env  # noqa: E402

logger = logging.getLogger("bench")

LOG_MARKERS = ("Traceback", " ERROR ", "[ERROR]", "[CRITICAL]")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--clients", type=int, default=200, help="concurrent connections (default 200)")
    parser.add_argument("--requests", type=int, default=4000, help="booking requests to send (default 4000)")
    parser.add_argument("--listings", type=int, default=200, help="listings to seed (default 200)")
    parser.add_argument("--guests", type=int, default=300, help="guest users to seed (default 300)")
    parser.add_argument("--hot-share", type=float, default=0.3,
                        help="fraction of requests for overlapping nights of the hot listings (default 0.3)")
    parser.add_argument("--hot-listings", type=int, default=5, help="how many listings are hot (default 5)")
    parser.add_argument("--database-url",
                        default="mysql+pymysql://root@127.0.0.1/abode_bench_bookings?charset=utf8mb4",
                        help="MariaDB URL; its database is DROPPED and re-created")
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/10", help="Redis DB for the app (flushed)")
    parser.add_argument("--seed", type=int, default=2026, help="random seed for data and requests")
    add_server_arguments(parser, workers=4)
    args = parser.parse_args(argv)
    if not 0 <= args.hot_share <= 1 or args.clients < 1 or args.requests < 1 or args.listings < 2:
        parser.error("need 0 <= --hot-share <= 1, --clients >= 1, --requests >= 1 and --listings >= 2")
    return args


def _latency(outcomes: list[Outcome]) -> dict:
    times = sorted(o.ms for o in outcomes if o.status is not None)
    return {f"p{pct}_ms": round(percentile(times, pct), 1) for pct in (50, 95, 99)} | {
        "max_ms": round(times[-1], 1) if times else 0.0}


def summarize(outcomes: list[Outcome], seconds: float) -> dict:
    """Counts and latency per kind of request (hot, free, all), and the throughput."""
    rows = {}
    for tag in ("hot", "free", "all"):
        group = [o for o in outcomes if tag in ("all", o.request.tag)]
        statuses = Counter(o.status for o in group)
        rows[tag] = {"requests": len(group), "created": statuses[201], "conflicts": statuses[409],
                     "server_errors": sum(n for s, n in statuses.items() if s is not None and s >= 500),
                     "other": sum(n for s, n in statuses.items() if s is not None and s not in (201, 409) and s < 500),
                     "failed": statuses[None], **_latency(group)}
    statuses = Counter(str(o.status) for o in outcomes)
    return {"seconds": round(seconds, 2), "requests_per_s": round(len(outcomes) / seconds, 1),
            "bookings_per_s": round(rows["all"]["created"] / seconds, 1), "statuses": dict(sorted(statuses.items())),
            "rows": rows}


def log_excerpt(text: str, chars: int = 4000) -> str:
    """gunicorn's output from its first error or traceback on ('' when there is none)."""
    found = [i for i in (text.find(marker) for marker in LOG_MARKERS) if i >= 0]
    if not found:
        return ""
    start = text.rfind("\n", 0, min(found)) + 1
    return text[start:start + chars]


def warm_up(base: str, listings: list[data.Listing]) -> None:
    """A few quotes (reads only) so every worker has connected to MariaDB and Redis before the clock starts."""
    check_in = date.today() + timedelta(days=data.FREE_FROM_DAY)
    paths = [f"/api/v1/properties/{listing.id}/quote?check_in={check_in}"
             f"&check_out={check_in + timedelta(days=listing.min_nights)}" for listing in listings[:40]]
    statuses = {status for status, _ms, _total in fetch_all(base, paths)}
    if statuses != {200}:
        raise RuntimeError(f"warm-up quotes answered {sorted(statuses)}")


def load(args: argparse.Namespace, report: dict) -> list[Outcome]:
    """Plan the requests, serve the app, send them all; the server's figures and log go into `report`."""
    rng = random.Random(args.seed + 1)
    listings, held, guest_ids = data.catalogue(args.database_url)
    stays = data.plan(listings, held, args.requests, args.hot_share, args.hot_listings, rng)
    secret = server_env(args.database_url, args.redis_url)["JWT_SECRET_KEY"]
    requests = data.to_requests(stays, data.mint_tokens(guest_ids, secret), rng)
    report["hot_listings"] = sorted({stay.listing_id for stay in stays if stay.hot})
    server = Server(args)
    with server as base:
        warm_up(base, list(listings.values()))
        logger.info("sending %s booking requests from %s clients", len(requests), args.clients)
        outcomes, seconds = send_all(base, requests, args.clients)
        log = server.log_text()
    report["load"] = summarize(outcomes, seconds)
    report["server_log"] = {"errors": sum(log.count(marker) for marker in LOG_MARKERS), "excerpt": log_excerpt(log)}
    return outcomes


def verdicts(report: dict) -> dict[str, bool]:
    """The pass/fail lines: the issue's two, search's copy of the calendar, and two that show the figures
    measure what they claim."""
    rows, audit = report["load"]["rows"], report["audit"]
    return {"0 5xx": rows["all"]["server_errors"] == 0,
            "0 double bookings (audit)": audit["ok"],
            "held_nights strings match night_holds": audit["mirror_ok"],
            "no failed connections or unexpected statuses": rows["all"]["failed"] + rows["all"]["other"] == 0,
            "every free stay booked; every 201 is in the database":
                rows["free"]["created"] == rows["free"]["requests"]
                and sum(audit["bookings"].values()) == rows["all"]["created"]}


def render(report: dict) -> str:
    """The figures, the audit and the verdicts as plain text."""
    load_, args = report["load"], report["args"]
    lines = [f"Abode bookings benchmark {report['started']}: {args['listings']} listings "
             f"({len(report['hot_listings'])} hot), {args['guests']} guests, {args['requests']} requests from "
             f"{args['clients']} clients, hot share {args['hot_share']:g}; gunicorn {args['workers']} x "
             f"{args['worker_class']} ({args['threads']} threads), nproc {report['nproc']}", "",
             f"{'requests':<10}{'sent':>7}{'201':>7}{'409':>7}{'5xx':>6}{'other':>7}{'failed':>8}"
             f"{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}{'max ms':>9}"]
    for tag, row in load_["rows"].items():
        lines.append(f"{tag:<10}{row['requests']:>7}{row['created']:>7}{row['conflicts']:>7}{row['server_errors']:>6}"
                     f"{row['other']:>7}{row['failed']:>8}{row['p50_ms']:>9.1f}{row['p95_ms']:>9.1f}"
                     f"{row['p99_ms']:>9.1f}{row['max_ms']:>9.1f}")
    lines += ["", f"{load_['bookings_per_s']:.1f} bookings/s, {load_['requests_per_s']:.1f} requests/s "
                  f"({load_['seconds']:g} s); statuses {load_['statuses']}", "", "audit (each must find 0):"]
    lines += [f"  {check['name']:<52}{check['found']:>6}" + (f"  e.g. {check['examples']}" if check["found"] else "")
              for check in report["audit"]["checks"]]
    lines += [f"  bookings by status {report['audit']['bookings']}; night_holds {report['audit']['holds']}", ""]
    lines += [f"{'PASS' if ok else 'FAIL'}  {name}" for name, ok in report["verdicts"].items()]
    if report["server_log"]["excerpt"]:
        lines += ["", "gunicorn log from its first error:", report["server_log"]["excerpt"]]
    return "\n".join(lines) + "\n"


def run(args: argparse.Namespace) -> dict:
    """Seed, load, audit: the report."""
    cache = redis.Redis.from_url(args.redis_url, socket_timeout=5)
    cache.ping()
    cache.flushdb()
    report = {"started": datetime.now().isoformat(timespec="seconds"), "args": vars(args),
              "nproc": len(os.sched_getaffinity(0))}
    started = time.perf_counter()
    report["seed"] = data.prepare(args.database_url, args.listings, args.guests, random.Random(args.seed))
    report["seed"]["total_s"] = round(time.perf_counter() - started, 1)
    logger.info("seeded %s listings and %s guests in %.1f s", args.listings, args.guests, report["seed"]["total_s"])
    report["counts"] = bench_seed.table_counts(args.database_url)
    load(args, report)
    report["audit"] = run_audit(args.database_url)
    report["verdicts"] = verdicts(report)
    return report


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    report = run_and_report(args, run, render, "bookings")
    failed = [name for name, ok in report["verdicts"].items() if not ok]
    if failed:
        logger.error("FAILED: %s", "; ".join(failed))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
