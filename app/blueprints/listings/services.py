"""Listing rules: who may create and edit, the rules across a listing's fields, soft deletion, an admin's
unpublishing (a moderation take-down) and restoring, audited when an admin acts (the fields themselves are
checked by schemas.ListingInputSchema, which takes its bounds from here; photos: photos.py)."""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy import select

from ... import audit, rates, search_cache
from ...errors import Conflict, NotFoundError, PermissionDenied, ValidationFailed
from ...extensions import db
from ...models import (
    Amenity,
    Listing,
    User,
    utcnow,
)
from ...models.listing import amenity_mask
from ...pagination import Page, paginate
from . import places, signals
from .access import can_manage, lock_listing  # noqa: F401 (re-exported: callers ask services)
from .photos import MAX_IMAGES, add_image, delete_image, move_image  # noqa: F401 (re-exported)

logger = logging.getLogger(__name__)

TITLE_MIN, TITLE_MAX, DESCRIPTION_MAX = 3, 120, 5000
MAX_AMOUNT = 100_000_000  # minor units; far above any nightly price, far below the INT column's limit
COUNTS = {"max_guests": (1, 50), "bedrooms": (0, 50), "beds": (0, 100), "bathrooms": (0, 50)}
NIGHTS_LIMIT = 1000
HOST_VISIBLE_STATUSES = ("active", "unpublished")  # what a host sees of their own listings
AUDIT_ACTIONS = {"active": "listing.restore", "unpublished": "listing.unpublish", "deleted": "listing.delete"}

# Field name -> column, for values stored as they come.
PLAIN_FIELDS = ("title", "description", "property_type", "latitude", "longitude", "max_guests", "bedrooms", "beds",
                "bathrooms", "min_nights", "max_nights", "cancellation_policy", "instant_book", "timezone")
ADDRESS_FIELDS = {"line1": "address_line1", "city": "city", "state": "state", "country": "country",
                  "postal_code": "postal_code"}
LISTING_FIELDS = frozenset((*PLAIN_FIELDS, "address", "price_per_night", "cleaning_fee", "amenities"))
# What schemas.ListingInputSchema loads for a field a new listing leaves out.
DEFAULTS: dict[str, Any] = {"description": "", "latitude": None, "longitude": None, "bedrooms": 0, "beds": 1,
                            "bathrooms": 1, "min_nights": 1, "max_nights": 365, "cancellation_policy": "moderate",
                            "instant_book": False, "timezone": "UTC", "amenities": [], "cleaning_fee": None}


def get_listing(listing_id: int, viewer: User | None = None) -> Listing:
    """An active listing, or an unpublished one when `viewer` is its host or an admin. Raises NotFoundError for a
    missing or deleted listing, and for an unpublished one anyone else asks for (to them it does not exist)."""
    listing = db.session.get(Listing, listing_id)
    if listing is None or not (listing.is_active or (listing.is_unpublished and can_manage(viewer, listing))):
        raise NotFoundError("Listing not found.")
    return listing


def get_managed_listing(listing_id: int, user: User) -> Listing:
    """An active or unpublished listing the user may manage. Raises NotFoundError, PermissionDenied."""
    listing = get_listing(listing_id, user)
    if not can_manage(user, listing):
        raise PermissionDenied("Only the listing's host or an admin can change it.")
    return listing


def list_amenities() -> list[Amenity]:
    """Every amenity of the catalogue, by name."""
    return list(db.session.scalars(select(Amenity).order_by(Amenity.name)))


def list_host_listings(host: User, page: int = 1, per_page: int = 20) -> Page:
    """The host's active and unpublished listings (an unpublished one with its notice), newest first."""
    query = (select(Listing).where(Listing.host_id == host.id, Listing.status.in_(HOST_VISIBLE_STATUSES))
             .order_by(Listing.created_at.desc(), Listing.id.desc()))
    return paginate(query, page, per_page)


def latest_listings(limit: int = 8) -> list[Listing]:
    """The newest active listings (for the home page), photos loaded."""
    from sqlalchemy.orm import selectinload

    query = (select(Listing).where(Listing.status == "active").options(selectinload(Listing.images))
             .order_by(Listing.created_at.desc(), Listing.id.desc()).limit(limit))
    return list(db.session.scalars(query))


