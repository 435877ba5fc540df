"""A tiny run of the email benchmark (bench/emails.py): two deliverer processes, every email arrives once."""

from __future__ import annotations

import json
import subprocess
import sys
import uuid
from pathlib import Path

from sqlalchemy import create_engine
from sqlalchemy.engine import make_url

from ..platform.test_bench_search import _database_url  # skips unless MariaDB is there

ROOT = Path(__file__).resolve().parents[2]
SMOKE_DATABASE = f"abode_bench_email_smoke_{uuid.uuid4().hex[:8]}"  # parallel suites keep apart


def test_bench_emails_small_run_delivers_every_email_once(tmp_path):
    database_url = make_url(_database_url()).set(database=SMOKE_DATABASE).render_as_string(hide_password=False)
    command = [sys.executable, "bench/emails.py", "--emails", "60", "--workers", "2", "--database-url", database_url,
               "--results-dir", str(tmp_path)]
    try:
        run = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=120)
    finally:
        engine = create_engine(make_url(database_url).set(database=""))
        with engine.begin() as conn:
            conn.exec_driver_sql(f"DROP DATABASE IF EXISTS `{SMOKE_DATABASE}`")
        engine.dispose()
    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-3000:]
    assert "PASS  60 of 60 emails arrived" in run.stdout and "PASS  0 emails arrived more than once" in run.stdout
    report = json.loads(next(tmp_path.glob("emails-*.json")).read_text())
    assert report["arrived"] == 60 and report["duplicates"] == 0 and report["emails_per_s"] > 0
    assert sum(worker["sent"] for worker in report["workers_report"]) == 60
