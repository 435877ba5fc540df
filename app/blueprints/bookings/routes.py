"""Booking pages: the booking panel's quote, the guest's trips and the host's reservations."""

from __future__ import annotations

import logging
import uuid
from datetime import date, timedelta

from flask import flash, redirect, render_template, request, session, url_for

from ... import money
from ...authz import current_account, host_required, login_required, viewer_locale
from ...errors import DomainError, NotFoundError, PermissionDenied
from ...forms_util import show_error
from ...models import BOOKING_STATUSES, Booking, Listing, User, utcnow
from ...navigation import safe_next
from ...pagination import page_args
from ...rate_limits import write_limit
from ...validation import load_data
from ..calendar import services as calendar
from ..listings import privacy
from ..listings import services as listing_services
from . import bp, services
from .forms import AnswerForm, BookingForm, CancelForm
from .schemas import STAY_DATES, StayArgsSchema

logger = logging.getLogger(__name__)

PANEL_KEY = "booking_panel"  # a refused booking's values and errors, shown once on its listing page
STAY_FIELDS = ("check_in", "check_out", "guests")
FIELD_LABELS = {"check_in": "Check-in", "check_out": "Check-out", "guests": "Guests"}
TAKEN_DAYS_SHOWN = 183
TRIPS_PER_PAGE, RESERVATIONS_PER_PAGE = 12, 20
CANCELED_BY = {"guest": "the guest", "host": "the host", "admin": "Abode support",
               "declined": "the host, who declined the request", "expired": "Abode, because time ran out"}


def readable(message: str) -> str:
    """A service's message fragment as a sentence: 'must be after check_in' -> 'Must be after check-in.'"""
    text = message.replace("check_in", "check-in").replace("check_out", "check-out").strip()
    text = text[:1].upper() + text[1:]
    return text if text.endswith((".", "!", "?")) else text + "."


def field_messages(exc: DomainError) -> tuple[dict[str, list[str]], str | None]:
    """(messages per panel field, a message for the whole panel or None) of a refused stay."""
    fields: dict[str, list[str]] = {}
    others = []
    for name, messages in (exc.fields or {}).items():
        if name in FIELD_LABELS:
            fields[name] = [readable(m) for m in messages]
        else:
            others.extend(readable(m) for m in messages)
    if others:
        return fields, " ".join(others)
    return fields, None if fields else exc.message


def taken_ranges(listing: Listing, today: date) -> list[tuple[date, date]]:
    """(first, last) night of each run of booked or blocked nights in the next months."""
    runs: list[tuple[date, date]] = []
    for day in calendar.get_calendar(listing, today, today + timedelta(days=TAKEN_DAYS_SHOWN), today=today):
        if day.available:
            continue
        if runs and runs[-1][1] == day.date - timedelta(days=1):
            runs[-1] = (runs[-1][0], day.date)
        else:
            runs.append((day.date, day.date))
    return runs


def booking_panel(listing: Listing) -> dict:
    """What the listing page's booking panel shows: the stay (query string, or a refused booking's values and
    errors), its quote, the taken nights and a fresh idempotency key."""
    kept = session.get(PANEL_KEY)
    if kept and kept.get("listing_id") == listing.id:
        session.pop(PANEL_KEY)
        values, errors, message = kept["values"], kept["errors"], kept["message"]
    else:
        values = {name: request.args.get(name, "")[:20] for name in STAY_FIELDS}
        errors, message = {}, None
    quote = quote_problem = None
    if values["check_in"] and values["check_out"] and not (errors or message):
        try:
            args = load_data(StayArgsSchema(partial=STAY_DATES), {k: v for k, v in values.items() if v})
            quote = services.quote(listing.id, args.get("check_in"), args.get("check_out"), args["guests"])
        except DomainError as exc:
            fields, general = field_messages(exc)
            quote_problem = " ".join([general or ""] + [f"{FIELD_LABELS[k]}: {m}" for k, ms in fields.items()
                                                        for m in ms]).strip()
        else:
            if not quote.available:
                quote_problem, quote = "Some of these nights are taken. Choose other dates.", None
    today = services.listing_today(listing)
    user = current_account()
    return {"values": values, "errors": errors, "message": message, "quote": quote, "quote_problem": quote_problem,
            "today": today, "taken": taken_ranges(listing, today), "key": uuid.uuid4().hex,
            "own": user is not None and user.id == listing.host_id}


def refuse(listing_id: int, values: dict, errors: dict, message: str | None):
    """Back to the listing page, where the panel shows the values and what was wrong."""
    session[PANEL_KEY] = {"listing_id": listing_id, "values": values, "errors": errors, "message": message}
    return redirect(listing_url(listing_id, values), code=303)


def listing_url(listing_id: int, values: dict) -> str:
    """The listing page with the stay in its query string, scrolled to the booking panel."""
    stay = {name: value for name, value in values.items() if value}
    return url_for("listings.detail", listing_id=listing_id, **stay) + "#book"


