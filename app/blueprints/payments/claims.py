"""Claims: a job or request takes a payment, refund or payout row before it asks the provider about it.

A claim is a guarded UPDATE of the row's `claimed_until`, so of any number of processes (two `jobs run-due`, a
cancellation's own send, a worker) exactly one gets a row, and on every back end (no SKIP LOCKED needed). The
claim lasts a lease measured on the real clock, not the jobs' `--now`: it is about whether its holder is still
alive. A holder that died mid-call leaves a lease that runs out, and the next taker asks the provider again with
the row's stored idempotency key, so the provider answers with what it did the first time.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from sqlalchemy import or_, update

from ...extensions import db
from ...models import utcnow

logger = logging.getLogger(__name__)

LEASE = timedelta(minutes=5)  # far longer than a provider call (35 s at most)


def claim(model, row_id: int, *conditions, lease: timedelta = LEASE) -> bool:
    """Take row `row_id` of `model` for `lease` if nobody holds it and every condition holds; commits. True when
    this caller has it."""
    now = utcnow()
    result = db.session.execute(
        update(model).where(model.id == row_id, or_(model.claimed_until.is_(None), model.claimed_until <= now),
                            *conditions)
        .values(claimed_until=now + lease).execution_options(synchronize_session=False))
    db.session.commit()
    return result.rowcount == 1


def each_row(row_ids, work, what: str) -> int:
    """Run `work(row_id)` on each row on its own, counting the truthy answers; one row's trouble is logged and
    rolled back, and the others still run (the row stays owed for the next run)."""
    done = 0
    for row_id in row_ids:
        try:
            done += bool(work(row_id))
        except Exception:
            db.session.rollback()
            logger.exception("%s %s could not be handled; it will be tried again", what, row_id)
    return done


def is_free(model):
    """SQL: nobody holds the row now."""
    return or_(model.claimed_until.is_(None), model.claimed_until <= utcnow())
