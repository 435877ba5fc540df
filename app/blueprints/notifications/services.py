"""Notifications: `notify()` tells a user something, inside the transaction of the change it is about.

The in-app row and, when the user wants email of that type, an outbox row are added to the caller's session, so
they commit with the change or vanish with its rollback. Once the session commits, the new notifications are
published to open streams (live.py) and their emails handed to the worker (delivery.py); neither can happen for
a transaction that rolled back, and an email whose hand-over is lost still waits in the outbox for `jobs run-due`.
"""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy import event, update
from sqlalchemy.orm import Session

from ... import audit, transactions
from ...errors import Conflict, NotFoundError
from ...extensions import db
from ...locking import locked
from ...models import NOTIFICATION_TYPES, Notification, OutboxEmail, PasswordReset, User, utcnow
from ..auth.preferences import set_email_preferences, wants_email
from . import emails, types
from .schemas import dump_notification

logger = logging.getLogger(__name__)

_PENDING = "abode.notifications"  # session.info key: what to publish and deliver once the session commits


def notify(user: User, type_: str, data: dict) -> Notification:
    """Add a notification of `type_` for `user` about `data` (plain JSON values; see types.py) to the current
    transaction, with its email in the outbox unless the user turned that type's email off. Never commits.
    Raises ValueError for a type that does not exist."""
    if type_ not in NOTIFICATION_TYPES:
        raise ValueError(f"unknown notification type {type_!r}")
    data = {**data, "url": types.page_path(type_, data)}
    title, body = types.describe(type_, data, user.preferred_language or "en")
    notification = Notification(user_id=user.id, type=type_, title=title[:200], body=body, data=data,
                                created_at=utcnow())
    db.session.add(notification)
    db.session.flush()
    outbox = None
    if user.is_active and user.email and wants_email(user, type_):
        outbox = OutboxEmail(notification_id=notification.id, user_id=user.id, to_address=user.email,
                             next_try_at=notification.created_at, created_at=notification.created_at)
        db.session.add(outbox)
        db.session.flush()
    # Dumped now: after the commit the row is expired, and no SQL may run in the after_commit event.
    db.session().info.setdefault(_PENDING, []).append(
        (user.id, dump_notification(notification), outbox.id if outbox else None))
    logger.info("notification %s (%s) for user %s%s", notification.id, type_, user.id,
                f", email {outbox.id}" if outbox else "")
    return notification


def queue_password_reset_email(reset: PasswordReset, user: User) -> OutboxEmail:
    """Add the email of a password reset link to the current transaction's outbox (sent whatever the user's
    notification choices: it is not a notification). Never commits; returns the row."""
    outbox = OutboxEmail(password_reset_id=reset.id, user_id=user.id, to_address=user.email,
                         next_try_at=reset.created_at, created_at=reset.created_at)
    db.session.add(outbox)
    db.session.flush()
    db.session().info.setdefault(_PENDING, []).append((user.id, None, outbox.id))
    logger.info("password reset %s for user %s, email %s", reset.id, user.id, outbox.id)
    return outbox


@event.listens_for(Session, "after_commit")
def _after_commit(session: Session) -> None:
    """Publish what the committed transaction notified and hand its emails to the worker. No SQL may run here:
    each step gets plain values (the notification's JSON, outbox ids)."""
    pending = session.info.pop(_PENDING, None)
    if not pending:
        return
    from . import delivery, live

    try:
        live.publish([(user_id, payload) for user_id, payload, _outbox_id in pending if payload is not None])
    except Exception:  # a stream that misses it still finds it in the list; the commit stands
        logger.exception("publishing %s notification(s) failed", len(pending))
    emails = [outbox_id for _user_id, _payload, outbox_id in pending if outbox_id]
    if emails:
        try:
            delivery.enqueue(emails)
        except Exception:  # the rows are committed: the next worker pass or jobs run-due sends them
            logger.exception("handing %s email(s) to the worker failed; they wait in the outbox", len(emails))


@event.listens_for(Session, "after_rollback")
def _forget(session: Session) -> None:
    if not session.in_transaction():
        session.info.pop(_PENDING, None)


def mark_read(user: User, notification_id: int) -> Notification:
    """Mark one of the user's notifications read (again is fine: the first read time stays). Returns it.
    Raises NotFoundError for an unknown id or another user's notification."""
    notification = db.session.get(Notification, notification_id)
    if notification is None or notification.user_id != user.id:
        raise NotFoundError("Notification not found.")
    if notification.read_at is None:
        notification.read_at = utcnow()
        db.session.commit()
        logger.info("notification %s read by user %s", notification.id, user.id)
    return notification


def mark_all_read(user: User) -> int:
    """Mark every unread notification of the user read; returns how many were."""
    count = db.session.execute(update(Notification).where(Notification.user_id == user.id,
                                                          Notification.read_at.is_(None))
                               .values(read_at=utcnow())).rowcount
    db.session.commit()
    if count:
        logger.info("user %s marked %s notification(s) read", user.id, count)
    return count


def unsubscribe(token: str) -> tuple[User, str]:
    """Turn off email of the token's type for the token's user (no login: the signature is the proof). Returns
    (user, type); doing it twice is harmless. Raises what read_unsubscribe_token raises."""
    user, type_ = emails.read_unsubscribe_token(token)
    set_email_preferences(user, {type_: False})
    db.session.commit()
    logger.info("user %s unsubscribed from %s emails", user.id, type_)
    return user, type_


class EmailNotFailed(Conflict):
    code = "email_not_failed"


def resend(outbox_id: int, *, actor: User, now: datetime | None = None) -> OutboxEmail:
    """An admin sends a failed email again: the row is pending once more, due now, its tries counted afresh, and
    audited (email.resend) in that transaction; once committed it goes to a deliverer (delivery.enqueue, as a
    new email does). Raises NotFoundError, EmailNotFailed (nothing changed, nothing audited)."""
    from . import delivery

    now = now or utcnow()
    try:
        row = locked(OutboxEmail, outbox_id)
        if row is None:
            raise NotFoundError("Email not found.")
        if row.status != "failed":
            raise EmailNotFailed(f"Email {outbox_id} is {row.status}: only a failed email can be sent again.")
        audit.record(actor, "email.resend", "email", row.id,
                     {"status": (row.status, "pending"), "attempts": (row.attempts, 0),
                      "next_try_at": (row.next_try_at, now)})
        row.status, row.attempts, row.next_try_at = "pending", 0, now
        transactions.after_commit(lambda: delivery.enqueue([outbox_id]))
        transactions.commit()
    except Exception:
        db.session.rollback()
        raise
    logger.info("outbox %s resent by user %s", outbox_id, actor.id)
    return row
