"""Listing rules: who may create and edit, what a valid listing is and soft deletion (photos: photos.py)."""

from __future__ import annotations

import logging
from datetime import date
from typing import Any

from sqlalchemy import select

from ... import clock, geo, money, rates, search_cache
from ...errors import Conflict, NotFoundError, PermissionDenied, ValidationFailed
from ...extensions import db
from ...models import (
    CANCELLATION_POLICIES,
    PROPERTY_TYPES,
    Amenity,
    NightHold,
    Property,
    User,
    utcnow,
)
from ...models.listing import amenity_mask
from ...pagination import Page, paginate
from . import holds, places
from .access import can_manage
from .photos import MAX_IMAGES, add_image, delete_image, move_image  # noqa: F401 (re-exported)

logger = logging.getLogger(__name__)

TITLE_MIN, TITLE_MAX, DESCRIPTION_MAX = 3, 120, 5000
MAX_AMOUNT = 100_000_000  # minor units; far above any nightly price, far below the INT column's limit
COUNTS = {"max_guests": (1, 50), "bedrooms": (0, 50), "beds": (0, 100), "bathrooms": (0, 50)}
NIGHTS_LIMIT = 1000

# Field name -> column, for values stored as they come.
PLAIN_FIELDS = ("title", "description", "property_type", "latitude", "longitude", "max_guests", "bedrooms", "beds",
                "bathrooms", "min_nights", "max_nights", "cancellation_policy", "instant_book", "timezone")
ADDRESS_FIELDS = {"line1": "address_line1", "city": "city", "state": "state", "country": "country",
                  "postal_code": "postal_code"}
DEFAULTS: dict[str, Any] = {"description": "", "latitude": None, "longitude": None, "bedrooms": 0, "beds": 1,
                            "bathrooms": 1, "min_nights": 1, "max_nights": 365, "cancellation_policy": "moderate",
                            "instant_book": False, "timezone": "UTC", "amenities": [], "cleaning_fee": None}


def get_listing(listing_id: int) -> Property:
    """An active listing; raises NotFoundError for a missing or deleted one."""
    listing = db.session.get(Property, listing_id)
    if listing is None or not listing.is_active:
        raise NotFoundError("Listing not found.")
    return listing


def get_managed_listing(listing_id: int, user: User) -> Property:
    """An active listing the user may manage. Raises NotFoundError, PermissionDenied."""
    listing = get_listing(listing_id)
    if not can_manage(user, listing):
        raise PermissionDenied("Only the listing's host or an admin can change it.")
    return listing


def list_amenities() -> list[Amenity]:
    """Every amenity of the catalogue, by name."""
    return list(db.session.scalars(select(Amenity).order_by(Amenity.name)))


def list_host_listings(host: User, page: int = 1, per_page: int = 20) -> Page:
    """The host's active listings, newest first."""
    query = (select(Property).where(Property.host_id == host.id, Property.status == "active")
             .order_by(Property.created_at.desc(), Property.id.desc()))
    return paginate(query, page, per_page)


def latest_listings(limit: int = 8) -> list[Property]:
    """The newest active listings (for the home page), photos loaded."""
    from sqlalchemy.orm import selectinload

    query = (select(Property).where(Property.status == "active").options(selectinload(Property.images))
             .order_by(Property.created_at.desc(), Property.id.desc()).limit(limit))
    return list(db.session.scalars(query))


def _text(errors: dict, name: str, value: Any, *, required: bool, low: int, high: int) -> str:
    text = value.strip() if isinstance(value, str) else ""
    if value is not None and not isinstance(value, str):
        errors[name] = ["Must be text."]
    elif required and len(text) < max(low, 1):
        errors[name] = [f"Enter {low} to {high} characters." if low > 1 else "This field is required."]
    elif len(text) > high:
        errors[name] = [f"Use at most {high} characters."]
    return text


def _integer(errors: dict, name: str, value: Any, low: int, high: int) -> int | None:
    if isinstance(value, bool) or not isinstance(value, int):
        errors[name] = ["Must be a whole number."]
        return None
    if not low <= value <= high:
        errors[name] = [f"Must be between {low} and {high}."]
    return value


