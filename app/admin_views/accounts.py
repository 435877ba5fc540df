"""Dashboard views of people and content: users, listings, reviews, the audit log.

Every list is read-only; each action calls the feature's service with the signed-in admin as the actor, and the
service audits the change in its own transaction. A rule the service enforces (the last admin, bookings ahead of a
deleted listing) comes back as a DomainError and is shown as a danger flash: that row is unchanged, nothing is
audited. Bulk actions handle each selected row in its own transaction.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable

from flask import flash, redirect, request, url_for
from flask_admin import Admin, expose
from flask_admin.actions import action
from flask_admin.contrib.sqla.filters import FilterEqual
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import SubmitField, TextAreaField
from wtforms.validators import Length

from ..admin import AdminModelView, RowAction, RowLink
from ..blueprints.auth import services as auth
from ..blueprints.listings import services as listings
from ..blueprints.reviews import services as reviews
from ..errors import DomainError
from ..extensions import db
from ..models import AuditEntry, Listing, Review, User
from ..models.listing import LISTING_STATUSES

logger = logging.getLogger(__name__)


def masked_phone(phone: str | None) -> str:
    """A phone number with all but its last two digits hidden ("" when there is none)."""
    if not phone:
        return ""
    return "•" * max(len(phone) - 2, 0) + phone[-2:]


def _actor() -> User:
    return current_user._get_current_object()


def apply_each(rows: Iterable, change: Callable, label: Callable, done: str) -> None:
    """Run `change(row)` for each row, one transaction each: a DomainError flashes danger for that row (which the
    service left unchanged); the rows that changed are counted in one success flash."""
    changed = 0
    for row in rows:
        try:
            change(row)
            changed += 1
        except DomainError as error:
            flash(f"{label(row)}: {error.message}", "danger")
    if changed:
        flash(f"{done}: {changed}.", "success")


class AccountsView(AdminModelView):
    """Shared by this area's lists: the selected rows by id."""

    def selected(self, ids: list[str]) -> list:
        rows = [db.session.get(self.model, int(row_id)) for row_id in ids if str(row_id).isdigit()]
        return [row for row in rows if row is not None]


class UsersView(AccountsView):
    """Accounts: suspend, reinstate, promote to admin (auth/services.py set_active, set_role)."""

    column_list = ("id", "email", "name", "role", "is_active", "phone", "created_at")
    column_details_list = ("id", "email", "name", "role", "is_active", "phone", "preferred_currency",
                           "preferred_language", "last_login_at", "created_at")
    column_searchable_list = ("email", "name")
    column_filters = ("role", "is_active", "created_at")
    column_formatters = {"phone": lambda _view, _context, user, _name: masked_phone(user.phone)}
    column_formatters_detail = column_formatters
    column_default_sort = ("id", True)
    can_export = False
    column_extra_row_actions = [
        RowAction("suspend", "Suspend", shown=lambda user: user.is_active, style="outline-danger"),
        RowAction("reactivate", "Reactivate", shown=lambda user: not user.is_active),
        RowAction("promote", "Promote", shown=lambda user: user.role != "admin"),
    ]

    @action("suspend", "Suspend", "Suspend the selected accounts? They are signed out at once.")
    def action_suspend(self, ids: list[str]) -> None:
        apply_each(self.selected(ids), lambda user: auth.set_active(user, False, actor=_actor()),
                   lambda user: user.email, "Suspended")

    @action("reactivate", "Reactivate", "Reactivate the selected accounts?")
    def action_reactivate(self, ids: list[str]) -> None:
        apply_each(self.selected(ids), lambda user: auth.set_active(user, True, actor=_actor()),
                   lambda user: user.email, "Reactivated")

    @action("promote", "Promote to admin", "Make the selected accounts admins?")
    def action_promote(self, ids: list[str]) -> None:
        apply_each(self.selected(ids), lambda user: auth.set_role(user, "admin", actor=_actor()),
                   lambda user: user.email, "Promoted to admin")


