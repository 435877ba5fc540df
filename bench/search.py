"""Search benchmark: seed N listings into MariaDB, serve the app under gunicorn, measure bare vs search.

    .venv/bin/python bench/search.py                      # 100,000 listings, 10 s per phase
    .venv/bin/python bench/search.py --reuse --duration 5 # keep the seeded database from an earlier run

Prints a table of req/s and p50/p95/p99 for a bare JSON route (the ceiling), uncached and cached searches,
one client and --concurrency clients, checks the targets and writes bench/results/search-<time>.json.
See bench/README.md.
"""

from __future__ import annotations

import argparse
import logging
import os
import platform
import random
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
for _path in (str(ROOT), str(BENCH)):  # the app package and the sibling bench modules
    if _path not in sys.path:
        sys.path.insert(0, _path)

import bench_seed  # noqa: E402
import redis  # noqa: E402
from bench_load import PhaseResult, fetch_all, percentile, run_python, run_wrk, wrk_available  # noqa: E402
from bench_queries import SHAPES, SearchMix  # noqa: E402
from bench_server import Server, add_server_arguments, run_and_report  # noqa: E402

logger = logging.getLogger("bench")

UNCACHED_P95_TARGET_MS = 50.0
CACHED_SHARE_TARGET = 0.60
CACHED_QUERIES = 50
BARE_PATH = "/bench/bare"


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--listings", type=int, default=100_000, help="listings to seed (default 100000)")
    parser.add_argument("--database-url", default="mysql+pymysql://root@127.0.0.1/abode_bench?charset=utf8mb4",
                        help="MariaDB URL; its database is dropped and re-created unless --reuse")
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/11", help="Redis DB for the app (flushed)")
    parser.add_argument("--duration", type=float, default=10.0, help="seconds per measured phase (default 10)")
    parser.add_argument("--concurrency", type=int, default=16, help="connections in the throughput phases")
    parser.add_argument("--warmup", type=float, default=3.0, help="seconds of unmeasured searches first")
    parser.add_argument("--shape-samples", type=int, default=25,
                        help="uncached searches per query shape in the breakdown (0 skips it)")
    parser.add_argument("--reuse", action="store_true", help="keep the database when it already has N listings")
    parser.add_argument("--no-wrk", action="store_true", help="use the Python load generator even if wrk exists")
    parser.add_argument("--seed", type=int, default=2026, help="random seed for data and queries")
    parser.add_argument("--check-targets", action="store_true", help="exit 2 when a target is missed")
    parser.add_argument("--buffer-pool-mb", type=int, default=1024,
                        help="raise MariaDB's InnoDB buffer pool to this for the run, as production would size it "
                             "to hold what search reads (default 1024; 0 leaves it; restored afterwards)")
    add_server_arguments(parser, workers=2)
    return parser.parse_args(argv)


def prepare_database(args: argparse.Namespace) -> dict:
    """Seed unless --reuse finds N listings already; always apply migrations. Returns what was done."""
    have = bench_seed.count_listings(args.database_url) if args.reuse else None
    if have == args.listings:
        logger.info("reusing %s listings in %s", f"{have:,}", args.database_url)
        bench_seed.run_migrations(args.database_url)
        return {"reused": True}
    if args.reuse:
        logger.info("database has %s listings, not %s: seeding afresh", have, args.listings)
    started = time.perf_counter()
    bench_seed.recreate_database(args.database_url)
    bench_seed.run_migrations(args.database_url)
    migrated = time.perf_counter()
    logger.info("migrated in %.1f s; seeding %s listings", migrated - started, f"{args.listings:,}")
    stats = bench_seed.seed(args.database_url, args.listings, random.Random(args.seed))
    total = time.perf_counter() - started
    logger.info("seeded %s rows in %.1f s (load %.1f s, analyze %.1f s)", f"{stats['rows']:,}", total,
                stats["load_s"], stats["analyze_s"])
    return {"reused": False, "migrate_s": round(migrated - started, 1), "seed_total_s": round(total, 1), **stats}


def measure(args: argparse.Namespace, name: str, base: str, paths: list[str], clients: int) -> PhaseResult:
    """One phase with wrk (or the Python client), logged as it ends."""
    runner = run_python if args.no_wrk or not wrk_available() else run_wrk
    result = runner(name, base, paths, clients, args.duration)
    logger.info("%-16s c=%-3d %8.1f req/s  p50 %.1f  p95 %.1f  p99 %.1f ms  non-2xx %d  errors %d", name, clients,
                result.rps, result.p50_ms, result.p95_ms, result.p99_ms, result.non_2xx, result.errors)
    return result


