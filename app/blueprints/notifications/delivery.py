"""Email delivery from the outbox: hand committed rows to a deliverer, and deliver what is due.

A deliverer takes a batch of rows (MAIL_BATCH_SIZE) under their row locks (SELECT ... FOR UPDATE SKIP LOCKED on
MariaDB) and holds them across the SMTP sends until it commits the outcomes, so two deliverers (workers,
`jobs run-due`) never send one row. A deliverer that dies holding rows loses its connection, the database rolls
its transaction back and the next deliverer sends them. One that dies after the SMTP server accepted an email but
before its commit leaves the row pending, so it is sent once more, with the same Message-ID (emails.message_id):
at most a batch of emails can be sent twice, and only after a crash. SQLite has no row locks:
there, deliverers within one process take turns (one process is all SQLite supports).

Refusals (SMTP 4xx/5xx) and timeouts are tried again after MAIL_RETRY_MINUTES (1, 5, 30, 120, 720 by default);
after the last the row is `failed`, with last_error, for an admin (`flask mail failed`).
"""

from __future__ import annotations

import logging
import smtplib
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial

from flask import Flask, current_app
from flask_mail import Message
from sqlalchemy import select

from ...extensions import db
from ...mail_transport import open_transport
from ...models import Notification, NotificationPreference, OutboxEmail, PasswordReset, User, utcnow
from .emails import build_message, build_password_reset_message

logger = logging.getLogger(__name__)

_sqlite_turns = threading.Lock()  # SQLite: one deliverer at a time in this process
_inline: set[threading.Thread] = set()  # inline deliveries under way (MAIL_QUEUE "inline")
_inline_lock = threading.Lock()


@dataclass
class Delivered:
    """What a delivery pass did: emails sent, put back for a later try, failed for good, skipped (unwanted)."""

    sent: int = 0
    retried: int = 0
    failed: int = 0
    skipped: int = 0

    def add(self, outcome: str) -> None:
        setattr(self, outcome, getattr(self, outcome) + 1)


def enqueue(outbox_ids: list[int]) -> None:
    """Hand the committed outbox rows to a deliverer, as MAIL_QUEUE says: "celery" sends one task with their ids;
    "inline" delivers them in a thread of this process with an app context and a session of its own (the caller's
    session is in the middle of its commit), which the caller does not wait for: the request answers while the email
    goes out, and the process finishes sending before it exits (wait_for_inline); "none" leaves them for
    `jobs run-due`. Called from the session's after_commit event: plain ids only, no use of the caller's session.
    A lost hand-over loses nothing: the rows wait in the outbox."""
    app = current_app._get_current_object()
    mode = app.config["MAIL_QUEUE"]
    ids = [int(outbox_id) for outbox_id in outbox_ids]
    if mode == "celery":
        app.extensions["celery"].tasks["abode.deliver_emails"].delay(ids)
    elif mode == "inline":
        worker = threading.Thread(target=_deliver_in_thread, args=(app, ids), name="abode-mail-inline")
        with _inline_lock:
            _inline.add(worker)
        worker.start()


def wait_for_inline(timeout: float = 30) -> bool:
    """Wait until the inline deliveries this process started are done (a command that wants its emails out before
    it reports, a test). True when none is left running."""
    with _inline_lock:
        running = list(_inline)
    for worker in running:
        worker.join(timeout)
    return not any(worker.is_alive() for worker in running)


def _deliver_in_thread(app: Flask, ids: list[int]) -> None:
    try:
        with app.app_context():
            try:
                deliver_ids(ids)
            except Exception:  # the rows stay pending: jobs run-due sends them
                logger.exception("inline delivery of outbox rows %s failed", ids)
            finally:
                db.session.remove()
    finally:
        with _inline_lock:
            _inline.discard(threading.current_thread())


def deliver_due(now: datetime | None = None) -> Delivered:
    """Deliver every pending email whose next_try_at is at or before `now` (naive UTC; default the real time)."""
    return _deliver(now or utcnow(), None)


def deliver_ids(outbox_ids: list[int], now: datetime | None = None) -> Delivered:
    """Deliver these outbox rows, those still pending and due at `now` (another deliverer may have sent them)."""
    return _deliver(now or utcnow(), list(outbox_ids))


def _deliver(now: datetime, ids: list[int] | None) -> Delivered:
    done = Delivered()
    if ids == []:
        return done
    sqlite = db.engine.dialect.name == "sqlite"
    with open_transport() as transport:
        while True:
            if sqlite:
                with _sqlite_turns:
                    outcomes = _deliver_batch(transport, now, ids)
            else:
                outcomes = _deliver_batch(transport, now, ids)
            for outcome in outcomes:
                done.add(outcome)
            if not outcomes or transport.unreachable:  # a server that is down: the next pass tries again
                break
    if done.sent or done.retried or done.failed:
        logger.info("email delivery: %s", done)
    return done


def _claim(now: datetime, ids: list[int] | None) -> list[OutboxEmail]:
    """Lock the next MAIL_BATCH_SIZE due pending rows that no other deliverer holds, for this transaction.

    With ids, the rows are found by primary key: a scan of the status index would lock, for a moment, rows that
    another deliverer of other ids is after, and SKIP LOCKED would make it pass over them."""
    query = (select(OutboxEmail).where(OutboxEmail.status == "pending", OutboxEmail.next_try_at <= now)
             .limit(current_app.config["MAIL_BATCH_SIZE"]).with_for_update(skip_locked=True))
    if ids is None:
        query = query.order_by(OutboxEmail.next_try_at, OutboxEmail.id)
    else:
        query = query.where(OutboxEmail.id.in_(ids)).order_by(OutboxEmail.id)
        for dialect in ("mysql", "mariadb"):
            query = query.with_hint(OutboxEmail, "FORCE INDEX (PRIMARY)", dialect)
    return list(db.session.scalars(query))


