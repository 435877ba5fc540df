"""Bookings: creation that never double-books, the host's answer and cancellation; the reads (queries.py) and the
scheduler's jobs (jobs.py) are re-exported here, so callers import every bookings service from this module.

quotes.py checks a stay and prices it; the calendar holds and frees its nights. Every change to a booking runs in
one transaction that first locks its listing's row (listings.services.lock_listing), so the writers of one calendar
queue; the status only changes in state.py.
"""

from __future__ import annotations

import hashlib
import json
import logging
from datetime import date, datetime, timedelta

from flask import current_app
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from ... import audit, search_cache, transactions
from ...clock import listing_today
from ...errors import Conflict, PermissionDenied, ValidationFailed
from ...extensions import db
from ...locking import locked
from ...models import Booking, IdempotencyKey, Listing, User, utcnow
from ..calendar import services as calendar
from ..calendar.services import DatesUnavailable
from ..listings.services import lock_listing
from . import state
from .cancellations import CancellationPreview, canceler, cancellation_preview  # noqa: F401 (the bookings API)
from .queries import (  # noqa: F401 (the bookings API: callers keep importing them from here)
    TRIP_SECTIONS,
    bookings_by_id,
    list_bookings,
    list_trips,
    trip_counts,
    visible_booking,
)
from .quotes import (  # noqa: F401 (the bookings API)
    Quote,
    Stay,
    active_listing,
    check_stay,
    not_bookable,
    price_stay,
    quote,
)

logger = logging.getLogger(__name__)

MAX_KEY_LENGTH, MAX_REASON_LENGTH = 255, 500


def request_hash(listing_id: int, check_in: date, check_out: date, guests: int) -> str:
    """The booking request as it means, for its Idempotency-Key: a retry that spells out the default party size
    (`"guests": 1`) is the same request. The same digest as the JSON body's own values (dates as YYYY-MM-DD)."""
    fields = {"property_id": listing_id, "check_in": check_in.isoformat(), "check_out": check_out.isoformat(),
              "guests": guests}
    return hashlib.sha256(json.dumps(fields, sort_keys=True).encode()).hexdigest()


