"""The email of a notification (and of a password reset link): its message (templates/notifications/email/<type>.html
and .txt, the subject, the Message-ID made from the outbox row, List-Unsubscribe headers) and the signed one-click
unsubscribe link it carries.

Emails are written without a request, so every link is SITE_URL + a path built from the URL map.
"""

from __future__ import annotations

import logging
import time
from email.utils import parseaddr

from flask import current_app, render_template
from flask_mail import Message
from itsdangerous import BadSignature, URLSafeSerializer

from ...errors import BadRequest, NotFoundError
from ...extensions import db
from ...models import NOTIFICATION_LABELS, NOTIFICATION_TYPES, Notification, OutboxEmail, PasswordReset, User
from ..auth import password_reset
from . import types

logger = logging.getLogger(__name__)

UNSUBSCRIBE_SALT = "abode.notifications.unsubscribe"
BAD_LINK = "This unsubscribe link is not valid. Open your profile to choose which emails you get."

# What each type's emails are, for "you get these because" and the unsubscribe page.
TYPE_LABELS = {type_: topic for type_, (_checkbox, topic) in NOTIFICATION_LABELS.items()}


def site_url(path: str) -> str:
    """The absolute address of a path of this site ("/bookings/3" -> "https://abode.example/bookings/3")."""
    return current_app.config["SITE_URL"] + path


def _path(endpoint: str, **values) -> str:
    return current_app.url_map.bind("").build(endpoint, values)


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt=UNSUBSCRIBE_SALT)


def unsubscribe_token(user_id: int, type_: str) -> str:
    """A signed token naming a user and a notification type; it never expires (old emails keep working)."""
    return _serializer().dumps({"u": user_id, "t": type_})


def unsubscribe_url(user_id: int, type_: str) -> str:
    """The absolute one-click unsubscribe address for this user and type."""
    return site_url(_path("notifications.unsubscribe", token=unsubscribe_token(user_id, type_)))


def read_unsubscribe_token(token: str) -> tuple[User, str]:
    """(user, type) a token names. Raises BadRequest (400) for a forged or damaged token, NotFoundError (404) when
    its account no longer exists."""
    try:
        payload = _serializer().loads(token)
    except BadSignature:
        raise BadRequest(BAD_LINK, code="invalid_token") from None
    if not isinstance(payload, dict) or payload.get("t") not in NOTIFICATION_TYPES or type(payload.get("u")) is not int:
        raise BadRequest(BAD_LINK, code="invalid_token")
    user = db.session.get(User, payload["u"])
    if user is None:
        raise NotFoundError("This account no longer exists.")
    return user, payload["t"]


def message_id(outbox_id: int) -> str:
    """The Message-ID of an outbox row's email: the same on every try, so a resend is recognisably one email."""
    domain = parseaddr(current_app.config["MAIL_DEFAULT_SENDER"])[1].rpartition("@")[2] or "abode.local"
    return f"<outbox-{outbox_id}@{domain}>"


class _Message(Message):
    """Flask-Mail's message, with header lines up to RFC 5322's 998 characters: folded at 78, List-Unsubscribe's
    long unbreakable URL would be rewritten as an RFC 2047 encoded word, which mail programs don't read as a URL."""

    def _message(self):
        msg = super()._message()
        msg.policy = msg.policy.clone(max_line_length=998)
        return msg


def _money_text(locale: str):
    """The templates' `money(value)`: a Money dict as text in the reader's locale."""
    return lambda value: types.money_text(value, locale)


def _compose(row: OutboxEmail, subject: str, template: str, context: dict, headers: dict | None = None) -> Message:
    """The message of `row` from templates/notifications/email/<template>.html and .txt."""
    message = _Message(subject=" ".join(subject.split()), recipients=[row.to_address],
                       body=render_template(f"notifications/email/{template}.txt", **context),
                       html=render_template(f"notifications/email/{template}.html", **context),
                       date=time.time(), extra_headers=headers)
    message.msgId = message_id(row.id)
    return message


def build_message(row: OutboxEmail, notification: Notification, user: User) -> Message:
    """The email owed by `row`: subject = the notification's title, an HTML and a text part, the link back to the
    page it is about, and one-click unsubscribe (RFC 8058) for its type."""
    type_ = notification.type
    unsubscribe_link = unsubscribe_url(user.id, type_)
    context = {"title": notification.title, "body": notification.body, "data": notification.data, "user": user,
               "link": site_url(notification.data.get("url") or "/"), "unsubscribe_url": unsubscribe_link,
               "preferences_url": site_url(_path("auth.profile")), "home_url": site_url("/"),
               "type_label": TYPE_LABELS[type_], "money": _money_text(user.preferred_language or "en")}
    headers = {"List-Unsubscribe": f"<{unsubscribe_link}>", "List-Unsubscribe-Post": "List-Unsubscribe=One-Click"}
    return _compose(row, notification.title, type_, context, headers)


def build_password_reset_message(row: OutboxEmail, reset: PasswordReset, user: User) -> Message:
    """The email of a password reset link: the link (its token derived again from the reset row), how long it
    works, and what to do when the reader did not ask for it. No unsubscribe: it is not a notification."""
    title = "Reset your Abode password"
    minutes = current_app.config["PASSWORD_RESET_MINUTES"]
    body = (f"Someone (we hope you) asked to set a new password for your Abode account. The link works once, for "
            f"{minutes} minutes; using it signs you out everywhere else.")
    context = {"title": title, "body": body, "user": user, "home_url": site_url("/"), "minutes": minutes,
               "link": site_url(_path("auth.reset_password", token=password_reset.token_for(reset)))}
    return _compose(row, title, "password_reset", context)
