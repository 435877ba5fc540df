"""One-click unsubscribe (RFC 8058) from the link in every notification email: no login, the signed token is the
proof. GET shows a confirmation page with a button; POST, from that button or from a mail program's one-click
List-Unsubscribe-Post, turns that type's email off."""

from __future__ import annotations

import logging

from flask import render_template

from ...errors import DomainError
from ...extensions import csrf
from . import bp, emails, services

logger = logging.getLogger(__name__)


def _page(token: str, read, *, done: bool):
    """The unsubscribe page for the (user, type) that `read(token)` gives, or its refusal (400/404)."""
    try:
        user, type_ = read(token)
    except DomainError as exc:
        return render_template("notifications/unsubscribe.html", error=exc.message), exc.status_code
    return render_template("notifications/unsubscribe.html", email=user.email, label=emails.TYPE_LABELS[type_],
                           done=done)


@bp.get("/notifications/unsubscribe/<token>")
def unsubscribe(token: str):
    """Ask to confirm: a link scanner following the link must not unsubscribe anyone."""
    return _page(token, emails.read_unsubscribe_token, done=False)


@bp.post("/notifications/unsubscribe/<token>")
@csrf.exempt  # a mail program's one-click POST carries no CSRF token; the signed token stands in for it
def confirm_unsubscribe(token: str):
    """Turn the email off (the page's button, or RFC 8058's POST with List-Unsubscribe=One-Click)."""
    return _page(token, services.unsubscribe, done=True)
