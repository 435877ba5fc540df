"""The nightly calendar: which nights are free and what each costs; bookings hold nights, hosts block, reopen and
price them.

The only code that writes `night_holds` and `night_prices`, and the one place a night's price is decided. Every
writer takes the listing's row lock first (listings.services.lock_listing) and rebuilds the held-nights string
search reads (holds.py) in the same transaction.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import ColumnElement, delete, func, insert, select
from sqlalchemy.exc import IntegrityError

from ... import clock, search_cache
from ...errors import Conflict, PermissionDenied, ValidationFailed
from ...extensions import db
from ...models import ACTIVE_BOOKING_STATUSES, Booking, Listing, NightHold, NightPrice, User
from ..listings import services as listings
from ..listings.services import MAX_AMOUNT, can_manage
from . import holds
from .ranges import MAX_RANGES, NightRange, check_range, nights

logger = logging.getLogger(__name__)


class DatesUnavailable(Conflict):
    code = "dates_unavailable"


@dataclass
class CalendarDay:
    """One night of a listing's calendar."""

    date: date
    available: bool
    price: int
    currency: str
    hold: str | None  # None (free), "blocked" (by the host) or "booked"


def get_calendar(listing: Listing, start: date, end: date, today: date | None = None) -> list[CalendarDay]:
    """Each night of [start, end) with its availability and price (custom or the base price).

    `today` is the listing's own date (clock.listing_today, the default; a page that marks it passes the one it
    shows). `start` may be any date from a year before it, and the range spans at most a year and ends at most
    three years after it. Nights before the listing's today are never available, whatever the server's date: a
    listing already on tomorrow's date does not offer the server's today, and one still on yesterday's offers
    the server's yesterday, its tonight. Raises ValidationFailed.
    """
    today = today or clock.listing_today(listing)
    check_range(start, end, today=today)
    held = dict(db.session.execute(
        select(NightHold.night, NightHold.booking_id)
        .where(NightHold.listing_id == listing.id, NightHold.night >= start, NightHold.night < end)
    ).all())
    days = []
    for night, price in night_prices(listing, start, end).items():
        hold = None if night not in held else ("booked" if held[night] is not None else "blocked")
        days.append(CalendarDay(date=night, available=hold is None and night >= today, price=price,
                                currency=listing.currency, hold=hold))
    return days


def night_prices(listing: Listing, start: date, end: date) -> dict[date, int]:
    """{night: its price in the listing's minor units} for each night of [start, end), in order: the host's price
    for that night (night_prices) or else the listing's base price. The one place a night's price is decided."""
    custom = dict(db.session.execute(
        select(NightPrice.night, NightPrice.amount)
        .where(NightPrice.listing_id == listing.id, NightPrice.night >= start, NightPrice.night < end)).all())
    return {night: custom.get(night, listing.price_per_night_amount) for night in nights(start, end)}


def stay_amount(start: date, end: date) -> ColumnElement[int]:
    """SQL: what the nights of [start, end) cost on each listing row, in its minor units: night_prices' rule (the
    host's price for a night that has one, else the base price) summed in the database, for search."""
    custom = (select(func.coalesce(func.sum(NightPrice.amount - Listing.price_per_night_amount), 0))
              .where(NightPrice.listing_id == Listing.id, NightPrice.night >= start, NightPrice.night < end)
              .scalar_subquery())
    return Listing.price_per_night_amount * (end - start).days + custom


def stay_amounts(listing_ids: Iterable[int], start: date, end: date) -> dict[int, int]:
    """{listing id: what the nights of [start, end) cost it, in its minor units} (stay_amount) for these listings."""
    ids = list(listing_ids)
    if not ids:
        return {}
    rows = db.session.execute(select(Listing.id, stay_amount(start, end)).where(Listing.id.in_(ids)))
    return {listing_id: int(amount) for listing_id, amount in rows}  # MariaDB sums into a DECIMAL


def is_free(listing: Listing, start: date, end: date) -> bool:
    """True when no night of [start, end) is held (booked or blocked) on the listing."""
    return db.session.scalar(select(NightHold.night).where(
        NightHold.listing_id == listing.id, NightHold.night >= start, NightHold.night < end).limit(1)) is None


def has_upcoming_bookings(listing: Listing, today: date | None = None) -> bool:
    """True while a pending or confirmed booking holds any night from the listing's today on (its own date,
    clock.listing_today). The status decides: a stay completed early (jobs run-due --now) keeps its nights
    but no longer blocks anything."""
    today = today or clock.listing_today(listing)
    return db.session.scalar(
        select(NightHold.night).join(Booking, Booking.id == NightHold.booking_id)
        .where(NightHold.listing_id == listing.id, Booking.status.in_(ACTIVE_BOOKING_STATUSES),
               NightHold.night >= today).limit(1)
    ) is not None


def hold_nights(booking: Booking) -> None:
    """In the caller's transaction, under the listing's lock: one night_holds row per night of the booking's stay
    (the booking must have its id), and the listing's held-nights string rebuilt. A night already held makes the
    insert fail with IntegrityError (the primary key): the caller rolls back and answers DatesUnavailable."""
    db.session.execute(insert(NightHold), [{"listing_id": booking.listing_id, "night": night,
                                            "booking_id": booking.id}
                                           for night in nights(booking.check_in, booking.check_out)])
    holds.refresh_held_nights(booking.listing)