def _money(errors: dict, name: str, value: Any, *, minimum: int) -> tuple[int, str] | None:
    if not isinstance(value, dict):
        errors[name] = ["Give an object with amount (minor units) and currency."]
        return None
    amount, code = value.get("amount"), value.get("currency")
    if not money.is_supported(code):
        errors[f"{name}.currency"] = ["Unknown or unsupported currency."]
    if isinstance(amount, bool) or not isinstance(amount, int):
        errors[f"{name}.amount"] = ["Must be a whole number of minor units (e.g. cents)."]
    elif not minimum <= amount <= MAX_AMOUNT:
        errors[f"{name}.amount"] = [f"Must be between {minimum} and {MAX_AMOUNT}."]
    return (amount, code) if not any(k.startswith(name) for k in errors) else None


def _coordinates(errors: dict, values: dict) -> None:
    for name, limit in (("latitude", 90), ("longitude", 180)):
        value = values.get(name)
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            errors[name] = ["Must be a number."]
        elif not -limit <= value <= limit:
            errors[name] = [f"Must be between -{limit} and {limit}."]
    if (values.get("latitude") is None) != (values.get("longitude") is None) and not errors.keys() & {"latitude",
                                                                                                       "longitude"}:
        errors["longitude" if values.get("longitude") is None else "latitude"] = ["Give both coordinates or neither."]


def _amenities(errors: dict, codes: Any) -> list[Amenity]:
    if not isinstance(codes, list) or not all(isinstance(code, str) for code in codes):
        errors["amenities"] = ["Give a list of amenity codes."]
        return []
    found = list(db.session.scalars(select(Amenity).where(Amenity.code.in_(set(codes))))) if codes else []
    unknown = sorted(set(codes) - {a.code for a in found})
    if unknown:
        errors["amenities"] = [f"Unknown amenity: {', '.join(unknown[:5])}."]
    return found


def validate_listing(values: dict) -> dict:
    """Check a complete set of listing values; returns them cleaned. Raises ValidationFailed naming each field."""
    errors: dict[str, list[str]] = {}
    clean = dict(values)
    clean["title"] = _text(errors, "title", values.get("title"), required=True, low=TITLE_MIN, high=TITLE_MAX)
    clean["description"] = _text(errors, "description", values.get("description") or "", required=False, low=0,
                                 high=DESCRIPTION_MAX)
    if values.get("property_type") not in PROPERTY_TYPES:
        errors["property_type"] = [f"Choose one of {', '.join(PROPERTY_TYPES)}."]
    address = values.get("address")
    if not isinstance(address, dict):
        errors["address"] = ["Give an address object with line1, city, state, country and postal_code."]
        address = {}
    clean["address"] = {
        "line1": _text(errors, "address.line1", address.get("line1") or "", required=False, low=0, high=200),
        "city": _text(errors, "address.city", address.get("city"), required=True, low=1, high=100),
        "state": _text(errors, "address.state", address.get("state") or "", required=False, low=0, high=100),
        "country": address.get("country"),
        "postal_code": _text(errors, "address.postal_code", address.get("postal_code") or "", required=False,
                             low=0, high=20),
    }
    if not geo.is_country(address.get("country")):
        errors["address.country"] = ["Use an ISO 3166 alpha-2 country code such as FR."]
    _coordinates(errors, values)
    price = _money(errors, "price_per_night", values.get("price_per_night"), minimum=1)
    if values.get("cleaning_fee") is not None:
        fee = _money(errors, "cleaning_fee", values["cleaning_fee"], minimum=0)
        if fee and price and fee[1] != price[1]:
            errors["cleaning_fee.currency"] = ["Must be the currency of the nightly price."]
    for name, (low, high) in COUNTS.items():
        _integer(errors, name, values.get(name), low, high)
    min_nights = _integer(errors, "min_nights", values.get("min_nights"), 1, NIGHTS_LIMIT)
    max_nights = _integer(errors, "max_nights", values.get("max_nights"), 1, NIGHTS_LIMIT)
    if min_nights and max_nights and "min_nights" not in errors and min_nights > max_nights:
        errors["min_nights"] = ["Must not be more than max_nights."]
    if values.get("cancellation_policy") not in CANCELLATION_POLICIES:
        errors["cancellation_policy"] = [f"Choose one of {', '.join(CANCELLATION_POLICIES)}."]
    if not isinstance(values.get("instant_book"), bool):
        errors["instant_book"] = ["Must be true or false."]
    if not geo.is_timezone(values.get("timezone")):
        errors["timezone"] = ["Use an IANA time zone name such as Europe/Paris."]
    clean["amenity_rows"] = _amenities(errors, values.get("amenities"))
    if errors:
        raise ValidationFailed(errors)
    return clean