def _key_hash(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()


def _replay(user: User, key: str, digest: str) -> Booking | None:
    """The booking an earlier request with this key made; Conflict if that request asked for something else."""
    row = db.session.scalar(select(IdempotencyKey).where(IdempotencyKey.user_id == user.id,
                                                         IdempotencyKey.key_hash == _key_hash(key)))
    if row is None:
        return None
    if row.request_hash != digest:
        raise Conflict("This Idempotency-Key was used for a different booking request.",
                       code="idempotency_mismatch")
    return db.session.get(Booking, row.booking_id)


def create_booking(*, guest: User, listing_id: int, check_in: date, check_out: date, guests: int,
                   idempotency_key: str | None = None, now: datetime | None = None) -> tuple[Booking, bool]:
    """Book a stay: (booking, replayed). A retry with the same Idempotency-Key gets the first booking back.

    Checks, in this order: the key's length, an earlier request with the key (its booking, or Conflict
    idempotency_mismatch), the listing (ValidationFailed property_id: missing, deleted or unpublished), its own
    host (PermissionDenied), the stay (quotes.check_stay: ValidationFailed); then DatesUnavailable when a night
    is held.
    """
    if idempotency_key is not None and not 1 <= len(idempotency_key) <= MAX_KEY_LENGTH:
        raise ValidationFailed({"Idempotency-Key": [f"use 1 to {MAX_KEY_LENGTH} characters"]})
    digest = request_hash(listing_id, check_in, check_out, guests)
    if idempotency_key and (earlier := _replay(guest, idempotency_key, digest)) is not None:
        return earlier, True
    listing = active_listing(listing_id)
    if listing is None:
        raise not_bookable(listing_id)
    if listing.host_id == guest.id:
        raise PermissionDenied("Hosts cannot book their own listing.")
    now = now or utcnow()
    stay = check_stay(listing, check_in, check_out, guests, today=listing_today(listing, now))
    try:
        booking = _hold_stay(guest, listing, stay, now)
        if idempotency_key:
            db.session.add(IdempotencyKey(user_id=guest.id, key_hash=_key_hash(idempotency_key),
                                          request_hash=digest, booking_id=booking.id, created_at=now))
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        if idempotency_key and (earlier := _replay(guest, idempotency_key, digest)) is not None:
            return earlier, True  # a parallel request with this key won
        if price_stay(listing, stay).available:
            raise  # not a night held twice: a bug to see, not a 409
        raise DatesUnavailable("Some of those nights are already taken.") from None
    except Exception:
        db.session.rollback()
        raise
    search_cache.bump()
    logger.info("booking %s: listing %s, %s to %s, by user %s", booking.id, listing.id, stay.check_in,
                stay.check_out, guest.id)
    return booking, False


def _hold_stay(guest: User, listing: Listing, stay: Stay, now: datetime) -> Booking:
    """Insert the booking and hold its nights (calendar.hold_nights); a night already held fails the insert.

    Under the listing's lock the listing is read afresh, and the stay checked again against it: a host who
    deleted it or changed its rules a moment ago is not overruled by an older snapshot.
    """
    lock_listing(listing.id)
    if not listing.is_active:
        raise not_bookable(listing.id)
    stay = check_stay(listing, stay.check_in, stay.check_out, stay.guests, today=listing_today(listing, now))
    price = price_stay(listing, stay)
    booking = Booking(listing_id=listing.id, guest_id=guest.id, check_in=stay.check_in, check_out=stay.check_out,
                      nights=stay.nights, guests=stay.guests, status="pending", currency=price.currency,
                      nightly_amount=price.nightly, cleaning_fee_amount=price.cleaning_fee,
                      service_fee_amount=price.service_fee, total_amount=price.total,
                      cancellation_policy=listing.cancellation_policy, instant_book=listing.instant_book,
                      timezone=listing.timezone or "UTC", city=listing.city,
                      created_at=now,  # one instant: the payment window
                      expires_at=now + timedelta(minutes=current_app.config["BOOKING_PAYMENT_MINUTES"]))
    db.session.add(booking)
    db.session.flush()
    calendar.hold_nights(booking)
    return booking


def locked_booking(booking_id: int) -> Booking:
    """The booking re-read under its listing's lock (a locking read: the latest committed status); the lock
    lasts until the caller commits. Payments take it before paying a booking."""
    listing_id = db.session.scalar(select(Booking.listing_id).where(Booking.id == booking_id))
    lock_listing(listing_id)
    return locked(Booking, booking_id)


def _change(booking_id: int, apply, what: str) -> Booking:
    """Run one transition under the listing's lock and commit it (with what its signal's receivers wrote); what
    they deferred to after the commit (a refund sent to the provider) runs then."""
    try:
        booking = locked_booking(booking_id)
        apply(booking)
        transactions.commit()
    except Exception:
        db.session.rollback()
        raise
    search_cache.bump()
    logger.info("booking %s %s (now %s)", booking.id, what, booking.status)
    return booking


def _hosts(booking: Booking, user: User) -> None:
    if user.id != booking.listing.host_id:
        raise PermissionDenied("Only the listing's host can answer a booking request.")


def approve_booking(booking_id: int, actor: User, now: datetime | None = None) -> Booking:
    """The host accepts a paid request to book. Raises NotFoundError, PermissionDenied, InvalidState."""
    _hosts(visible_booking(booking_id, actor), actor)
    return _change(booking_id, lambda booking: state.approve(booking, now or utcnow()), "approved")


def decline_booking(booking_id: int, actor: User, now: datetime | None = None) -> Booking:
    """The host refuses a paid request to book: canceled, full refund."""
    _hosts(visible_booking(booking_id, actor), actor)
    return _change(booking_id, lambda booking: state.cancel(booking, "declined", now or utcnow()), "declined")


def cancel_booking(booking_id: int, actor: User, reason: str | None = None, now: datetime | None = None) -> Booking:
    """The guest, the listing's host or an admin cancels; the refund follows the policy (state.refund_for). The
    reason is checked by the door (schemas.CancelSchema, forms.CancelForm: at most MAX_REASON_LENGTH). An admin's
    cancel is audited (booking.cancel) in its transaction."""
    booking = visible_booking(booking_id, actor)
    canceled_by = canceler(booking, actor)

    def apply(locked: Booking) -> None:
        before = locked.status
        state.cancel(locked, canceled_by, now or utcnow(), reason or None)
        if canceled_by == "admin":  # in the cancel's transaction: no entry for a refusal (InvalidState)
            audit.record(actor, "booking.cancel", "booking", locked.id,
                         {"status": (before, locked.status), "refund_amount": (None, locked.refund_amount),
                          "cancel_reason": (None, locked.cancel_reason)})

    return _change(booking_id, apply, f"canceled by the {canceled_by}")


def record_payment(booking_id: int, amount: int, now: datetime | None = None) -> Booking:
    """A charge of the booking's total succeeded: the status moves on (payments does this inside its own
    transaction with state.pay; this is for tools and tests that record a payment made elsewhere)."""
    return _change(booking_id, lambda booking: state.pay(booking, amount, now or utcnow()), "paid")


# Last: jobs.py calls _change above, and the package imports this module before anyone can import jobs.py.
from .jobs import complete_due, expire_due  # noqa: E402,F401 (the scheduler's jobs)