def release_nights(booking: Booking) -> None:
    """In the caller's transaction, under the listing's lock: free the nights the booking holds, and rebuild the
    listing's held-nights string."""
    db.session.execute(delete(NightHold).where(NightHold.listing_id == booking.listing_id,
                                               NightHold.booking_id == booking.id))
    holds.refresh_held_nights(booking.listing)


def _check_range(index: int, item: NightRange, listing: Listing, today: date) -> int | None:
    """The rules a range obeys at the listing's `today`, reported on `ranges.<index>...`; its price's amount."""
    prefix = f"ranges.{index}"
    check_range(item.start, item.end, field=f"{prefix}.end", today=today)
    if item.start < today:
        raise ValidationFailed({f"{prefix}.start": ["Past nights cannot be changed."]})
    amount = None if item.price is None else _price_amount(prefix, item.price, listing)
    if item.available is None and item.price is None and not item.base_price:
        raise ValidationFailed({prefix: ["Say available (true/false), price, or both."]})
    return amount


def _price_amount(prefix: str, price: Mapping, listing: Listing) -> int:
    amount = price.get("amount")
    if price.get("currency") != listing.currency:
        raise ValidationFailed({f"{prefix}.price": [f"Give a Money object in the listing's currency "
                                                    f"({listing.currency})."]})
    if isinstance(amount, bool) or not isinstance(amount, int) or not 1 <= amount <= MAX_AMOUNT:
        raise ValidationFailed({f"{prefix}.price.amount": [f"Must be a whole number from 1 to {MAX_AMOUNT}."]})
    return amount


def block_nights(listing: Listing, start: date, end: date) -> None:
    """Block the free nights of [start, end) for the host (in the caller's transaction, under the listing's lock).
    Raises DatesUnavailable when a booking holds one; IntegrityError when one was booked meanwhile."""
    booked = db.session.scalar(
        select(NightHold.night).where(NightHold.listing_id == listing.id, NightHold.night >= start,
                                      NightHold.night < end, NightHold.booking_id.is_not(None)).limit(1))
    if booked is not None:
        raise DatesUnavailable(f"{booked.isoformat()} is booked; a booked night cannot be blocked.")
    taken = set(db.session.scalars(
        select(NightHold.night).where(NightHold.listing_id == listing.id, NightHold.night >= start,
                                      NightHold.night < end)))
    db.session.add_all(NightHold(listing_id=listing.id, night=night, booking_id=None)
                       for night in nights(start, end) if night not in taken)
    db.session.flush()  # a booking that took one of these nights meanwhile makes this fail: IntegrityError


def reopen_nights(listing: Listing, start: date, end: date) -> None:
    """Free the host's blocked nights of [start, end); booked nights stay booked (caller's transaction and lock)."""
    db.session.execute(delete(NightHold).where(NightHold.listing_id == listing.id, NightHold.night >= start,
                                               NightHold.night < end, NightHold.booking_id.is_(None)))


def set_night_prices(listing: Listing, start: date, end: date, amount: int | None) -> None:
    """Price every night of [start, end) at `amount` (None or the base price: back to the base price), in the
    caller's transaction."""
    db.session.execute(delete(NightPrice).where(NightPrice.listing_id == listing.id, NightPrice.night >= start,
                                                NightPrice.night < end))
    if amount is not None and amount != listing.price_per_night_amount:
        db.session.add_all(NightPrice(listing_id=listing.id, night=night, amount=amount)
                           for night in nights(start, end))
        db.session.flush()


def authorize_calendar(actor: User, listing: Listing) -> None:
    """Only the listing's host or an admin changes its calendar: PermissionDenied for anyone else (the API asks
    before it reads the ranges, so a stranger learns nothing from their faults)."""
    if not can_manage(actor, listing):
        raise PermissionDenied("Only the listing's host or an admin can change its calendar.")


def set_availability(listing: Listing, *, actor: User, ranges: list[NightRange],
                     now: datetime | None = None) -> tuple[date, date]:
    """Apply every range (block, reopen, price) in one transaction, or none of them. A range may not start before
    the listing's today at `now` (clock.listing_today; default the real time): past nights cannot be changed.

    Returns (the earliest start, the latest end) of the ranges. Raises PermissionDenied, ValidationFailed (the
    first range at fault, `ranges.0.end`), DatesUnavailable (a night in the range is held by a booking).
    """
    authorize_calendar(actor, listing)
    today = clock.listing_today(listing, now)
    if not ranges:
        raise ValidationFailed({"ranges": ["Give a non-empty list of ranges."]})
    if len(ranges) > MAX_RANGES:
        raise ValidationFailed({"ranges": [f"At most {MAX_RANGES} ranges at a time."]})
    amounts = [_check_range(index, item, listing, today) for index, item in enumerate(ranges)]
    try:
        listings.lock_listing(listing.id)
        for item, amount in zip(ranges, amounts, strict=True):
            if item.available is False:
                block_nights(listing, item.start, item.end)
            elif item.available is True:
                reopen_nights(listing, item.start, item.end)
            if item.price is not None or item.base_price:
                set_night_prices(listing, item.start, item.end, amount)
        holds.refresh_held_nights(listing, now)
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        raise DatesUnavailable("Some of those nights were just booked; reload the calendar.") from None
    except Exception:
        db.session.rollback()
        raise
    search_cache.bump()
    logger.info("calendar of listing %s changed by user %s (%s ranges)", listing.id, actor.id, len(ranges))
    return min(item.start for item in ranges), max(item.end for item in ranges)
