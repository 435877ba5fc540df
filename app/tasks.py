"""Background tasks on Celery (the Flask docs' pattern): email delivery and the every-minute `jobs run-due`.

`celery_init_app(app)` builds one Celery app per Flask app from `app.config["CELERY"]`; every task runs inside
that Flask app's context. With REDIS_URL the broker and the result backend are Redis
(`celery --app wsgi:celery worker`, `celery --app wsgi:celery beat`); without it tasks run inline, in the process
that calls them. Tasks get plain ids, never models: the database row is the truth, the message only a nudge.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from pathlib import Path

from celery import Celery, Task, shared_task
from flask import Flask

logger = logging.getLogger(__name__)

RUN_DUE_EVERY = timedelta(minutes=1)


def celery_settings(app: Flask) -> dict:
    """The CELERY config of `app` (broker and backend on REDIS_URL; eager without it); config may override keys."""
    redis_url = app.config.get("REDIS_URL")
    settings = {
        "broker_url": redis_url or "memory://",
        "result_backend": redis_url,
        "task_ignore_result": True,
        "task_always_eager": not redis_url,
        "task_eager_propagates": True,
        # An email task is acknowledged once it has run, and a worker takes one at a time: a worker that dies
        # mid-task leaves the message to another (the outbox row, not the message, says what is still owed).
        "task_acks_late": True,
        "task_reject_on_worker_lost": True,
        "worker_prefetch_multiplier": 1,
        "broker_connection_retry_on_startup": True,
        # A hand-over runs right after a commit, in the request: with Redis down it gives up quickly (the email
        # waits in the outbox for jobs run-due) instead of holding the request for kombu's default retries.
        "task_publish_retry_policy": {"max_retries": 2, "interval_start": 0, "interval_step": 0.2, "interval_max": 0.5},
        "broker_connection_timeout": 2,
        "worker_hijack_root_logger": False,
        "beat_schedule": {"jobs-run-due": {"task": "abode.run_due_jobs", "schedule": RUN_DUE_EVERY.total_seconds()}},
        "beat_schedule_filename": str(Path(app.instance_path) / "celerybeat-schedule"),
    }
    return {**settings, **app.config.get("CELERY", {})}


def celery_init_app(app: Flask) -> Celery:
    """Create the Celery app of `app`, store it in app.extensions["celery"] and return it."""

    class FlaskTask(Task):
        def __call__(self, *args, **kwargs):
            with app.app_context():
                return self.run(*args, **kwargs)

    celery_app = Celery(app.name, task_cls=FlaskTask)
    app.config["CELERY"] = celery_settings(app)
    celery_app.config_from_object(app.config["CELERY"])
    celery_app.set_default()
    app.extensions["celery"] = celery_app
    return celery_app


@shared_task(name="abode.deliver_emails", ignore_result=True)
def deliver_emails(outbox_ids: list[int]) -> int:
    """Deliver these outbox rows if they are still owed and due; returns how many were sent."""
    from .blueprints.notifications.delivery import deliver_ids

    return deliver_ids(outbox_ids).sent


@shared_task(name="abode.run_due_jobs", ignore_result=True)
def run_due_jobs() -> dict:
    """What `flask jobs run-due` does, at the real time (the beat schedule sends this every minute)."""
    from .jobs import run_due

    counts = run_due()
    logger.info("scheduled jobs ran: %s", counts)
    return counts
