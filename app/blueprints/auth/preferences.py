"""A user's email preferences per notification type (in-app notifications are always on).

The account owns them (the profile page and PATCH /api/v1/profile change them); notifications reads them before
writing an email to the outbox, and the one-click unsubscribe link in every email turns one off.
"""

from __future__ import annotations

from sqlalchemy import select

from ...extensions import db
from ...models import NOTIFICATION_LABELS, NOTIFICATION_TYPES, NotificationPreference, User
from ...upsert import upsert

# What each type of email is about, in the words the profile page shows beside its checkbox.
EMAIL_LABELS = {type_: checkbox for type_, (checkbox, _topic) in NOTIFICATION_LABELS.items()}


def wants_email(user: User, type_: str) -> bool:
    """True unless the user turned email of this type off (in-app notifications are always on)."""
    choice = db.session.scalar(select(NotificationPreference.email).where(
        NotificationPreference.user_id == user.id, NotificationPreference.type == type_))
    return choice is None or choice


def email_preferences(user: User) -> dict[str, bool]:
    """{type: email on?} for every notification type."""
    rows = db.session.execute(select(NotificationPreference.type, NotificationPreference.email).where(
        NotificationPreference.user_id == user.id)).all()
    chosen = dict(rows)
    return {type_: chosen.get(type_, True) for type_ in NOTIFICATION_TYPES}


def set_email_preferences(user: User, choices: dict[str, bool]) -> dict[str, bool]:
    """Turn email of the given types on or off for the user (in the caller's transaction; never commits). Returns
    the user's preferences after the change. Raises ValueError for an unknown type (the doors check first).

    Each choice is one upsert: two saves at once (a double click on "Unsubscribe", a mail program's one-click POST
    beside the reader's own) both find no row, and an insert would make the second fail on the primary key."""
    for type_ in choices:
        if type_ not in NOTIFICATION_TYPES:
            raise ValueError(f"unknown notification type {type_!r}")
    if choices:
        rows = [{"user_id": user.id, "type": type_, "email": bool(wanted)} for type_, wanted in sorted(choices.items())]
        db.session.execute(upsert(NotificationPreference.__table__, rows, ("user_id", "type"), replace=("email",)))
    return email_preferences(user)
