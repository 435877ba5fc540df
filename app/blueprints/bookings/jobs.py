"""The scheduler's bookings jobs (`jobs run-due`): expire unpaid or unanswered requests, complete stays that ended.

Each booking moves on its own transaction under its listing's lock (services._change), so any number of runs may
overlap: a booking another run already moved is skipped.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy import select

from ...extensions import db
from ...models import Booking
from . import services, state

logger = logging.getLogger(__name__)


def expire_due(now: datetime) -> int:
    """Cancel every pending booking whose time ran out (unpaid, or unanswered by its host). Idempotent."""
    due = db.session.scalars(select(Booking.id).where(Booking.status == "pending", Booking.expires_at <= now)).all()
    db.session.rollback()
    return _each_due(due, lambda booking: state.cancel(booking, "expired", now), "expired")


def _each_due(booking_ids: list[int], apply, what: str) -> int:
    """Apply one transition to each booking on its own; how many took it. A booking that moved on meanwhile is
    skipped, and one booking's trouble must not stop the others."""
    done = 0
    for booking_id in booking_ids:
        try:
            services._change(booking_id, apply, what)
            done += 1
        except state.InvalidState:  # paid, answered or canceled meanwhile; or not yet 11:00 where the stay is
            continue
        except Exception:
            db.session.rollback()
            logger.exception("booking %s could not be %s; it will be tried again", booking_id, what)
    return done


def complete_due(now: datetime) -> int:
    """Complete every confirmed stay whose check-out time has come. Idempotent."""
    due = db.session.scalars(select(Booking.id).where(Booking.status == "confirmed",
                                                      Booking.check_out <= now.date() + timedelta(days=1))).all()
    db.session.rollback()
    return _each_due(due, lambda booking: state.complete(booking, now), "completed")