class ListingsView(AccountsView):
    """Listings: delete (refused while bookings lie ahead), unpublish (a moderation take-down: bookings made stand)
    and restore (listings/services.py)."""

    column_list = ("id", "title", "city", "host.email", "status", "deleted_at", "created_at")
    column_details_list = ("id", "title", "city", "state", "country", "host.email", "status", "property_type",
                           "max_guests", "deleted_at", "created_at")
    column_labels = {"host.email": "Host"}
    column_searchable_list = ("title",)
    column_filters = ("city", "host.email",
                      FilterEqual(Listing.status, "Status", options=[(status, status) for status in LISTING_STATUSES]))
    column_default_sort = ("id", True)
    can_export = False
    column_extra_row_actions = [
        RowAction("delete_listing", "Delete", shown=lambda listing: listing.status != "deleted",
                  style="outline-danger"),
        RowAction("unpublish", "Unpublish", shown=lambda listing: listing.status == "active"),
        RowAction("restore", "Restore", shown=lambda listing: listing.status != "active"),
    ]

    @action("delete_listing", "Delete", "Delete the selected listings? They leave search at once.")
    def action_delete(self, ids: list[str]) -> None:
        apply_each(self.selected(ids), lambda listing: listings.delete_listing(listing, actor=_actor()),
                   lambda listing: f"Listing {listing.id}", "Deleted")

    @action("unpublish", "Unpublish",
            "Unpublish the selected listings? They leave search and cannot be booked; bookings made stand.")
    def action_unpublish(self, ids: list[str]) -> None:
        apply_each(self.selected(ids), lambda listing: listings.unpublish_listing(listing, actor=_actor()),
                   lambda listing: f"Listing {listing.id}", "Unpublished")

    @action("restore", "Restore", "Restore the selected listings to search?")
    def action_restore(self, ids: list[str]) -> None:
        apply_each(self.selected(ids), lambda listing: listings.restore_listing(listing, actor=_actor()),
                   lambda listing: f"Listing {listing.id}", "Restored")


class HideForm(FlaskForm):
    """Why a review is hidden (kept on the review and in the audit log)."""

    reason = TextAreaField("Reason", validators=[Length(max=reviews.HIDE_REASON_MAX_LENGTH)])
    submit = SubmitField("Hide review")


class ReviewsView(AccountsView):
    """Reviews: hide with a reason (a small form per review) and unhide (reviews/services.py)."""

    column_list = ("id", "listing.title", "author.email", "rating", "hidden", "hidden_reason", "created_at")
    column_details_list = ("id", "listing.title", "author.email", "rating", "comment", "response_body",
                           "hidden_at", "hidden_reason", "created_at")
    column_labels = {"listing.title": "Listing", "author.email": "Author", "hidden_reason": "Reason"}
    column_formatters = {"hidden": lambda _view, _context, review, _name: "yes" if review.is_hidden else "no"}
    column_filters = ("rating", "hidden_at")
    column_default_sort = ("id", True)
    can_export = False
    column_extra_row_actions = [
        RowLink(".hide_view", "Hide…", shown=lambda review: not review.is_hidden),  # a reason is asked first
        RowAction("unhide", "Unhide", shown=lambda review: review.is_hidden),
    ]

    @action("unhide", "Unhide", "Show the selected reviews again?")
    def action_unhide(self, ids: list[str]) -> None:
        apply_each(self.selected(ids), lambda review: reviews.unhide_review(review.id, admin=_actor()),
                   lambda review: f"Review {review.id}", "Shown again")

    @expose("/hide/", methods=("GET", "POST"))
    def hide_view(self):
        """GET: the reason form for one review; POST: hide it (CSRF-checked) and go back to the list."""
        review = db.session.get(Review, request.args.get("id", type=int) or 0)
        if review is None:
            flash("Review not found.", "danger")
            return redirect(url_for(".index_view"))
        form = HideForm()
        if form.validate_on_submit():
            try:
                reviews.hide_review(review.id, admin=_actor(), reason=form.reason.data)
                flash(f"Review {review.id} hidden.", "success")
                return redirect(url_for(".index_view"))
            except DomainError as error:
                flash(f"Review {review.id}: {error.message}", "danger")
        return self.render("admin/accounts_hide.html", review=review, form=form)


class AuditView(AdminModelView):
    """The audit log, newest first: read only, no actions (nothing in the app rewrites it)."""

    column_list = ("created_at", "actor.email", "action", "target_type", "target_id", "changes", "request_id",
                   "ip_address")
    column_labels = {"actor.email": "Actor"}
    column_filters = ("actor.email", "action", "target_type", "target_id", "created_at")
    column_default_sort = [("created_at", True), ("id", True)]
    can_export = False


def register(admin: Admin, models) -> None:
    """Add this area's views to `admin` (`models`: the Flask-SQLAlchemy extension the views query)."""
    admin.add_view(UsersView(User, models, name="Users", endpoint="admin_users", url="/admin/users"))
    admin.add_view(ListingsView(Listing, models, name="Listings", endpoint="admin_listings", url="/admin/listings"))
    admin.add_view(ReviewsView(Review, models, name="Reviews", endpoint="admin_reviews", url="/admin/reviews"))
    admin.add_view(AuditView(AuditEntry, models, name="Audit log", endpoint="admin_audit", url="/admin/audit"))