def listing_values(listing: Property) -> dict:
    """The listing's current values in the shape validate_listing takes (the base for a partial update)."""
    values = {name: getattr(listing, name) for name in PLAIN_FIELDS}
    values["address"] = {key: getattr(listing, column) for key, column in ADDRESS_FIELDS.items()}
    values["price_per_night"] = {"amount": listing.price_per_night_amount, "currency": listing.currency}
    values["cleaning_fee"] = {"amount": listing.cleaning_fee_amount, "currency": listing.currency}
    values["amenities"] = [a.code for a in listing.amenities]
    return values


def _apply(listing: Property, clean: dict) -> None:
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


def create_listing(*, host: User, data: dict) -> Property:
    """Create an active listing for a host or admin. Raises PermissionDenied, ValidationFailed."""
    if not host.has_role("host", "admin"):
        raise PermissionDenied("Only hosts can create listings; become a host first.")
    clean = validate_listing({**DEFAULTS, **data})
    listing = Property(host_id=host.id, status="active")
    _apply(listing, clean)
    db.session.add(listing)
    places.write_places(listing, before=set())
    db.session.commit()
    search_cache.bump()
    logger.info("listing %s created by user %s", listing.id, host.id)
    return listing


def update_listing(listing: Property, *, actor: User, data: dict) -> Property:
    """Change some fields of a listing (its host or an admin). Raises PermissionDenied, ValidationFailed."""
    if not can_manage(actor, listing):
        raise PermissionDenied("Only the listing's host or an admin can change it.")
    holds.lock_listing(listing.id)  # and re-read it: the change applies to what was last committed
    before = places.place_keys(listing)
    values = listing_values(listing)
    if "address" in data and isinstance(data["address"], dict):
        data = {**data, "address": {**values["address"], **data["address"]}}
    if "cleaning_fee" not in data and "price_per_night" in data and isinstance(data["price_per_night"], dict):
        # A new currency carries the cleaning fee along with it.
        values["cleaning_fee"] = {**values["cleaning_fee"], "currency": data["price_per_night"].get("currency")}
    try:
        _apply(listing, validate_listing({**values, **data}))
    except ValidationFailed:
        db.session.rollback()
        raise
    places.write_places(listing, before)
    db.session.commit()
    search_cache.bump()
    logger.info("listing %s updated by user %s", listing.id, actor.id)
    return listing


def has_active_bookings(listing: Property, today: date | None = None) -> bool:
    """True while a pending or confirmed booking holds any night from the listing's today on (its own date,
    clock.listing_today)."""
    today = today or clock.listing_today(listing)
    return db.session.scalar(
        select(NightHold.night).where(NightHold.property_id == listing.id, NightHold.booking_id.is_not(None),
                                      NightHold.night >= today).limit(1)
    ) is not None


def delete_listing(listing: Property, *, actor: User) -> None:
    """Soft-delete: the listing leaves search and its page, its history stays. Raises Conflict, PermissionDenied."""
    if not can_manage(actor, listing):
        raise PermissionDenied("Only the listing's host or an admin can delete it.")
    holds.lock_listing(listing.id)  # no booking can start while this looks
    if has_active_bookings(listing):
        db.session.rollback()
        raise Conflict("The listing has upcoming bookings; cancel them first.", code="has_active_bookings")
    before = places.place_keys(listing)
    listing.status = "deleted"
    listing.deleted_at = utcnow()
    places.write_places(listing, before)
    db.session.commit()
    search_cache.bump()
    logger.info("listing %s deleted by user %s", listing.id, actor.id)
