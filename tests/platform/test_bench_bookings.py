"""A tiny run of the bookings benchmark (bench/bookings.py): no 5xx, some 409s, and the audit finds nothing."""

from __future__ import annotations

import json
import subprocess
import sys
import uuid
from pathlib import Path

from sqlalchemy import create_engine
from sqlalchemy.engine import make_url

from ..platform.test_bench_search import _database_url, _redis_url  # they skip unless MariaDB and Redis are there

ROOT = Path(__file__).resolve().parents[2]
SMOKE_DATABASE = f"abode_bench_bookings_smoke_{uuid.uuid4().hex[:8]}"  # parallel suites keep apart


def _drop_smoke_database(database_url: str) -> None:
    engine = create_engine(make_url(database_url).set(database=None))
    try:
        with engine.begin() as conn:
            conn.exec_driver_sql(f"DROP DATABASE IF EXISTS `{SMOKE_DATABASE}`")
    finally:
        engine.dispose()


def test_bench_bookings_small_run_has_conflicts_no_5xx_and_a_clean_audit(tmp_path):
    database_url = make_url(_database_url()).set(database=SMOKE_DATABASE).render_as_string(hide_password=False)
    redis_url = _redis_url()
    command = [sys.executable, "bench/bookings.py", "--listings", "20", "--guests", "30", "--clients", "20",
               "--requests", "300", "--hot-listings", "1", "--workers", "2", "--database-url", database_url,
               "--redis-url", redis_url, "--results-dir", str(tmp_path)]
    try:
        run = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=180)
    finally:
        _drop_smoke_database(database_url)
    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-3000:]
    for line in ("PASS  0 5xx", "PASS  0 double bookings (audit)", "PASS  held_nights strings match night_holds",
                 "bookings/s", "overlapping active bookings"):
        assert line in run.stdout
    report = json.loads(next(tmp_path.glob("bookings-*.json")).read_text())
    rows = report["load"]["rows"]
    assert rows["all"]["requests"] == 300 and rows["all"]["server_errors"] == 0 and rows["all"]["failed"] == 0
    assert rows["hot"]["conflicts"] > 0  # the hot listing was fought over
    assert rows["free"]["created"] == rows["free"]["requests"] > 0
    assert report["audit"]["ok"] and all(check["found"] == 0 for check in report["audit"]["checks"])
    assert sum(report["audit"]["bookings"].values()) == rows["all"]["created"]
