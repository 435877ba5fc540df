"""JSON API for listings: /api/v1/properties, their photos and calendars, and /api/v1/host/properties."""

from __future__ import annotations

from datetime import date, timedelta

from flask import request
from flask_jwt_extended import get_current_user

from ... import clock
from ...authz import host_required, login_required
from ...errors import BadRequest
from ...money import money
from ...openapi import api_doc
from ...pagination import page_args
from ...validation import json_object
from . import api_bp, calendar, schemas, services

DEFAULT_CALENDAR_DAYS = 30


@api_bp.post("/properties")
@host_required
@api_doc(summary="Create a listing (hosts and admins)", body=schemas.PropertyInputSchema,
         response=schemas.PropertySchema, status=201, errors=(403,))
def create_property():
    """Validation errors name each field."""
    listing = services.create_listing(host=get_current_user(), data=json_object())
    return schemas.property_to_dict(listing), 201


@api_bp.get("/properties/<int:property_id>")
@api_doc(summary="A listing with photos, amenities, host and rating", response=schemas.PropertySchema, errors=(404,))
def get_property(property_id: int):
    """Deleted listings answer 404."""
    return schemas.property_to_dict(services.get_listing(property_id))


@api_bp.patch("/properties/<int:property_id>")
@login_required
@api_doc(summary="Change a listing (its host or an admin)", body=schemas.PropertyInputSchema,
         response=schemas.PropertySchema, errors=(403, 404))
def update_property(property_id: int):
    """Send only the fields that change; the result must still be a valid listing."""
    listing = services.get_listing(property_id)
    return schemas.property_to_dict(services.update_listing(listing, actor=get_current_user(), data=json_object()))


@api_bp.delete("/properties/<int:property_id>")
@login_required
@api_doc(summary="Delete a listing (soft: bookings, payments and reviews keep it)", status=204, errors=(403, 404, 409))
def delete_property(property_id: int):
    """409 has_active_bookings while upcoming bookings hold nights."""
    services.delete_listing(services.get_listing(property_id), actor=get_current_user())
    return "", 204


@api_bp.get("/host/properties")
@host_required
@api_doc(summary="The caller's own listings", response=schemas.PropertyPageSchema, errors=(403,))
def list_host_properties():
    """Paginated, newest first."""
    page, per_page = page_args(request.args)
    return services.list_host_listings(get_current_user(), page, per_page).to_dict(schemas.property_to_dict)


@api_bp.post("/properties/<int:property_id>/images")
@login_required
@api_doc(summary="Add a photo (JPEG, PNG or WebP, at most 10 MiB)", response=schemas.ImageSchema, status=201,
         multipart={"image": "the image file"}, errors=(403, 404, 413, 415, 422))
def create_property_image(property_id: int):
    """The photo goes to the end of the gallery; a thumbnail is made."""
    listing = services.get_listing(property_id)
    upload = request.files.get("image")
    image = services.add_image(listing, actor=get_current_user(), file=upload.stream if upload is not None else None)
    return schemas.image_to_dict(image), 201


@api_bp.patch("/properties/<int:property_id>/images/<int:image_id>")
@login_required
@api_doc(summary="Move a photo to another position (0 is the cover)", body=schemas.ImageMoveSchema,
         response=schemas.ImageSchema, errors=(403, 404))
def update_property_image(property_id: int, image_id: int):
    """Other photos shift to make room."""
    listing = services.get_listing(property_id)
    position = json_object().get("position")
    image = services.move_image(listing, actor=get_current_user(), image_id=image_id, position=position)
    return schemas.image_to_dict(image)


@api_bp.delete("/properties/<int:property_id>/images/<int:image_id>")
@login_required
@api_doc(summary="Delete a photo", status=204, errors=(403, 404))
def delete_property_image(property_id: int, image_id: int):
    """The remaining photos close the gap."""
    services.delete_image(services.get_listing(property_id), actor=get_current_user(), image_id=image_id)
    return "", 204


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
    """Defaults: from the listing's today (its own time zone's date, see calendar.get_calendar), 30 nights."""
    listing = services.get_listing(property_id)
    start = _date_arg("from", clock.listing_today(listing))
    end = _date_arg("to", start + timedelta(days=DEFAULT_CALENDAR_DAYS))
    return _days_payload(calendar.get_calendar(listing, start, end))


@api_bp.put("/properties/<int:property_id>/availability")
@login_required
@api_doc(summary="Block, reopen or price nights (its host or an admin)", body=schemas.AvailabilityUpdateSchema,
         response=schemas.AvailabilitySchema, errors=(403, 404, 409))
def update_property_availability(property_id: int):
    """All ranges apply in one transaction; blocking a booked night is 409 dates_unavailable."""
    listing = services.get_listing(property_id)
    ranges = json_object().get("ranges")
    calendar.set_availability(listing, actor=get_current_user(), ranges=ranges)
    start = min(date.fromisoformat(r["start"]) for r in ranges)
    end = min(max(date.fromisoformat(r["end"]) for r in ranges), start + timedelta(days=calendar.MAX_RANGE_DAYS))
    return _days_payload(calendar.get_calendar(listing, start, end))


def _days_payload(days: list[calendar.CalendarDay]) -> dict:
    return {"days": [{"date": day.date.isoformat(), "available": day.available,
                      "price": money(day.price, day.currency)} for day in days]}
