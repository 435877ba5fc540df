"""Notification pages: the notification centre, its "Mark as read" buttons, and the unread badge every page shows."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user

from ...authz import login_required
from ...navigation import safe_next
from ...pagination import page_args
from . import bp, queries, services
from .forms import MarkReadForm


@bp.app_context_processor
def notification_badge_helper() -> dict:
    """`notification_badge()` for base.html: (unread count, newest id) of the signed-in user, None for anyone
    else; a function, so the one indexed query runs only on pages that show the navigation."""

    def notification_badge() -> tuple[int, int] | None:
        if not current_user.is_authenticated:
            return None
        return queries.badge(current_user.id)

    return {"notification_badge": notification_badge}


@bp.get("/notifications")
@login_required
def index():
    """The notification centre: newest first, unread ones highlighted, each linking to its page."""
    page, _per_page = page_args(request.args)
    result = queries.list_notifications(current_user, unread=None, page=page, per_page=20)
    return render_template("notifications/index.html", result=result, form=MarkReadForm())


def _back() -> str:
    return safe_next(request.form.get("next"), url_for("notifications.index"))


@bp.post("/notifications/<int:notification_id>/read")
@login_required
def mark_read(notification_id: int):
    """Mark one notification read (another user's is 404), then back to the list."""
    if MarkReadForm().validate_on_submit():
        services.mark_read(current_user, notification_id)
    else:
        flash("The form expired; please try again.", "danger")
    return redirect(_back())


@bp.post("/notifications/read-all")
@login_required
def mark_all_read():
    """Mark every notification read, then back to the list."""
    if MarkReadForm().validate_on_submit():
        count = services.mark_all_read(current_user)
        flash(f"{count} notification(s) marked as read." if count else "Nothing was unread.", "success")
    else:
        flash("The form expired; please try again.", "danger")
    return redirect(_back())