def _unwanted(rows: list[OutboxEmail]) -> set[tuple[int, str]]:
    """(user id, type) of the rows' users who turned that type's email off since it was queued."""
    user_ids = {row.user_id for row in rows}
    return set(db.session.execute(select(NotificationPreference.user_id, NotificationPreference.type).where(
        NotificationPreference.user_id.in_(user_ids), NotificationPreference.email.is_(False))).all())


def _skip_reason(type_: str, user: User | None, unwanted: set[tuple[int, str]]) -> tuple[str, str] | None:
    """(status, reason) when the row must not be sent after all, else None."""
    if user is None or not user.is_active:
        return "failed", "skipped: the account is suspended or gone"
    if (user.id, type_) in unwanted:
        return "sent", f"skipped: the user turned {type_} emails off"
    return None


def _deliver_batch(transport, now: datetime, ids: list[int] | None) -> list[str]:
    """Claim a batch, send each email and record each outcome, in one transaction (one commit per batch, not per
    email); returns the outcomes, none when nothing is due."""
    try:
        rows = _claim(now, ids)
        if not rows:
            db.session.rollback()
            return []
        users = {user.id: user for user in db.session.scalars(
            select(User).where(User.id.in_({row.user_id for row in rows})))}
        notifications = {note.id: note for note in db.session.scalars(
            select(Notification).where(Notification.id.in_({row.notification_id for row in rows} - {None})))}
        resets = {reset.id: reset for reset in db.session.scalars(
            select(PasswordReset).where(PasswordReset.id.in_({row.password_reset_id for row in rows} - {None})))}
        unwanted = _unwanted(rows)
        outcomes = []
        for row in rows:
            if transport.unreachable:
                break  # the rest keep their place and time: no try was made
            user = users.get(row.user_id)
            if row.password_reset_id is not None:
                reset = resets[row.password_reset_id]
                skip = _reset_skip_reason(reset, user, now)
                compose = partial(build_password_reset_message, row, reset, user)
            else:
                notification = notifications[row.notification_id]
                skip = _skip_reason(notification.type, user, unwanted)
                compose = partial(build_message, row, notification, user)
            if skip:
                row.status, row.last_error = skip
                logger.info("outbox %s not sent (%s)", row.id, skip[1])
                outcomes.append("skipped")
            else:
                outcomes.append(_send(transport, row, compose, user, now))
        db.session.commit()
        return outcomes
    except BaseException:
        db.session.rollback()
        raise


def _reset_skip_reason(reset: PasswordReset, user: User | None, now: datetime) -> tuple[str, str] | None:
    """(status, reason) when a reset link's email must not be sent any more (its account, or the link, is done)."""
    if user is None or not user.is_active:
        return "failed", "skipped: the account is suspended or gone"
    if reset.used_at is not None or reset.expires_at <= now:
        return "sent", "skipped: the reset link was used or has expired"
    return None


def _send(transport, row: OutboxEmail, compose: Callable[[], Message], user: User, now: datetime) -> str:
    """Send the row's email (composed to the account's address now) and record the outcome on the row."""
    row.to_address = user.email
    row.attempts += 1
    try:
        transport.send(compose())
    except (smtplib.SMTPException, OSError) as exc:
        return _try_later(row, now, _describe(exc))
    except Exception as exc:  # a message that cannot be written: keep it for a fix, don't block the others
        logger.exception("outbox %s: the email could not be composed", row.id)
        return _try_later(row, now, f"compose: {type(exc).__name__}: {exc}")
    row.status, row.sent_at, row.last_error = "sent", utcnow(), None
    logger.info("outbox %s sent (notification %s, reset %s, try %s)", row.id, row.notification_id,
                row.password_reset_id, row.attempts)
    return "sent"


def _describe(exc: Exception) -> str:
    """The server's answer ("SMTP 451 4.3.0 try later"), or the error's name and text (timeouts, refusals)."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused) and exc.recipients:
        exc = smtplib.SMTPResponseException(*next(iter(exc.recipients.values())))
    if isinstance(exc, smtplib.SMTPResponseException):
        reply = exc.smtp_error.decode(errors="replace") if isinstance(exc.smtp_error, bytes) else str(exc.smtp_error)
        return f"SMTP {exc.smtp_code} {reply}"
    return f"{type(exc).__name__}: {exc}"


def _try_later(row: OutboxEmail, now: datetime, error: str) -> str:
    waits = current_app.config["MAIL_RETRY_MINUTES"]
    row.last_error = error[:255]
    if row.attempts > len(waits):
        row.status = "failed"
        logger.warning("outbox %s failed after %s tries: %s", row.id, row.attempts, row.last_error)
        return "failed"
    row.next_try_at = now + timedelta(minutes=waits[row.attempts - 1])
    logger.warning("outbox %s try %s refused, next at %s: %s", row.id, row.attempts, row.next_try_at,
                   row.last_error)
    return "retried"


def failed_emails(limit: int = 50) -> list[OutboxEmail]:
    """The most recent emails that failed for good (newest first), for an admin to look into."""
    query = (select(OutboxEmail).where(OutboxEmail.status == "failed")
             .order_by(OutboxEmail.next_try_at.desc(), OutboxEmail.id.desc()).limit(limit))
    return list(db.session.scalars(query))