def run_phases(args: argparse.Namespace, base: str, mix: SearchMix, cache: redis.Redis) -> list[PhaseResult]:
    """bare, uncached and cached search; each with one client, then --concurrency clients."""
    per_phase = max(500, int(args.duration * 800))
    results = [measure(args, "bare", base, [BARE_PATH], 1),
               measure(args, "bare", base, [BARE_PATH], args.concurrency)]
    for clients in (1, args.concurrency):
        cache.flushdb()  # and every path is new: each request misses the cache
        results.append(measure(args, "search uncached", base, mix.mixed(per_phase), clients))
    cached = mix.mixed(CACHED_QUERIES)
    cache.flushdb()
    for clients in (1, args.concurrency):
        statuses = [status for status, _ms, _total in fetch_all(base, cached)]  # warm (again: entries expire)
        if any(status != 200 for status in statuses):
            raise RuntimeError(f"warming the cached queries answered {sorted(set(statuses))}")
        results.append(measure(args, "search cached", base, cached, clients))
    return results


def shape_breakdown(args: argparse.Namespace, base: str, mix: SearchMix, cache: redis.Redis) -> list[dict]:
    """Uncached latency of each query shape, one client, sequential: where the time goes."""
    rows = []
    cache.flushdb()
    for shape in SHAPES:
        paths = mix.shaped(shape, args.shape_samples)
        answers = fetch_all(base, paths)
        times = sorted(ms for _status, ms, _total in answers)
        totals = [total for _status, _ms, total in answers if total is not None]
        slowest = max(zip(answers, paths, strict=True), key=lambda pair: pair[0][1])
        rows.append({"shape": shape, "samples": len(paths), "p50_ms": round(percentile(times, 50), 1),
                     "p95_ms": round(percentile(times, 95), 1), "max_ms": round(times[-1], 1),
                     "mean_total": round(sum(totals) / len(totals)) if totals else None,
                     "non_200": sum(1 for status, _ms, _total in answers if status != 200),
                     "slowest_path": slowest[1]})
    return rows


def targets(phases: list[PhaseResult], concurrency: int) -> dict:
    """The issue's two targets, measured against this run's figures."""
    def find(name: str, clients: int) -> PhaseResult:
        return next(p for p in phases if p.name == name and p.clients == clients)

    uncached = find("search uncached", 1).p95_ms
    share = find("search cached", concurrency).rps / max(find("bare", concurrency).rps, 1e-9)
    return {"uncached_p95_ms": uncached, "uncached_p95_target_ms": UNCACHED_P95_TARGET_MS,
            "uncached_p95_ok": uncached < UNCACHED_P95_TARGET_MS, "cached_share_of_bare": round(share, 3),
            "cached_share_target": CACHED_SHARE_TARGET, "cached_share_ok": share >= CACHED_SHARE_TARGET}


def size_buffer_pool(args: argparse.Namespace) -> int | None:
    """Raise the buffer pool to --buffer-pool-mb and read the tables search uses into it, as a server that has
    been answering searches holds them. Returns the size to restore afterwards (None: unchanged)."""
    with bench_seed.connect(args.database_url) as conn, conn.cursor() as cursor:
        cursor.execute("SELECT @@innodb_buffer_pool_size")
        before = int(cursor.fetchone()[0])
        wanted = args.buffer_pool_mb * 2**20
        if wanted > before:
            cursor.execute(f"SET GLOBAL innodb_buffer_pool_size = {wanted}")
            for _ in range(100):  # the resize runs in the background
                cursor.execute("SELECT @@innodb_buffer_pool_size")
                if int(cursor.fetchone()[0]) >= wanted:
                    break
                time.sleep(0.1)
        for statement in ("SELECT SUM(LENGTH(held_nights)), SUM(max_guests) FROM listings",
                          "SELECT SUM(max_guests) FROM listing_places"):
            cursor.execute(statement)
            cursor.fetchall()
    return before if wanted > before else None


def restore_buffer_pool(args: argparse.Namespace, size: int | None) -> None:
    if size is not None:
        with bench_seed.connect(args.database_url) as conn, conn.cursor() as cursor:
            cursor.execute(f"SET GLOBAL innodb_buffer_pool_size = {size}")


