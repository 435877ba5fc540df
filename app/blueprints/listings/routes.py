"""HTML pages for listings: the host's dashboard, the listing form, the calendar and the public listing page."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import date, timedelta

from flask import flash, redirect, render_template, request, url_for

from ... import cancellation, clock
from ...authz import current_account, host_required
from ...errors import DomainError, ValidationFailed
from ...forms_util import show_error
from ...models import Property
from ...pagination import page_args
from . import bp, calendar, services
from .forms import (
    CALENDAR_ERROR_FIELDS,
    LISTING_ERROR_FIELDS,
    CalendarForm,
    ConfirmForm,
    ListingForm,
    listing_form_data,
    show_service_error,
)

logger = logging.getLogger(__name__)

DASHBOARD_PER_PAGE = 12
CHECK_IN_TIME, CHECK_OUT_TIME = "15:00", "11:00"


@bp.get("/host/listings")
@host_required
def index():
    """My listings: the host's dashboard with a card per listing."""
    page, _per_page = page_args(request.args)
    result = services.list_host_listings(current_account(), page, DASHBOARD_PER_PAGE)
    return render_template("listings/index.html", result=result)


def save_listing(form: ListingForm, save: Callable[[dict], Property]) -> Property | None:
    """Validate a posted listing form and `save` its data; None (errors beside the fields) when that fails.

    When the form itself is invalid, the service's checks still run, so every problem shows at once.
    """
    if not form.is_submitted():
        return None
    valid = form.validate()
    try:
        if valid:
            return save(form.to_data())
        services.validate_listing({**services.DEFAULTS, **form.to_data()})
    except DomainError as exc:
        show_error(form, exc, LISTING_ERROR_FIELDS, only_new=not valid)
    return None


@bp.route("/host/listings/new", methods=["GET", "POST"])
@host_required
def new():
    """Create a listing; then on to its photos."""
    form = ListingForm(currency=current_account().preferred_currency)
    listing = save_listing(form, lambda data: services.create_listing(host=current_account(), data=data))
    if listing is not None:
        flash(f"“{listing.title}” is live. Add a few photos so guests can see it.", "success")
        return redirect(url_for(".photos", listing_id=listing.id))
    return render_template("listings/new.html", form=form)


@bp.route("/host/listings/<int:listing_id>/edit", methods=["GET", "POST"])
@host_required
def edit(listing_id: int):
    """Change a listing's details."""
    listing = services.get_managed_listing(listing_id, current_account())
    form = ListingForm() if request.method == "POST" else ListingForm(data=listing_form_data(listing))
    if save_listing(form, lambda data: services.update_listing(listing, actor=current_account(), data=data)):
        flash(f"“{listing.title}” is saved.", "success")
        return redirect(url_for(".index"))
    return render_template("listings/edit.html", form=form, listing=listing)


@bp.post("/host/listings/<int:listing_id>/delete")
@host_required
def delete(listing_id: int):
    """Delete a listing (refused while it has upcoming bookings)."""
    listing = services.get_managed_listing(listing_id, current_account())
    if ConfirmForm().validate_on_submit():
        try:
            services.delete_listing(listing, actor=current_account())
        except DomainError as exc:
            flash(exc.message, "danger")
        else:
            flash(f"“{listing.title}” was deleted.", "success")
    return redirect(url_for(".index"))


@bp.get("/listings/<int:listing_id>")
def detail(listing_id: int):
    """The public page of a listing."""
    listing = services.get_listing(listing_id)
    return render_template("listings/detail.html", listing=listing,
                           policy_summary=cancellation.summary(listing.cancellation_policy),
                           can_manage=services.can_manage(current_account(), listing),
                           check_in=CHECK_IN_TIME, check_out=CHECK_OUT_TIME)


def month_arg(today: date) -> date:
    """The first day of the ?month=YYYY-MM month (this month when missing or malformed)."""
    try:
        return date.fromisoformat(request.args.get("month", "") + "-01")
    except ValueError:
        return today.replace(day=1)


def next_month(first: date) -> date:
    """The first day of the month after `first`'s."""
    return (first.replace(day=1) + timedelta(days=32)).replace(day=1)


def month_weeks(days: list[calendar.CalendarDay], first: date) -> list[list[calendar.CalendarDay | None]]:
    """The month's days as Monday-first weeks, padded with None outside the month."""
    cells: list[calendar.CalendarDay | None] = [None] * first.weekday() + list(days)
    cells += [None] * (-len(cells) % 7)
    return [cells[i:i + 7] for i in range(0, len(cells), 7)]


def month_days(listing, first: date, today: date) -> tuple[date, list[calendar.CalendarDay]]:
    """(first day shown, its days): the asked month, or this month when the asked one is out of reach."""
    try:
        return first, calendar.get_calendar(listing, first, next_month(first), today=today)
    except ValidationFailed as exc:
        messages = [m for field_messages in (exc.fields or {}).values() for m in field_messages]
        flash(messages[0] if messages else exc.message, "warning")
        first = today.replace(day=1)
        return first, calendar.get_calendar(listing, first, next_month(first), today=today)


def month_links(first: date, today: date) -> tuple[date | None, date | None]:
    """The previous and next months' first days, None where the calendar stops (one year back, three ahead)."""
    previous, following = (first - timedelta(days=1)).replace(day=1), next_month(first)
    earliest = today - timedelta(days=calendar.MAX_RANGE_DAYS)
    latest = today + timedelta(days=calendar.MAX_FUTURE_DAYS)
    return (previous if previous >= earliest else None), (following if next_month(following) <= latest else None)


def change_summary(form: CalendarForm) -> str:
    """A sentence saying what the calendar form just did."""
    span = f"{form.start.data:%d %b} – {form.end.data - timedelta(days=1):%d %b %Y}"
    if form.action.data == "block":
        return f"Blocked the nights {span}."
    if form.action.data == "reopen":
        return f"Reopened the nights {span} (booked nights stay booked)."
    return f"Price set for the nights {span}." if form.price_minor else f"Base price restored for {span}."


@bp.route("/host/listings/<int:listing_id>/calendar", methods=["GET", "POST"], endpoint="calendar")
@host_required
def calendar_page(listing_id: int):
    """A month of the listing's calendar; the form blocks, reopens or prices a range of nights."""
    listing = services.get_managed_listing(listing_id, current_account())
    today = clock.listing_today(listing)  # the listing's date: its past nights are the ones shown as past
    first = month_arg(today)
    form = CalendarForm(currency=listing.currency)
    if form.validate_on_submit():
        try:
            calendar.set_availability(listing, actor=current_account(), ranges=[form.to_range()])
        except DomainError as exc:
            show_service_error(form, exc, CALENDAR_ERROR_FIELDS)
        else:
            flash(change_summary(form), "success")
            return redirect(url_for(".calendar", listing_id=listing.id, month=f"{first:%Y-%m}"))
    first, days = month_days(listing, first, today)
    previous, following = month_links(first, today)
    return render_template("listings/calendar.html", listing=listing, form=form, first=first, today=today,
                           weeks=month_weeks(days, first), previous=previous, following=following)


from . import photos_routes  # noqa: E402,F401  (the photo manager's routes, on the same blueprint)
