"""Deliverers side by side and deliverers that die: two at once send each email once; one that dies holding a
row leaves it to the next, which sends it once; one that dies after the server accepted leaves a resend with
the same Message-ID; a real Celery worker process delivers what a commit hands it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest
from sqlalchemy import select

from app.blueprints.notifications.delivery import deliver_due
from app.extensions import db
from app.models import OutboxEmail

from ..support.smtp_server import smtp_server_fixture  # noqa: F401 (registers the smtp_server fixture)
from ..support.threads import in_thread
from .test_email import SITE, mail_app, outbox, paid_booking

ROOT = Path(__file__).resolve().parents[2]


def child_env(app, smtp_server) -> dict:
    """The environment of a child process that uses this test's database, Redis and SMTP server."""
    env = {**os.environ, "APP_CONFIG": "testing", "TEST_DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
           "MAIL_SERVER": "127.0.0.1", "MAIL_PORT": str(smtp_server.port), "MAIL_SUPPRESS_SEND": "false",
           "MAIL_TRANSPORT": "smtp", "SITE_URL": SITE, "LOG_LEVEL": "WARNING"}
    env.pop("REDIS_URL", None)
    if app.config.get("REDIS_URL"):
        env["REDIS_URL"] = app.config["REDIS_URL"]
    return env


def deliver_until_sent(row_id: int, rounds: int = 100) -> OutboxEmail:
    """Deliver until the row is sent: on MariaDB a dead deliverer's lock lasts until the server has noticed."""
    for _ in range(rounds):
        deliver_due()
        row = db.session.get(OutboxEmail, row_id, populate_existing=True)
        if row.status != "pending":
            return row
        time.sleep(0.1)
    return row


def test_two_deliverers_at_once_send_every_email_exactly_once(make_app, smtp_server):
    app = mail_app(make_app, smtp_server, MAIL_BATCH_SIZE=2)  # batches of two: three for two deliverers
    if db.engine.dialect.name == "sqlite":
        pytest.skip("SQLite has no row locks: deliverers take turns within one process")
    for _ in range(3):
        paid_booking()  # two emails each
    smtp_server.hold_until_two = True  # the first send waits until the other deliverer is mid-send too
    first, first_done = in_thread(app, deliver_due)
    second, second_done = in_thread(app, deliver_due)
    first.join(30)
    second.join(30)
    assert smtp_server.overlapped  # both deliverers held a row and were sending at the same moment
    rows = outbox()
    assert [row.status for row in rows] == ["sent"] * 6
    assert first_done[0].sent + second_done[0].sent == 6 and first_done[0].sent and second_done[0].sent
    assert Counter(email.message_id for email in smtp_server.emails) == {
        f"<outbox-{row.id}@abode.local>": 1 for row in rows}


def run_dying_deliverer(app, smtp_server, when: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "tests.support.dying_deliverer", when], cwd=ROOT,
                          env=child_env(app, smtp_server), capture_output=True, text=True, timeout=60)


def test_a_deliverer_that_dies_holding_an_email_leaves_it_to_the_next_which_sends_it_once(make_app, smtp_server):
    app = mail_app(make_app, smtp_server)
    paid_booking(instant_book=False)
    died = run_dying_deliverer(app, smtp_server, "before")
    assert died.returncode == 3, died.stdout[-2000:] + died.stderr[-3000:]
    [row] = outbox()
    assert row.status == "pending" and smtp_server.emails == []  # its claim died with it
    row = deliver_until_sent(row.id)
    assert (row.status, row.attempts) == ("sent", 1)
    assert [email.message_id for email in smtp_server.emails] == [f"<outbox-{row.id}@abode.local>"]


def test_a_deliverer_that_dies_after_the_server_accepted_is_followed_by_one_resend_with_the_same_message_id(
        make_app, smtp_server):
    app = mail_app(make_app, smtp_server)
    paid_booking(instant_book=False)
    died = run_dying_deliverer(app, smtp_server, "after")
    assert died.returncode == 3, died.stdout[-2000:] + died.stderr[-3000:]
    assert len(smtp_server.wait_for(1)) == 1
    [row] = outbox()
    row = deliver_until_sent(row.id)
    assert row.status == "sent"
    ids = [email.message_id for email in smtp_server.emails]
    assert ids == [f"<outbox-{row.id}@abode.local>"] * 2  # a receiving system can tell it is the same email
    assert deliver_due().sent == 0 and len(smtp_server.emails) == 2


def test_a_celery_worker_process_delivers_the_emails_a_commit_hands_it(make_app, smtp_server):
    if not os.environ.get("REDIS_URL"):
        pytest.skip("the Celery queue needs REDIS_URL")
    app = mail_app(make_app, smtp_server, MAIL_QUEUE="celery")
    worker = subprocess.Popen(
        [sys.executable, "-m", "celery", "--app", "wsgi:celery", "worker", "--pool=solo", "--concurrency=1",
         "--loglevel=WARNING", "--without-gossip", "--without-mingle", "--without-heartbeat"],
        cwd=ROOT, env=child_env(app, smtp_server), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        _booking, guest, host = paid_booking()  # the commit sends one task with both outbox ids
        emails = smtp_server.wait_for(2, timeout=60)
        assert sorted(email.rcpt_tos[0] for email in emails) == sorted([guest.email, host.email])
    finally:
        worker.send_signal(signal.SIGTERM)  # warm shutdown: finish the task at hand, then exit
        try:
            output, _ = worker.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            worker.kill()
            output, _ = worker.communicate()
    assert worker.returncode == 0, output[-4000:]
    db.session.expire_all()
    assert [row.status for row in db.session.scalars(select(OutboxEmail))] == ["sent", "sent"]


def test_the_every_minute_task_runs_what_jobs_run_due_runs(make_app, smtp_server):
    app = mail_app(make_app, smtp_server)
    celery = app.extensions["celery"]
    assert celery.conf.beat_schedule["jobs-run-due"] == {"task": "abode.run_due_jobs", "schedule": 60.0}
    assert celery.conf.task_acks_late and celery.conf.worker_prefetch_multiplier == 1
    paid_booking()
    counts = celery.tasks["abode.run_due_jobs"].apply().get()  # run here, as beat's message would be by a worker
    assert counts["emails_sent"] == 2 and counts["expired"] == 0 and len(smtp_server.wait_for(2)) == 2
