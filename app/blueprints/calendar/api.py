"""JSON API for the calendar: /api/v1/properties/<id>/availability, read by anyone and changed by the host."""

from __future__ import annotations

from datetime import date, timedelta

from flask import request
from flask_jwt_extended import get_current_user

from ... import clock
from ...authz import login_required
from ...errors import BadRequest
from ...money import money
from ...openapi import api_doc
from ...validation import json_object
from ..listings import services as listings
from . import api_bp, schemas, services
from .ranges import MAX_RANGE_DAYS

DEFAULT_CALENDAR_DAYS = 30


def _date_arg(name: str, default: date) -> date:
    value = request.args.get(name)
    if value is None or value == "":
        return default
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise BadRequest(f"{name} must be a date as YYYY-MM-DD.", fields={name: ["not a date"]}) from None


@api_bp.get("/properties/<int:property_id>/availability")
@api_doc(summary="Availability and price of each night in [from, to)", query=schemas.AvailabilityQuerySchema,
         response=schemas.AvailabilitySchema, errors=(400, 404, 422))
def get_property_availability(property_id: int):
    """Defaults: from the listing's today (its own time zone's date, see services.get_calendar), 30 nights."""
    listing = listings.get_listing(property_id)
    start = _date_arg("from", clock.listing_today(listing))
    end = _date_arg("to", start + timedelta(days=DEFAULT_CALENDAR_DAYS))
    return _days_payload(services.get_calendar(listing, start, end))


@api_bp.put("/properties/<int:property_id>/availability")
@login_required
@api_doc(summary="Block, reopen or price nights (its host or an admin)", body=schemas.AvailabilityUpdateSchema,
         response=schemas.AvailabilitySchema, errors=(403, 404, 409))
def update_property_availability(property_id: int):
    """All ranges apply in one transaction; blocking a booked night is 409 dates_unavailable."""
    listing = listings.get_listing(property_id)
    ranges = json_object().get("ranges")
    services.set_availability(listing, actor=get_current_user(), ranges=ranges)
    start = min(date.fromisoformat(r["start"]) for r in ranges)
    end = min(max(date.fromisoformat(r["end"]) for r in ranges), start + timedelta(days=MAX_RANGE_DAYS))
    return _days_payload(services.get_calendar(listing, start, end))


def _days_payload(days: list[services.CalendarDay]) -> dict:
    return {"days": [{"date": day.date.isoformat(), "available": day.available,
                      "price": money(day.price, day.currency)} for day in days]}
