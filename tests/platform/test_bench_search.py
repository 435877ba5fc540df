"""A tiny run of the search benchmark (bench/search.py): it seeds, serves, measures, prints its table, all 2xx."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

import pymysql
import pytest
import redis
from sqlalchemy.engine import make_url

from ..support.workers import redis_url_for_worker

ROOT = Path(__file__).resolve().parents[2]
SMOKE_DATABASE = f"abode_bench_smoke_{uuid.uuid4().hex[:8]}"  # parallel suites on one server keep apart


def _database_url() -> str:
    url = make_url(os.environ.get("TEST_DATABASE_URL", ""))  # conftest has set it (SQLite when not given)
    if url.get_backend_name() not in ("mysql", "mariadb"):
        pytest.skip("the benchmark needs MariaDB: set TEST_DATABASE_URL to a mysql+pymysql:// URL")
    return url.set(database=SMOKE_DATABASE).render_as_string(hide_password=False)


def _redis_url() -> str:
    """The suite's own Redis db (under xdist the worker's; conftest set it): the benchmark flushes it, and the
    next test flushes it again. Without REDIS_URL, db 10 (or the worker's db derived from it)."""
    rendered = os.environ.get("REDIS_URL") or redis_url_for_worker("redis://127.0.0.1:6379/10")
    url = make_url(rendered)
    try:
        redis.Redis.from_url(rendered, socket_connect_timeout=2).ping()
    except redis.RedisError:
        pytest.skip(f"Redis is not reachable at {url.host}:{url.port}")
    return rendered


def _drop(database_url: str) -> None:
    url = make_url(database_url)
    with pymysql.connect(host=url.host, port=url.port or 3306, user=url.username or "root",
                         password=url.password or "", autocommit=True) as conn, conn.cursor() as cursor:
        cursor.execute(f"DROP DATABASE IF EXISTS `{SMOKE_DATABASE}`")


def test_bench_search_small_run_prints_figures_and_search_answers_200(tmp_path):
    database_url, redis_url = _database_url(), _redis_url()
    command = [sys.executable, "bench/search.py", "--listings", "300", "--duration", "1", "--concurrency", "2",
               "--warmup", "0.5", "--shape-samples", "2", "--no-wrk", "--database-url", database_url,
               "--redis-url", redis_url, "--results-dir", str(tmp_path), "--buffer-pool-mb", "0"]
    try:
        run = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=120)
    finally:
        _drop(database_url)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    for heading in ("phase", "bare", "search uncached", "search cached", "targets:", "uncached search p95"):
        assert heading in run.stdout
    report = json.loads(next(tmp_path.glob("search-*.json")).read_text())
    assert report["counts"]["listings"] == 300 and report["counts"]["night_holds"] > 0
    assert report["counts"]["listing_places"] >= 4 * 280  # the search keys are seeded with the listings
    phases = {(phase["name"], phase["clients"]): phase for phase in report["phases"]}
    assert set(phases) == {(name, clients) for name in ("bare", "search uncached", "search cached")
                           for clients in (1, 2)}
    for phase in phases.values():
        assert phase["requests"] > 0 and phase["non_2xx"] == 0 and phase["errors"] == 0, phase
    assert all(shape["non_200"] == 0 for shape in report["shapes"])
