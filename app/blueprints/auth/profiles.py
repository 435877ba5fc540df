"""Profiles: the details, preferences and photo a user changes about themselves, and becoming a host."""

from __future__ import annotations

import logging
from typing import IO

from flask import current_app

from ... import storage
from ...errors import ValidationFailed
from ...extensions import db
from ...models import User
from .preferences import set_email_preferences

logger = logging.getLogger(__name__)

AVATAR_THUMB_WIDTH = 256

KEEP = object()  # update_profile: leave this value as it is


def update_profile(user: User, *, photo: IO[bytes] | None = None, name: str | object = KEEP,
                   phone: str | None | object = KEEP, bio: str | None | object = KEEP,
                   preferred_currency: str | object = KEEP, preferred_language: str | object = KEEP,
                   notification_emails: dict[str, bool] | object = KEEP) -> User:
    """Apply name, phone, bio, preferred_currency, preferred_language, email notification choices ({type: on?})
    and an optional photo, all or nothing.

    Takes values as auth.schemas.ProfileUpdateSchema loads them (trimmed and checked; None clears phone or bio);
    a value left out is kept. Returns the user. Raises PayloadTooLarge, UnsupportedMediaType.
    """
    changes = {"name": name, "phone": phone, "bio": bio, "preferred_currency": preferred_currency,
               "preferred_language": preferred_language}
    for key, value in changes.items():
        if value is not KEEP:
            setattr(user, key, value)
    old_key, new_key = user.avatar_key, None
    try:
        if notification_emails is not KEEP:
            set_email_preferences(user, notification_emails)
        if photo is not None:
            new_key = storage.save_image(photo, kind="avatars", thumbnail_width=AVATAR_THUMB_WIDTH,
                                         max_bytes=current_app.config["AVATAR_MAX_BYTES"],
                                         max_edge=current_app.config["AVATAR_MAX_EDGE"], field="photo").key
            user.avatar_key = new_key
        db.session.commit()
    except Exception:
        db.session.rollback()
        storage.delete_image(new_key)  # nothing of a failed change is kept
        raise
    if new_key is not None:
        storage.delete_image(old_key)
    logger.info("user %s updated their profile", user.id)
    return user


def set_avatar(user: User, file: IO[bytes] | None) -> User:
    """Store `file` as the user's profile photo and return the user; `file` None is a request that attached none.
    Raises ValidationFailed, PayloadTooLarge, UnsupportedMediaType."""
    if file is None:
        raise ValidationFailed({"photo": ["Attach an image in the multipart field 'photo'."]})
    return update_profile(user, photo=file)


def become_host(user: User) -> User:
    """Make a guest a host (hosts can still book); admins keep their role. Returns the user."""
    if user.role == "guest":
        user.role = "host"
        db.session.commit()
        logger.info("user %s became a host", user.id)
    return user