def combination_errors(values: dict) -> dict[str, list[str]]:
    """The rules across fields of a complete listing (as ListingInputSchema loads it): both coordinates or
    neither, the cleaning fee in the nightly price's currency, min_nights not above max_nights."""
    errors: dict[str, list[str]] = {}
    if (values.get("latitude") is None) != (values.get("longitude") is None):
        errors["longitude" if values.get("longitude") is None else "latitude"] = ["Give both coordinates or neither."]
    fee, price = values.get("cleaning_fee"), values["price_per_night"]
    if fee is not None and fee["currency"] != price["currency"]:
        errors["cleaning_fee.currency"] = ["Must be the currency of the nightly price."]
    if values["min_nights"] > values["max_nights"]:
        errors["min_nights"] = ["Must not be more than max_nights."]
    return errors


def _amenity_rows(codes: list[str]) -> list[Amenity]:
    found = list(db.session.scalars(select(Amenity).where(Amenity.code.in_(set(codes))))) if codes else []
    unknown = sorted(set(codes) - {a.code for a in found})
    if unknown:
        raise ValidationFailed({"amenities": [f"Unknown amenity: {', '.join(unknown[:5])}."]})
    return found


def _checked(values: dict) -> dict:
    """A complete set of loaded listing values with the amenity rows looked up; raises ValidationFailed when the
    combination is wrong or an amenity code is not in the catalogue."""
    if errors := combination_errors(values):
        raise ValidationFailed(errors)
    return {**values, "amenity_rows": _amenity_rows(values["amenities"])}


def listing_values(listing: Listing) -> dict:
    """The listing's current values in create_listing's keyword arguments (the base for a partial update)."""
    values = {name: getattr(listing, name) for name in PLAIN_FIELDS}
    values["address"] = {key: getattr(listing, column) for key, column in ADDRESS_FIELDS.items()}
    values["price_per_night"] = {"amount": listing.price_per_night_amount, "currency": listing.currency}
    values["cleaning_fee"] = {"amount": listing.cleaning_fee_amount, "currency": listing.currency}
    values["amenities"] = [a.code for a in listing.amenities]
    return values


def _apply(listing: Listing, clean: dict) -> None:
    for name in PLAIN_FIELDS:
        setattr(listing, name, clean[name])
    for key, column in ADDRESS_FIELDS.items():
        setattr(listing, column, clean["address"][key])
    listing.price_per_night_amount = clean["price_per_night"]["amount"]
    listing.currency = clean["price_per_night"]["currency"]
    listing.cleaning_fee_amount = (clean.get("cleaning_fee") or {}).get("amount", 0)
    listing.price_usd_micros = rates.to_usd_micros(listing.price_per_night_amount, listing.currency,
                                                   rates.current_rates())
    listing.amenities = clean["amenity_rows"]
    listing.amenity_mask = amenity_mask(amenity.id for amenity in clean["amenity_rows"])


def create_listing(*, host: User, title: str, description: str, property_type: str, address: dict,
                   latitude: float | None, longitude: float | None, price_per_night: dict, cleaning_fee: dict | None,
                   max_guests: int, bedrooms: int, beds: int, bathrooms: int, min_nights: int, max_nights: int,
                   cancellation_policy: str, instant_book: bool, timezone: str, amenities: list[str]) -> Listing:
    """Create an active listing for a host or admin from values as schemas.ListingInputSchema loads them
    (`address` its five keys, prices Money dicts, amenity codes). Raises PermissionDenied, ValidationFailed
    (a wrong combination, an unknown amenity)."""
    if not host.has_role("host", "admin"):
        raise PermissionDenied("Only hosts can create listings; become a host first.")
    clean = _checked({
        "title": title, "description": description, "property_type": property_type, "address": address,
        "latitude": latitude, "longitude": longitude, "price_per_night": price_per_night,
        "cleaning_fee": cleaning_fee, "max_guests": max_guests, "bedrooms": bedrooms, "beds": beds,
        "bathrooms": bathrooms, "min_nights": min_nights, "max_nights": max_nights,
        "cancellation_policy": cancellation_policy, "instant_book": instant_book, "timezone": timezone,
        "amenities": amenities})
    listing = Listing(host_id=host.id, status="active")
    _apply(listing, clean)
    db.session.add(listing)
    places.write_places(listing, before=set())
    db.session.commit()
    search_cache.bump()
    logger.info("listing %s created by user %s", listing.id, host.id)
    return listing


