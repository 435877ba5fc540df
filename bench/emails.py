"""Email benchmark: how many queued notification emails per second one or two workers deliver to a local SMTP server.

    .venv/bin/python bench/emails.py                       # 2000 emails, 2 deliverer processes, MariaDB
    .venv/bin/python bench/emails.py --workers 1 --emails 500
    .venv/bin/python bench/emails.py --via celery          # real `celery worker` processes, tasks on Redis

Seeds its own database with N pending outbox rows (and their users and notifications), starts an aiosmtpd server
on a free port, then starts --workers processes that deliver: `--via direct` runs deliver_due() in each (what
`jobs run-due` and the every-minute task run), `--via celery` starts `celery --app wsgi:celery worker --pool=solo`
processes and sends them abode.deliver_emails tasks of --chunk ids. Prints emails/s from the first worker's start
signal to the last email's arrival, checks every email arrived exactly once, and exits 1 if one did not (2 with
--check-target when emails/s is under the target). Named emails.py, not email.py: a script's folder comes first
on sys.path, and bench/email.py would hide the standard library's email package. See bench/README.md.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from aiosmtpd.controller import Controller  # noqa: E402
from sqlalchemy import create_engine, insert  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

logger = logging.getLogger("bench")

TARGET_PER_S = 50
DUMMY_SECRET = "bench-only-secret-not-for-production-0123456789"


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--emails", type=int, default=2000, help="emails to queue and deliver (default 2000)")
    parser.add_argument("--workers", type=int, default=2, help="deliverer processes, 1 or more (default 2)")
    parser.add_argument("--via", choices=("direct", "celery"), default="direct",
                        help="direct: deliver_due() in each process; celery: celery worker processes (needs Redis)")
    parser.add_argument("--chunk", type=int, default=20, help="outbox ids per task with --via celery (default 20)")
    parser.add_argument("--database-url", default="mysql+pymysql://root@127.0.0.1/abode_bench_email?charset=utf8mb4",
                        help="MariaDB URL; its database is DROPPED and re-created")
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/12", help="Redis DB for --via celery (flushed)")
    parser.add_argument("--check-target", action="store_true", help=f"exit 2 below {TARGET_PER_S} emails/s")
    parser.add_argument("--results-dir", default=str(BENCH / "results"), help="where the JSON report goes")
    parser.add_argument("--as-deliverer", action="store_true", help=argparse.SUPPRESS)  # a worker process's role
    args = parser.parse_args(argv)
    if args.emails < 1 or args.workers < 1 or args.chunk < 1:
        parser.error("--emails, --workers and --chunk must be at least 1")
    return args


class Counting:
    """aiosmtpd handler: counts Message-IDs; `done` is set once `expected` emails have arrived."""

    def __init__(self, expected: int) -> None:
        self.expected, self.ids, self.done, self.last_at = expected, Counter(), threading.Event(), 0.0

    async def handle_DATA(self, server, session, envelope) -> str:  # noqa: N802 (aiosmtpd's hook name)
        head = envelope.content.split(b"\r\n\r\n", 1)[0]
        for line in head.split(b"\r\n"):
            if line.lower().startswith(b"message-id:"):
                self.ids[line.split(b":", 1)[1].strip().decode()] += 1
        self.last_at = time.perf_counter()
        if sum(self.ids.values()) >= self.expected:
            self.done.set()
        return "250 OK"


def worker_env(args, smtp_port: int) -> dict[str, str]:
    """Production settings pointed at the bench database, the local SMTP server and (celery) Redis."""
    env = {**os.environ, "APP_CONFIG": "production", "DATABASE_URL": args.database_url, "SECRET_KEY": DUMMY_SECRET,
           "JWT_SECRET_KEY": DUMMY_SECRET[::-1], "DATA_ENCRYPTION_KEY": DUMMY_SECRET.upper(),
           "MAIL_SERVER": "127.0.0.1", "MAIL_PORT": str(smtp_port), "MAIL_TRANSPORT": "smtp", "LOG_LEVEL": "WARNING",
           "PYTHONUNBUFFERED": "1"}
    env.pop("REDIS_URL", None)
    if args.via == "celery":
        env["REDIS_URL"] = args.redis_url
    return env


def seed(args) -> list[int]:
    """Re-create the database, create the tables, and queue `--emails` pending outbox rows; returns their ids."""
    url = make_url(args.database_url)
    server = create_engine(url.set(database=""))  # the server, not the database (None would keep it)
    with server.begin() as conn:
        conn.exec_driver_sql(f"DROP DATABASE IF EXISTS `{url.database}`")
        conn.exec_driver_sql(f"CREATE DATABASE `{url.database}` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci")
    server.dispose()
    os.environ.update({"APP_CONFIG": "production", "DATABASE_URL": args.database_url, "SECRET_KEY": DUMMY_SECRET,
                       "JWT_SECRET_KEY": DUMMY_SECRET[::-1], "DATA_ENCRYPTION_KEY": DUMMY_SECRET.upper(),
                       "LOG_LEVEL": "WARNING"})
    os.environ.pop("REDIS_URL", None)
    from app import create_app
    from app.extensions import db
    from app.models import Notification, OutboxEmail, User

    app = create_app()
    with app.app_context():
        db.create_all()
        now = datetime.now(UTC).replace(tzinfo=None, microsecond=0) - timedelta(minutes=1)
        users = [{"id": n, "email": f"guest{n}@bench.example", "name": f"Guest {n}", "role": "guest",
                  "password_hash": "-", "created_at": now, "updated_at": now} for n in range(1, 101)]
        db.session.execute(insert(User), users)
        notes, rows = [], []
        for n in range(1, args.emails + 1):
            user = users[n % len(users)]
            data = {"booking_id": n, "listing_id": 1, "listing_title": f"Sea cabin {n}", "check_in": "2031-05-10",
                    "check_out": "2031-05-13", "nights": 3, "guests": 2, "guest_name": user["name"],
                    "host_name": "Hana Host", "role": "guest", "url": f"/bookings/{n}"}
            notes.append({"id": n, "user_id": user["id"], "type": "booking_confirmed", "data": data, "created_at": now,
                          "title": f"Your stay at Sea cabin {n} is confirmed", "body": "You are booked."})
            rows.append({"id": n, "notification_id": n, "user_id": user["id"], "to_address": user["email"],
                         "status": "pending", "attempts": 0, "next_try_at": now, "created_at": now})
        db.session.execute(insert(Notification), notes)
        db.session.execute(insert(OutboxEmail), rows)
        db.session.commit()
        db.engine.dispose()
    return [row["id"] for row in rows]


def deliverer_main() -> None:
    """A worker process of --via direct: build the app, say ready, wait for "go" on stdin, deliver, report."""
    from app import create_app
    from app.blueprints.notifications.delivery import deliver_due

    app = create_app()
    with app.app_context():
        print("ready", flush=True)  # noqa: T201 (the protocol with the parent process)
        sys.stdin.readline()
        done = deliver_due()
        print(json.dumps({"sent": done.sent, "retried": done.retried, "failed": done.failed}), flush=True)  # noqa: T201


def run_direct(args, env: dict) -> tuple[float, list[dict]]:
    """Start the deliverers, wait until each is ready, release them together; returns (start time, reports)."""
    procs = [subprocess.Popen([sys.executable, str(Path(__file__).resolve()), "--as-deliverer"], cwd=ROOT, env=env,
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True) for _ in range(args.workers)]
    for proc in procs:
        assert proc.stdout.readline().strip() == "ready", "a deliverer did not start"
    started = time.perf_counter()
    for proc in procs:
        proc.stdin.write("go\n")
        proc.stdin.flush()
    reports = []
    for proc in procs:
        out, _ = proc.communicate(timeout=600)
        reports.append(json.loads(out.strip().splitlines()[-1]) if proc.returncode == 0 else {"exit": proc.returncode})
    return started, reports


def run_celery(args, env: dict, ids: list[int], received: Counting) -> tuple[float, list[dict]]:
    """Start celery workers, send the tasks once they answer a ping; returns (start time, worker exit codes)."""
    import redis

    redis.Redis.from_url(args.redis_url).flushdb()
    from app import create_app

    celery = create_app(REDIS_URL=args.redis_url).extensions["celery"]
    log = open(Path(args.results_dir) / "emails-celery-workers.log", "w")  # noqa: SIM115 (closed below)
    procs = [subprocess.Popen([sys.executable, "-m", "celery", "--app", "wsgi:celery", "worker", "--pool=solo",
                               "--loglevel=WARNING", "-n", f"bench{n}@%h", "--without-gossip", "--without-mingle"],
                              cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
             for n in range(args.workers)]
    try:
        deadline = time.monotonic() + 60
        while len(celery.control.ping(timeout=0.5) or []) < args.workers and time.monotonic() < deadline:
            time.sleep(0.2)
        started = time.perf_counter()
        task = celery.tasks["abode.deliver_emails"]
        for at in range(0, len(ids), args.chunk):
            task.delay(ids[at:at + args.chunk])
        received.done.wait(600)
    finally:
        for proc in procs:
            proc.terminate()
        codes = [{"exit": proc.wait(timeout=60)} for proc in procs]
        log.close()
    return started, codes


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.as_deliverer:
        deliverer_main()
        return 0
    handler = logging.StreamHandler(sys.stdout)  # its own handler: the app's logging setup replaces the root's
    handler.setFormatter(logging.Formatter("%(asctime)s %(message)s"))
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    logger.propagate = False
    logging.getLogger("mail.log").setLevel(logging.WARNING)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))  # `timeout` or kill: the finally blocks stop the workers
    Path(args.results_dir).mkdir(parents=True, exist_ok=True)
    logger.info("seeding %s pending emails into %s", args.emails, make_url(args.database_url).database)
    ids = seed(args)
    received = Counting(args.emails)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    smtp = Controller(received, hostname="127.0.0.1", port=port)
    smtp.start()
    try:
        env = worker_env(args, port)
        logger.info("delivering with %s %s worker(s)", args.workers, args.via)
        if args.via == "direct":
            started, reports = run_direct(args, env)
        else:
            started, reports = run_celery(args, env, ids, received)
        received.done.wait(30)
    finally:
        smtp.stop()
    return report(args, received, started, reports)


def report(args, received: Counting, started: float, reports: list[dict]) -> int:
    """Print the figures and the checks, write the JSON, and return the exit status."""
    seconds = max(received.last_at - started, 1e-9)
    arrived = sum(received.ids.values())
    per_s = arrived / seconds
    twice = sum(1 for count in received.ids.values() if count > 1)
    checks = [(f"{len(received.ids)} of {args.emails} emails arrived", len(received.ids) == args.emails),
              (f"{twice} emails arrived more than once", twice == 0),
              (f"{per_s:.1f} emails/s >= {TARGET_PER_S}", per_s >= TARGET_PER_S)]
    print(f"\nemails  workers  via     seconds  emails/s\n{args.emails:>6}  {args.workers:>7}  {args.via:<6} "  # noqa: T201
          f"{seconds:>8.2f}  {per_s:>8.1f}\nworkers: {reports}")
    for text, ok in checks:
        print(f"{'PASS' if ok else 'FAIL'}  {text}")  # noqa: T201
    results = Path(args.results_dir)
    results.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
    (results / f"emails-{stamp}.json").write_text(json.dumps(
        {"emails": args.emails, "workers": args.workers, "via": args.via, "seconds": round(seconds, 3),
         "emails_per_s": round(per_s, 1), "arrived": arrived, "duplicates": twice, "workers_report": reports},
        indent=2))
    if not (checks[0][1] and checks[1][1]):
        return 1
    return 2 if args.check_target and not checks[2][1] else 0


if __name__ == "__main__":
    sys.exit(main())
