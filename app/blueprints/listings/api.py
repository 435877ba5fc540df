"""JSON API for listings: /api/v1/properties and their photos, and /api/v1/host/properties (a listing's
availability is the calendar's, calendar/api.py)."""

from __future__ import annotations

from flask import request
from flask_jwt_extended import get_current_user

from ...authz import current_account, host_required, login_required
from ...openapi import api_doc, first_item_links
from ...pagination import page_args
from ...rate_limits import write_limit
from ...validation import json_object, load_json, reject_unknown
from . import api_bp, privacy, schemas, services
from .access import can_manage


@api_bp.post("/properties")
@host_required
@write_limit("listing")
@api_doc(summary="Create a listing (hosts and admins)", body=schemas.ListingInputSchema,
         response=schemas.ListingSchema, status=201, errors=(403,),
         links={"BookListing": {"operationId": "bookings_api.create_booking",
                                "requestBody": {"property_id": "$response.body#/id"}}})
def create_listing():
    """Validation errors name each field."""
    listing = services.create_listing(host=get_current_user(), **load_json(schemas.ListingInputSchema()))
    return schemas.ListingSchema().dump(listing), 201


@api_bp.get("/properties/<int:listing_id>")
@api_doc(summary="A listing with photos, amenities, host and rating", response=schemas.ListingSchema, errors=(404,))
def get_listing(listing_id: int):
    """Deleted listings answer 404, and unpublished ones (taken down by Abode) to anyone but their host and admins.
    The street, postal code and exact point only for those privacy.shows_address admits."""
    viewer = current_account()
    listing = services.get_listing(listing_id, viewer)
    return privacy.as_seen_by(schemas.ListingSchema().dump(listing), listing, viewer)


@api_bp.patch("/properties/<int:listing_id>")
@login_required
@api_doc(summary="Change a listing (its host or an admin)", body=schemas.ListingInputSchema,
         response=schemas.ListingSchema, errors=(403, 404))
def update_listing(listing_id: int):
    """Send only the fields that change; the result must still be a valid listing."""
    listing = services.get_listing(listing_id, get_current_user())
    changes = load_json(schemas.ListingInputSchema(), partial=True)
    return schemas.ListingSchema().dump(services.update_listing(listing, actor=get_current_user(), **changes))


@api_bp.delete("/properties/<int:listing_id>")
@login_required
@api_doc(summary="Delete a listing (soft: bookings, payments and reviews keep it)", status=204, errors=(403, 404, 409))
def delete_listing(listing_id: int):
    """409 has_active_bookings while upcoming bookings hold nights (an unpublished listing too)."""
    actor = get_current_user()
    services.delete_listing(services.get_listing(listing_id, actor), actor=actor)
    return "", 204


@api_bp.get("/host/properties")
@host_required
@api_doc(summary="The caller's own listings", response=schemas.ListingPageSchema, errors=(403,),
         links=first_item_links("listing_id", "listings_api.get_listing", "listings_api.update_listing",
                                "calendar_api.get_listing_availability", "calendar_api.update_listing_availability",
                                "listings_api.create_listing_image", "bookings_api.get_quote"))
def list_host_listings():
    """Paginated, newest first."""
    page, per_page = page_args(request.args)
    return services.list_host_listings(get_current_user(), page, per_page).to_dict(schemas.ListingSchema().dump)


@api_bp.post("/properties/<int:listing_id>/images")
@login_required
@write_limit("upload")
@api_doc(summary="Add a photo (JPEG, PNG or WebP, at most 10 MiB)", response=schemas.ImageSchema, status=201,
         multipart={"image": "the image file"}, errors=(403, 404, 413, 415, 422))
def create_listing_image(listing_id: int):
    """The photo goes to the end of the gallery; a thumbnail is made."""
    listing = services.get_listing(listing_id, get_current_user())
    upload = request.files.get("image")
    image = services.add_image(listing, actor=get_current_user(), file=upload.stream if upload is not None else None)
    return schemas.image_to_dict(image), 201


@api_bp.patch("/properties/<int:listing_id>/images/<int:image_id>")
@login_required
@api_doc(summary="Move a photo to another position (0 is the cover)", body=schemas.ImageMoveSchema,
         response=schemas.ImageSchema, errors=(403, 404))
def update_listing_image(listing_id: int, image_id: int):
    """Other photos shift to make room."""
    actor = get_current_user()
    listing = services.get_listing(listing_id, actor)
    body = json_object()
    if can_manage(actor, listing):  # an outsider hears 403 from move_image, nothing about the body
        reject_unknown(schemas.ImageMoveSchema(), body)
    image = services.move_image(listing, actor=actor, image_id=image_id, position=body.get("position"))
    return schemas.image_to_dict(image)


@api_bp.delete("/properties/<int:listing_id>/images/<int:image_id>")
@login_required
@api_doc(summary="Delete a photo", status=204, errors=(403, 404))
def delete_listing_image(listing_id: int, image_id: int):
    """The remaining photos close the gap."""
    actor = get_current_user()
    services.delete_image(services.get_listing(listing_id, actor), actor=actor, image_id=image_id)
    return "", 204