def update_listing(listing: Listing, *, actor: User, **changes: Any) -> Listing:
    """Change some fields of a listing (its host or an admin): any of create_listing's keyword arguments, as
    ListingInputSchema loads them partially (`address` may hold only some of its keys). The result must still
    be a valid listing. Raises PermissionDenied, ValidationFailed."""
    unknown = changes.keys() - LISTING_FIELDS
    if unknown:
        raise TypeError(f"update_listing() got unexpected keyword arguments {sorted(unknown)}")
    if not can_manage(actor, listing):
        raise PermissionDenied("Only the listing's host or an admin can change it.")
    lock_listing(listing.id)  # and re-read it: the change applies to what was last committed
    before = places.place_keys(listing)
    values = listing_values(listing)
    if "address" in changes:
        changes["address"] = {**values["address"], **changes["address"]}
    if "cleaning_fee" not in changes and "price_per_night" in changes:
        # A new currency carries the cleaning fee along with it.
        values["cleaning_fee"] = {**values["cleaning_fee"], "currency": changes["price_per_night"]["currency"]}
    try:
        _apply(listing, _checked({**values, **changes}))
    except ValidationFailed:
        db.session.rollback()
        raise
    places.write_places(listing, before)
    db.session.commit()
    search_cache.bump()
    logger.info("listing %s updated by user %s", listing.id, actor.id)
    return listing


def delete_listing(listing: Listing, *, actor: User) -> None:
    """Soft-delete: the listing leaves search and its page, its history stays. Raises PermissionDenied, and
    whatever a receiver of signals.listing_deleting raises (the calendar: Conflict has_active_bookings)."""
    if not can_manage(actor, listing):
        raise PermissionDenied("Only the listing's host or an admin can delete it.")
    lock_listing(listing.id)  # no booking can start while the receivers look
    try:
        signals.listing_deleting.send(listing)  # the calendar refuses while upcoming bookings hold nights
    except Exception:
        db.session.rollback()
        raise
    _set_status(listing, "deleted", actor)
    logger.info("listing %s deleted by user %s", listing.id, actor.id)


def unpublish_listing(listing: Listing, *, actor: User) -> Listing:
    """An admin takes an active listing down (moderation), audited (listing.unpublish): it leaves search, its page
    answers 404 to everyone but its host and admins, and it cannot be booked or quoted; bookings already made
    stand (unlike deletion, upcoming stays do not stop it). Only restore_listing brings it back. Unpublishing an
    unpublished listing changes nothing. Raises PermissionDenied for anyone but an admin, Conflict invalid_state
    for a deleted listing."""
    if actor is None or not actor.is_admin:
        raise PermissionDenied("Only an admin can unpublish a listing.")
    lock_listing(listing.id)  # and re-read it: another admin may have acted already
    if not listing.is_active:
        db.session.rollback()
        if listing.is_unpublished:
            return listing
        raise Conflict("A deleted listing cannot be unpublished; restore it first.", code="invalid_state")
    _set_status(listing, "unpublished", actor)
    logger.info("listing %s unpublished by admin %s", listing.id, actor.id)
    return listing


def restore_listing(listing: Listing, *, actor: User) -> Listing:
    """An admin puts a deleted or unpublished listing back: in search and on its page again, audited
    (listing.restore). Restoring an active listing changes nothing. Raises PermissionDenied for anyone but an
    admin."""
    if actor is None or not actor.is_admin:
        raise PermissionDenied("Only an admin can restore a listing.")
    lock_listing(listing.id)  # and re-read it: another admin may have restored it already
    if listing.is_active:
        db.session.rollback()
        return listing
    _set_status(listing, "active", actor)
    logger.info("listing %s restored by admin %s", listing.id, actor.id)
    return listing


def _set_status(listing: Listing, status: str, actor: User) -> None:
    """Move the locked listing to `status` with its place rows, audit an admin's change, commit, and make every
    cached search see it."""
    before_places, before = places.place_keys(listing), (listing.status, listing.deleted_at)
    listing.status = status
    listing.deleted_at = utcnow() if status == "deleted" else None
    places.write_places(listing, before_places)
    if actor.is_admin:
        changes = {"status": (before[0], status)}
        if before[1] != listing.deleted_at:
            changes["deleted_at"] = (before[1], listing.deleted_at)
        audit.record(actor, AUDIT_ACTIONS[status], "listing", listing.id, changes)
    if status == "unpublished":
        signals.listing_unpublished.send(listing)  # the host is told, in this transaction
    db.session.commit()
    search_cache.bump()
