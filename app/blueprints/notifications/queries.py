"""What a user's notifications are: the list, the unread count and the list's version (for ETags), and what a
stream missed. Reads only; services.py writes."""

from __future__ import annotations

import hashlib

from sqlalchemy import case, func, select

from ...extensions import db
from ...models import Notification, User
from ...pagination import Page, paginate

# The most a resumed stream sends from the database before going live; an older gap is the list's to fill.
MAX_MISSED = 100


def list_notifications(user: User, *, unread: bool | None, page: int, per_page: int) -> Page:
    """One page of the user's notifications, newest first; `unread` True keeps the unread ones only, False the
    read ones, None all."""
    query = select(Notification).where(Notification.user_id == user.id)
    if unread is True:
        query = query.where(Notification.read_at.is_(None))
    elif unread is False:
        query = query.where(Notification.read_at.is_not(None))
    return paginate(query.order_by(Notification.id.desc()), page, per_page)


def badge(user_id: int) -> tuple[int, int]:
    """(unread count, the newest notification's id or 0) of a user, in one query on (user_id, read_at)."""
    unread, newest = db.session.execute(
        select(func.count(case((Notification.read_at.is_(None), 1))), func.max(Notification.id))
        .where(Notification.user_id == user_id)).one()
    return int(unread or 0), int(newest or 0)


def list_version(user: User, *args: object) -> str:
    """A strong ETag of the user's notification list as `args` (the query: unread, page, per_page) shows it,
    without building the page. The list changes only when a notification is added (total and newest id grow),
    removed (total falls) or read (the unread count falls: read_at is set once and never cleared), so those
    three numbers stand for every page of it."""
    total, unread, newest = db.session.execute(
        select(func.count(), func.count(case((Notification.read_at.is_(None), 1))), func.max(Notification.id))
        .where(Notification.user_id == user.id)).one()
    key = repr((1, user.id, args, total, unread, newest)).encode()
    return hashlib.sha256(key).hexdigest()[:32]


def missed(user_id: int, after_id: int) -> list[dict]:
    """The JSON of the user's notifications with an id above `after_id`, oldest first (at most MAX_MISSED, the
    newest of them): what a stream that resumes from `after_id` sends before going live."""
    from .schemas import dump_notification

    rows = db.session.scalars(select(Notification).where(Notification.user_id == user_id,
                                                         Notification.id > after_id)
                              .order_by(Notification.id.desc()).limit(MAX_MISSED)).all()
    return [dump_notification(row) for row in reversed(rows)]