def machine(args: argparse.Namespace) -> dict:
    """What the figures were measured on."""
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor()) if Path("/proc/cpuinfo").exists() else ""
    with bench_seed.connect(args.database_url) as conn, conn.cursor() as cursor:
        cursor.execute("SELECT VERSION(), @@innodb_buffer_pool_size")
        version, pool = cursor.fetchone()
    wrk = subprocess.run(["wrk", "--version"], capture_output=True, text=True).stdout.split(" [")[0] \
        if wrk_available() and not args.no_wrk else "python client (no wrk)"
    return {"nproc": len(os.sched_getaffinity(0)), "cpu": cpu, "python": platform.python_version(),
            "mariadb": version, "innodb_buffer_pool_mb": int(pool) // 2**20, "load_generator": wrk.strip()}


def render(report: dict) -> str:
    """The figures as a plain-text table."""
    m, t = report["machine"], report["targets"]
    lines = [f"Abode search benchmark {report['started']}: {report['listings']:,} listings, "
             f"{report['workers']} gunicorn workers ({report['worker_class']}), nproc {m['nproc']}, "
             f"{report['duration']:g} s per phase, load: {m['load_generator']}",
             f"  {m['cpu']}; MariaDB {m['mariadb']} (buffer pool {m['innodb_buffer_pool_mb']} MiB); "
             f"Python {m['python']}", "",
             f"{'phase':<18}{'clients':>8}{'req/s':>10}{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}{'max ms':>9}"
             f"{'requests':>10}{'non-2xx':>9}{'errors':>8}"]
    for p in report["phases"]:
        lines.append(f"{p['name']:<18}{p['clients']:>8}{p['rps']:>10.1f}{p['p50_ms']:>9.2f}{p['p95_ms']:>9.2f}"
                     f"{p['p99_ms']:>9.2f}{p['max_ms']:>9.1f}{p['requests']:>10}{p['non_2xx']:>9}{p['errors']:>8}"
                     + ("  (paths repeated)" if p["repeated"] and p["name"] == "search uncached" else ""))
    if report["shapes"]:
        lines += ["", f"{'uncached shape, 1 client':<26}{'n':>4}{'p50 ms':>9}{'p95 ms':>9}{'max ms':>9}"
                      f"{'avg total':>11}  slowest"]
        lines += [f"{s['shape']:<26}{s['samples']:>4}{s['p50_ms']:>9.1f}{s['p95_ms']:>9.1f}{s['max_ms']:>9.1f}"
                  f"{s['mean_total'] if s['mean_total'] is not None else '-':>11}  {s['slowest_path']}"
                  for s in report["shapes"]]
    verdict = {True: "PASS", False: "MISS"}
    lines += ["", "targets:",
              f"  uncached search p95, 1 client: {t['uncached_p95_ms']:.1f} ms "
              f"(< {t['uncached_p95_target_ms']:g} ms) {verdict[t['uncached_p95_ok']]}",
              f"  cached search req/s, {report['concurrency']} clients: {t['cached_share_of_bare']:.0%} of bare "
              f"(>= {t['cached_share_target']:.0%}) {verdict[t['cached_share_ok']]}"]
    return "\n".join(lines) + "\n"


def run(args: argparse.Namespace) -> dict:
    """Prepare the data, serve the app, measure every phase; the report."""
    cache = redis.Redis.from_url(args.redis_url, socket_timeout=5)
    cache.ping()
    report = {"started": datetime.now().isoformat(timespec="seconds"), "listings": args.listings,
              "workers": args.workers, "worker_class": args.worker_class, "threads": args.threads,
              "concurrency": args.concurrency, "duration": args.duration}
    report["seed"] = prepare_database(args)
    report["counts"] = bench_seed.table_counts(args.database_url)
    restore = size_buffer_pool(args) if args.buffer_pool_mb else None
    try:
        report["machine"] = machine(args)
        mix = SearchMix(bench_seed.places(args.database_url), random.Random(args.seed + 1))
        with Server(args) as base:
            cache.flushdb()
            fetch_all(base, [BARE_PATH] * 20)
            run_python("warm-up", base, mix.mixed(max(200, int(args.warmup * 100))), 2, args.warmup)
            report["phases"] = [p.as_dict() for p in run_phases(args, base, mix, cache)]
            report["shapes"] = shape_breakdown(args, base, mix, cache) if args.shape_samples > 0 else []
    finally:
        restore_buffer_pool(args, restore)
    report["targets"] = targets([PhaseResult(**p) for p in report["phases"]], args.concurrency)
    return report


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    report = run_and_report(args, run, render, "search")
    bad = sum(p["non_2xx"] + p["errors"] for p in report["phases"])
    missed = not (report["targets"]["uncached_p95_ok"] and report["targets"]["cached_share_ok"])
    if bad:
        logger.error("%s requests failed or answered non-2xx", bad)
        return 1
    return 2 if args.check_targets and missed else 0


if __name__ == "__main__":
    sys.exit(main())
