"""Quotes: a stay checked against a listing's rules, and what it costs now (the same numbers a booking gets)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from flask import current_app

from ... import money
from ...clock import listing_today
from ...errors import NotFoundError, ValidationFailed
from ...extensions import db
from ...models import Listing
from ..calendar import services as calendar
from ..calendar.ranges import stay_date_errors

MAX_GUESTS = 100
TAKEN_DOWN = "Abode has taken this listing down; it cannot be booked."


@dataclass(frozen=True)
class Stay:
    """Checked dates and party size for one listing."""

    check_in: date
    check_out: date
    guests: int

    @property
    def nights(self) -> int:
        return (self.check_out - self.check_in).days


@dataclass(frozen=True)
class Quote:
    """What a booking made now would cost, in the listing's currency and minor units."""

    nights: int
    currency: str
    nightly: int
    cleaning_fee: int
    service_fee: int
    total: int
    available: bool


def check_stay(listing: Listing, check_in: date, check_out: date, guests: int, *,
               today: date | None = None) -> Stay:
    """The stay checked against the listing's rules: the stay-date rules (calendar.ranges.stay_date_errors, at
    the listing's `today`), its minimum and maximum nights and its party size. Raises ValidationFailed naming
    every field at fault."""
    today = today or listing_today(listing)
    errors = stay_date_errors(check_in, check_out, today=today)
    if "check_out" not in errors:
        nights = (check_out - check_in).days
        if not listing.min_nights <= nights <= listing.max_nights:
            errors["check_out"] = [f"stays here are {listing.min_nights} to {listing.max_nights} nights"]
    if not 1 <= guests <= min(listing.max_guests, MAX_GUESTS):
        errors["guests"] = [f"this place sleeps 1 to {listing.max_guests}"]
    if errors:
        raise ValidationFailed(errors)
    return Stay(check_in, check_out, guests)


def service_fee(nightly: int, cleaning: int) -> int:
    """The guest's service fee on a stay whose nights cost `nightly` and whose cleaning fee is `cleaning` (minor
    units): SERVICE_FEE_PERCENT of both."""
    return money.percentage(nightly + cleaning, current_app.config["SERVICE_FEE_PERCENT"])


def stay_total(nightly: int, cleaning: int) -> int:
    """What the guest pays for such a stay: nights, cleaning fee and service fee (the quote's total)."""
    return nightly + cleaning + service_fee(nightly, cleaning)


def price_stay(listing: Listing, stay: Stay) -> Quote:
    """The price of `stay` now: each night at its own price or the base price, the cleaning fee, and the
    service fee (SERVICE_FEE_PERCENT of both); and whether every night is free (calendar.night_prices,
    calendar.is_free)."""
    nightly = sum(calendar.night_prices(listing, stay.check_in, stay.check_out).values())
    cleaning = listing.cleaning_fee_amount
    service = service_fee(nightly, cleaning)
    return Quote(nights=stay.nights, currency=listing.currency, nightly=nightly, cleaning_fee=cleaning,
                 service_fee=service, total=nightly + cleaning + service,
                 available=calendar.is_free(listing, stay.check_in, stay.check_out))


def quote(listing_id: int, check_in: date | None, check_out: date | None, guests: int, *,
          today: date | None = None) -> Quote:
    """The quote endpoint: the same checks as booking. A date the query left out is None: 422 required, after
    the listing is found. Raises NotFoundError (missing, deleted), ValidationFailed (property_id for a listing
    Abode took down, as booking it would)."""
    listing = active_listing(listing_id)
    if listing is None:
        unpublished = (found := _listing(listing_id)) is not None and found.is_unpublished
        raise not_bookable(listing_id) if unpublished else NotFoundError("Listing not found.")
    missing = {name: ["required"] for name, value in (("check_in", check_in), ("check_out", check_out))
               if value is None}
    if missing:
        raise ValidationFailed(missing)
    return price_stay(listing, check_stay(listing, check_in, check_out, guests, today=today))


def _listing(listing_id: Any) -> Listing | None:
    valid = isinstance(listing_id, int) and not isinstance(listing_id, bool) and 1 <= listing_id < 2**31
    return db.session.get(Listing, listing_id) if valid else None


def active_listing(listing_id: Any) -> Listing | None:
    """The listing if `listing_id` names an active one, else None (a value that is not an id included)."""
    listing = _listing(listing_id)
    return listing if listing is not None and listing.is_active else None


def not_bookable(listing_id: Any) -> ValidationFailed:
    """Why `listing_id` cannot be booked, as the 422 naming property_id: "no such listing" (missing, deleted), or
    for a listing an admin unpublished, that Abode took it down (its guests know it exists)."""
    listing = _listing(listing_id)
    taken_down = listing is not None and listing.is_unpublished
    return ValidationFailed({"property_id": [TAKEN_DOWN if taken_down else "no such listing"]})
