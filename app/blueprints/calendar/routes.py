"""The calendar page: a month of a listing's nights, and the form that blocks, reopens or prices a range."""

from __future__ import annotations

from datetime import date, timedelta

from flask import flash, redirect, render_template, request, url_for

from ... import clock
from ...authz import current_account, host_required
from ...errors import DomainError, ValidationFailed
from ...forms_util import show_error
from ..listings import services as listings
from . import bp, services
from .forms import CALENDAR_ERROR_FIELDS, CalendarForm
from .ranges import MAX_FUTURE_DAYS, MAX_RANGE_DAYS


def month_arg(today: date) -> date:
    """The first day of the ?month=YYYY-MM month (this month when missing or malformed)."""
    try:
        return date.fromisoformat(request.args.get("month", "") + "-01")
    except ValueError:
        return today.replace(day=1)


def next_month(first: date) -> date:
    """The first day of the month after `first`'s. Raises ValidationFailed after December 9999 (there is none)."""
    if (first.year, first.month) == (date.max.year, 12):
        raise ValidationFailed({"month": ["The calendar covers one year back to three years ahead."]})
    return (first.replace(day=1) + timedelta(days=32)).replace(day=1)


def month_weeks(days: list[services.CalendarDay], first: date) -> list[list[services.CalendarDay | None]]:
    """The month's days as Monday-first weeks, padded with None outside the month."""
    cells: list[services.CalendarDay | None] = [None] * first.weekday() + list(days)
    cells += [None] * (-len(cells) % 7)
    return [cells[i:i + 7] for i in range(0, len(cells), 7)]


def month_days(listing, first: date, today: date) -> tuple[date, list[services.CalendarDay]]:
    """(first day shown, its days): the asked month, or this month when the asked one is out of reach."""
    try:
        return first, services.get_calendar(listing, first, next_month(first), today=today)
    except ValidationFailed as exc:
        messages = [m for field_messages in (exc.fields or {}).values() for m in field_messages]
        flash(messages[0] if messages else exc.message, "warning")
        first = today.replace(day=1)
        return first, services.get_calendar(listing, first, next_month(first), today=today)


def month_links(first: date, today: date) -> tuple[date | None, date | None]:
    """The previous and next months' first days, None where the calendar stops (one year back, three ahead)."""
    previous, following = (first - timedelta(days=1)).replace(day=1), next_month(first)
    earliest = today - timedelta(days=MAX_RANGE_DAYS)
    latest = today + timedelta(days=MAX_FUTURE_DAYS)
    return (previous if previous >= earliest else None), (following if next_month(following) <= latest else None)


def change_summary(form: CalendarForm) -> str:
    """A sentence saying what the calendar form just did."""
    span = f"{form.start.data:%d %b} – {form.end.data - timedelta(days=1):%d %b %Y}"
    if form.action.data == "block":
        return f"Blocked the nights {span}."
    if form.action.data == "reopen":
        return f"Reopened the nights {span} (booked nights stay booked)."
    return f"Price set for the nights {span}." if form.price_minor else f"Base price restored for {span}."


@bp.route("/host/listings/<int:listing_id>/calendar", methods=["GET", "POST"])
@host_required
def edit(listing_id: int):
    """A month of the listing's calendar; the form blocks, reopens or prices a range of nights."""
    listing = listings.get_managed_listing(listing_id, current_account())
    today = clock.listing_today(listing)  # the listing's date: its past nights are the ones shown as past
    first = month_arg(today)
    form = CalendarForm(currency=listing.currency)
    if form.validate_on_submit():
        try:
            services.set_availability(listing, actor=current_account(), ranges=[form.to_range()])
        except DomainError as exc:
            show_error(form, exc, CALENDAR_ERROR_FIELDS)
        else:
            flash(change_summary(form), "success")
            return redirect(url_for(".edit", listing_id=listing.id, month=f"{first:%Y-%m}"))
    first, days = month_days(listing, first, today)
    previous, following = month_links(first, today)
    return render_template("calendar/edit.html", listing=listing, form=form, first=first, today=today,
                           weeks=month_weeks(days, first), previous=previous, following=following)
