"""Work deferred until the current database transaction has committed.

A service that decides something with money in it (a cancellation owes a refund) writes the row that says so in
its transaction; the call to the provider that carries it out must not happen before that row is committed, nor at
all if the transaction rolls back. `after_commit(fn)` queues `fn` on the session; `commit()` commits and then runs
the queue; a rollback forgets it. A queued call that fails is logged: the row it was driven by stays owed, and
`jobs run-due` carries it out later.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from sqlalchemy import event
from sqlalchemy.orm import Session

from .extensions import db

logger = logging.getLogger(__name__)

_KEY = "abode.after_commit"


def after_commit(callback: Callable[[], object]) -> None:
    """Run `callback` once the current transaction is committed through `commit()`; never if it rolls back."""
    db.session().info.setdefault(_KEY, []).append(callback)


def commit() -> None:
    """Commit the session, then run what was queued with `after_commit`, each in a transaction of its own."""
    db.session.commit()
    while queued := db.session().info.pop(_KEY, None):
        for callback in queued:
            try:
                callback()
            except Exception:  # the row that asked for it is committed: jobs run-due will do it
                db.session.rollback()
                logger.exception("deferred work %s failed; it is owed and will be retried", callback)


@event.listens_for(Session, "after_rollback")
def _forget(session: Session) -> None:
    if not session.in_transaction():  # the whole transaction, not a savepoint inside it
        session.info.pop(_KEY, None)