@bp.route("/listings/<int:listing_id>/book", methods=["GET", "POST"])
@write_limit("booking")
def new(listing_id: int):
    """Book a stay from the listing page's panel; on success, the booking's page."""
    listing_services.get_listing(listing_id)  # 404 page for a missing or deleted listing
    values = {name: (request.values.get(name) or "")[:20] for name in STAY_FIELDS}
    user = current_account()
    if request.method == "GET":
        return redirect(listing_url(listing_id, values))
    if user is None:
        flash("Log in or sign up to book this stay. Your dates are kept.", "info")
        return redirect(url_for("auth.login", next=listing_url(listing_id, values)))
    form = BookingForm()
    if not form.validate_on_submit():
        errors = {name: list(form.errors[name]) for name in STAY_FIELDS if name in form.errors}
        expired = "csrf_token" in form.errors
        return refuse(listing_id, values, errors, "The form expired; please try again." if expired else None)
    try:
        booking = create(user, listing_id, form.stay(), form.idempotency_key.data or None)
    except DomainError as exc:
        logger.warning("booking refused for listing %s: %s", listing_id, exc.code)
        return refuse(listing_id, values, *field_messages(exc))
    flash(booked_message(booking), "success")
    return redirect(url_for(".detail", booking_id=booking.id))


def create(user: User, listing_id: int, stay: dict, key: str | None) -> Booking:
    """services.create_booking; a key reused for other dates (a form sent again after going back) is dropped."""
    try:
        return services.create_booking(guest=user, listing_id=listing_id, **stay, idempotency_key=key)[0]
    except DomainError as exc:
        if key is None or exc.code != "idempotency_mismatch":
            raise
    return services.create_booking(guest=user, listing_id=listing_id, **stay)[0]


def booked_message(booking: Booking) -> str:
    """What the guest is told after booking."""
    held = f"Your nights are held until {booking.expires_at:%H:%M} UTC while you pay."
    if booking.instant_book:
        return f"Booked! {held} Your stay is confirmed as soon as the payment goes through."
    return f"Request sent! {held} Then the host has 24 hours to accept."


@bp.get("/bookings/<int:booking_id>")
@login_required
def detail(booking_id: int):
    """One booking: dates, status, price, and what its guest or host can do now."""
    user = current_account()
    booking = services.visible_booking(booking_id, user)
    return render_template("bookings/detail.html", booking=booking,
                           preview=services.cancellation_preview(booking, user), canceled_by=CANCELED_BY,
                           answer_form=AnswerForm(), now=utcnow(),
                           address_shown=privacy.shows_address(booking.listing, user))


@bp.route("/bookings/<int:booking_id>/cancel", methods=["GET", "POST"])
@login_required
def cancel(booking_id: int):
    """Show the refund the viewer's cancellation gives now; the POST cancels."""
    user = current_account()
    booking = services.visible_booking(booking_id, user)
    preview = services.cancellation_preview(booking, user)
    if not preview.allowed:
        flash(preview.refused, "warning")
        return redirect(url_for(".detail", booking_id=booking.id))
    form = CancelForm()
    if form.validate_on_submit():
        try:
            booking = services.cancel_booking(booking.id, user, form.reason.data or None)
        except DomainError as exc:
            show_error(form, exc)
        else:
            flash(canceled_message(booking, preview.role), "success")
            return redirect(url_for(".detail", booking_id=booking.id))
    return render_template("bookings/cancel.html", booking=booking, preview=preview, form=form)


def canceled_message(booking: Booking, role: str) -> str:
    """What the canceler is told."""
    refund = money.format_money(booking.refund_amount or 0, booking.currency, viewer_locale())
    if role == "guest":
        return f"Your trip is canceled. Refund: {refund}."
    return f"The reservation is canceled. The guest gets back {refund}."


@bp.post("/bookings/<int:booking_id>/approve")
@host_required
def approve(booking_id: int):
    """The host accepts a paid request to book."""
    return answer(booking_id, services.approve_booking, "Approved. {guest}'s stay is confirmed.")


@bp.post("/bookings/<int:booking_id>/decline")
@host_required
def decline(booking_id: int):
    """The host refuses a paid request to book: the guest gets everything back."""
    return answer(booking_id, services.decline_booking, "Declined. {guest} gets a full refund.")


def answer(booking_id: int, action, done: str):
    """Run the host's answer; invalid states become a message, strangers get the 404 or 403 page."""
    user = current_account()
    booking = services.visible_booking(booking_id, user)
    form = AnswerForm()
    back = safe_next(form.next.data, url_for(".detail", booking_id=booking.id))
    if not form.validate_on_submit():
        flash("The form expired; please try again.", "danger")
        return redirect(back)
    try:
        booking = action(booking.id, user)
    except (NotFoundError, PermissionDenied):
        raise
    except DomainError as exc:
        flash(exc.message, "danger")
    else:
        flash(done.format(guest=booking.guest.name), "success")
    return redirect(back)


@bp.get("/trips")
@login_required
def trips():
    """The guest's trips: upcoming (pending or confirmed), past and canceled."""
    user = current_account()
    tab = request.args.get("tab") if request.args.get("tab") in services.TRIP_SECTIONS else "upcoming"
    page, _per_page = page_args(request.args)
    result = services.list_trips(user, tab, page, TRIPS_PER_PAGE)
    return render_template("bookings/trips.html", tab=tab, items=result.items, result=result,
                           counts=services.trip_counts(user))


@bp.get("/host/reservations")
@host_required
def reservations():
    """Bookings of the host's listings, newest check-in first, filtered by status."""
    page, _per_page = page_args(request.args)
    status = request.args.get("status") or ""
    if status not in (*BOOKING_STATUSES, "awaiting"):
        status = ""
    filters = {"awaiting": True} if status == "awaiting" else {"statuses": (status,) if status else ()}
    result = services.list_bookings(current_account(), role="host", **filters, page=page,
                                    per_page=RESERVATIONS_PER_PAGE)
    return render_template("bookings/reservations.html", result=result, status=status, statuses=BOOKING_STATUSES,
                           answer_form=AnswerForm())
