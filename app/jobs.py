"""Every job that is due at a given instant, in one function: `flask jobs run-due` and the scheduler's
every-minute task (app/tasks.py) both call run_due(), so they can never drift apart."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

logger = logging.getLogger(__name__)


def run_due(now: datetime | None = None) -> dict[str, int]:
    """Expire unpaid or unanswered bookings, complete finished stays, ask the provider about payments whose outcome
    is unknown, send owed refunds and due payouts, purge expired tokens, deliver the emails the outbox holds.
    `now` is an aware instant (default: the real time). Returns {job: rows acted on}. Idempotent, and safe to run
    in parallel: every row is claimed before it is acted on."""
    from .blueprints.auth.tokens import purge_expired
    from .blueprints.bookings.services import complete_due, expire_due
    from .blueprints.notifications.delivery import deliver_due
    from .blueprints.payments.payouts import pay_payouts
    from .blueprints.payments.reconcile import reconcile_payments
    from .blueprints.payments.refunds import retry_refunds

    now = now or datetime.now(UTC)
    utc = now.astimezone(UTC).replace(tzinfo=None)
    counts = {"expired": expire_due(utc), "completed": complete_due(utc), "reconciled": reconcile_payments(),
              "refunded": retry_refunds(utc), "paid": pay_payouts(utc), "purged": purge_expired(utc)}
    emails = deliver_due(utc)  # last: the jobs above may have queued emails of their own
    counts.update({"emails_sent": emails.sent, "emails_retried": emails.retried, "emails_failed": emails.failed,
                   "emails_skipped": emails.skipped})
    return counts
