"""Who sees where a listing is (docs/api.md, Properties): its street, postal code and exact point are for its host,
admins and the guest of a confirmed or completed booking of it; everyone else gets the city and a point within
about a kilometre of the true one (geo.approximate_point), the same on every request."""

from __future__ import annotations

from sqlalchemy import exists, select

from ... import geo
from ...extensions import db
from ...models import Booking, Listing, User
from .access import can_manage

ADDRESS_BOOKING_STATUSES = ("confirmed", "completed")  # a guest with such a booking has been promised the address


def shows_address(listing: Listing, viewer: User | None) -> bool:
    """True when `viewer` may see the listing's street, postal code and exact point: its host, an admin, or the
    guest of a confirmed or completed booking of it (one indexed probe of bookings)."""
    if viewer is None:
        return False
    if can_manage(viewer, listing):
        return True
    return bool(db.session.scalar(select(exists().where(
        Booking.listing_id == listing.id, Booking.guest_id == viewer.id,
        Booking.status.in_(ADDRESS_BOOKING_STATUSES)))))


def as_seen_by(body: dict, listing: Listing, viewer: User | None) -> dict:
    """The Property answer `body` (schemas.ListingSchema's dump of `listing`) as `viewer` may see it: for anyone
    shows_address refuses, line1 and postal_code null and the approximate point."""
    if shows_address(listing, viewer):
        return body
    body["address"] = {**body["address"], "line1": None, "postal_code": None}
    body["latitude"], body["longitude"] = geo.approximate_point(listing.id, listing.latitude, listing.longitude)
    return body
