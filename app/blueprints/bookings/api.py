"""JSON API for bookings: quotes, /api/v1/bookings and the host's and guest's actions on one booking."""

from __future__ import annotations

from flask import request
from flask_jwt_extended import get_current_user

from ...authz import login_required
from ...openapi import api_doc
from ...pagination import page_args
from ...rate_limits import write_limit
from ...validation import load_json, load_query
from . import api_bp, schemas, services


@api_bp.get("/properties/<int:listing_id>/quote")
@api_doc(summary="What a booking of these dates would cost now", query=schemas.StayArgsSchema,
         response=schemas.QuoteSchema, errors=(400, 404, 422))
def get_quote(listing_id: int):
    """The same checks as booking; `available` says whether every night is free."""
    args = load_query(schemas.StayArgsSchema(partial=schemas.STAY_DATES))  # a missing date: the service's 422
    return schemas.quote_to_dict(services.quote(listing_id, args.get("check_in"), args.get("check_out"),
                                                args["guests"]))


@api_bp.post("/bookings")
@login_required
@write_limit("booking")
@api_doc(summary="Book a stay", body=schemas.BookingInputSchema, response=schemas.BookingSchema, status=201,
         errors=(403, 409, 422),
         links={"PayBooking": {"operationId": "payments_api.create_payment",
                               "requestBody": {"booking_id": "$response.body#/id"}},
                "ReviewStay": {"operationId": "reviews_api.create_review",
                               "requestBody": {"booking_id": "$response.body#/id"}}})
def create_booking():
    """Send an `Idempotency-Key` header to retry safely: a retry gets the first booking back (with
    `Idempotent-Replayed: true`). 409 `dates_unavailable` when a night is booked or blocked."""
    booking, replayed = services.create_booking(guest=get_current_user(), **load_json(schemas.BookingInputSchema()),
                                                idempotency_key=request.headers.get("Idempotency-Key"))
    headers = {"Idempotent-Replayed": "true"} if replayed else {}
    return schemas.booking_to_dict(booking), 201, headers


@api_bp.get("/bookings")
@login_required
@api_doc(summary="The caller's bookings, as guest (default) or as host", query=schemas.BookingListArgsSchema,
         response=schemas.BookingPageSchema, errors=(400, 422))
def list_bookings():
    """Newest check-in first; filter by `status`."""
    page, per_page = page_args(request.args)
    result = services.list_bookings(get_current_user(), **load_query(schemas.BookingListArgsSchema()), page=page,
                                    per_page=per_page)
    return result.to_dict(schemas.booking_to_dict)


@api_bp.get("/bookings/<int:booking_id>")
@login_required
@api_doc(summary="One booking (its guest, the listing's host, or an admin)", response=schemas.BookingSchema,
         errors=(404,))
def get_booking(booking_id: int):
    """Anyone else gets 404."""
    return schemas.booking_to_dict(services.visible_booking(booking_id, get_current_user()))


@api_bp.post("/bookings/<int:booking_id>/approve")
@login_required
@api_doc(summary="Accept a paid request to book (the listing's host)", response=schemas.BookingSchema,
         errors=(403, 404, 409))
def approve_booking(booking_id: int):
    """409 `invalid_state` unless the booking is paid and awaiting approval."""
    return schemas.booking_to_dict(services.approve_booking(booking_id, get_current_user()))


@api_bp.post("/bookings/<int:booking_id>/decline")
@login_required
@api_doc(summary="Refuse a paid request to book (the listing's host): full refund", response=schemas.BookingSchema,
         errors=(403, 404, 409))
def decline_booking(booking_id: int):
    """409 `invalid_state` unless the booking is paid and awaiting approval."""
    return schemas.booking_to_dict(services.decline_booking(booking_id, get_current_user()))


@api_bp.post("/bookings/<int:booking_id>/cancel")
@login_required
@api_doc(summary="Cancel (the guest, the listing's host or an admin)", body=schemas.CancelSchema,
         response=schemas.BookingSchema, errors=(404, 409, 422))
def cancel_booking(booking_id: int):
    """`refund` follows the cancellation policy for a guest; the host or an admin refunds everything paid."""
    reason = load_json(schemas.CancelSchema()).get("reason")
    return schemas.booking_to_dict(services.cancel_booking(booking_id, get_current_user(), reason))
