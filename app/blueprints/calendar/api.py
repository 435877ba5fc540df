"""JSON API for the calendar: /api/v1/properties/<id>/availability, read by anyone and changed by the host."""

from __future__ import annotations

from datetime import date, timedelta

from flask_jwt_extended import get_current_user

from ... import clock
from ...authz import current_account, login_required
from ...money import money
from ...openapi import api_doc
from ...validation import json_object, load_body, load_query
from ..listings import services as listings
from . import api_bp, schemas, services
from .ranges import MAX_RANGE_DAYS

DEFAULT_CALENDAR_DAYS = 30


@api_bp.get("/properties/<int:listing_id>/availability")
@api_doc(summary="Availability and price of each night in [from, to)", query=schemas.AvailabilityQuerySchema,
         response=schemas.AvailabilitySchema, errors=(400, 404, 422))
def get_listing_availability(listing_id: int):
    """Defaults: from the listing's today (its own time zone's date, see calendar.get_calendar), 30 nights."""
    listing = listings.get_listing(listing_id, current_account())  # unpublished: its host and admins only
    args = load_query(schemas.AvailabilityQuerySchema())  # 400 bad_request naming `from` or `to`
    start = args.get("from_") or clock.listing_today(listing)
    end = args.get("to") or start + timedelta(days=min(DEFAULT_CALENDAR_DAYS, (date.max - start).days))  # 9999-12-31
    return _days_payload(services.get_calendar(listing, start, end))


@api_bp.put("/properties/<int:listing_id>/availability")
@login_required
@api_doc(summary="Block, reopen or price nights (its host or an admin)", body=schemas.AvailabilityUpdateSchema,
         response=schemas.AvailabilitySchema, errors=(403, 404, 409, 422))
def update_listing_availability(listing_id: int):
    """All ranges apply in one transaction; blocking a booked night is 409 dates_unavailable."""
    listing = listings.get_listing(listing_id, get_current_user())
    body, actor = json_object(), get_current_user()  # 400/415 for a body that is not JSON, as before the 403
    services.authorize_calendar(actor, listing)  # 403 before the ranges are read
    ranges = load_body(schemas.AvailabilityUpdateSchema(), body)["ranges"]
    start, end = services.set_availability(listing, actor=actor, ranges=ranges)
    return _days_payload(services.get_calendar(listing, start, min(end, start + timedelta(days=MAX_RANGE_DAYS))))


def _days_payload(days: list[services.CalendarDay]) -> dict:
    return {"days": [{"date": day.date.isoformat(), "available": day.available,
                      "price": money(day.price, day.currency)} for day in days]}
