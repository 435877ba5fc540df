"""Bookings: creation that never double-books, the host's answer, cancellation, and the scheduler's jobs.

quotes.py checks a stay and prices it. Every change to a booking runs in one transaction that first locks its
listing's row (listings/holds.py), so the writers of one calendar queue; the status only changes in state.py.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Mapping
from datetime import date, datetime, timedelta
from typing import Any

from flask import current_app
from sqlalchemy import and_, case, func, insert, not_, or_, select
from sqlalchemy.exc import IntegrityError

from ... import search_cache, transactions
from ...clock import listing_today
from ...errors import Conflict, NotFoundError, PermissionDenied, ValidationFailed
from ...extensions import db
from ...locking import locked
from ...models import BOOKING_STATUSES, Booking, IdempotencyKey, NightHold, Property, User, utcnow
from ...pagination import Page, paginate
from ..listings import holds
from ..listings.calendar import DatesUnavailable
from ..listings.calendar import nights as nights_between
from . import state
from .cancellations import CancellationPreview, canceler, cancellation_preview  # noqa: F401 (the bookings API)
from .quotes import Quote, Stay, active_listing, get_quote, parse_stay, quote  # noqa: F401 (the bookings API)

logger = logging.getLogger(__name__)

MAX_KEY_LENGTH, MAX_REASON_LENGTH = 255, 500


def _request_hash(data: Mapping) -> str:
    """The request as it means: a retry that spells out a default (`"guests": 1`) is the same request."""
    fields = {name: data.get(name) for name in ("property_id", "check_in", "check_out")}
    fields["guests"] = data.get("guests", 1)
    return hashlib.sha256(json.dumps(fields, sort_keys=True, default=str).encode()).hexdigest()


def _key_hash(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()


def _replay(user: User, key: str, request_hash: str) -> Booking | None:
    """The booking an earlier request with this key made; Conflict if that request asked for something else."""
    row = db.session.scalar(select(IdempotencyKey).where(IdempotencyKey.user_id == user.id,
                                                         IdempotencyKey.key_hash == _key_hash(key)))
    if row is None:
        return None
    if row.request_hash != request_hash:
        raise Conflict("This Idempotency-Key was used for a different booking request.",
                       code="idempotency_mismatch")
    return db.session.get(Booking, row.booking_id)


def create_booking(guest: User, data: Mapping, *, idempotency_key: str | None = None,
                   now: datetime | None = None) -> tuple[Booking, bool]:
    """Book a stay: (booking, replayed). A retry with the same Idempotency-Key gets the first booking back.

    Raises ValidationFailed, PermissionDenied (the listing's own host), DatesUnavailable (a night is held),
    Conflict idempotency_mismatch.
    """
    if idempotency_key is not None and not 1 <= len(idempotency_key) <= MAX_KEY_LENGTH:
        raise ValidationFailed({"Idempotency-Key": [f"use 1 to {MAX_KEY_LENGTH} characters"]})
    request_hash = _request_hash(data)
    if idempotency_key and (earlier := _replay(guest, idempotency_key, request_hash)) is not None:
        return earlier, True
    listing = active_listing(data.get("property_id"))
    if listing is None:
        raise ValidationFailed({"property_id": ["no such listing"]})
    if listing.host_id == guest.id:
        raise PermissionDenied("Hosts cannot book their own listing.")
    now = now or utcnow()
    stay = parse_stay(listing, data, today=listing_today(listing, now))
    try:
        booking = _hold_stay(guest, listing, stay, now)
        if idempotency_key:
            db.session.add(IdempotencyKey(user_id=guest.id, key_hash=_key_hash(idempotency_key),
                                          request_hash=request_hash, booking_id=booking.id, created_at=now))
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        if idempotency_key and (earlier := _replay(guest, idempotency_key, request_hash)) is not None:
            return earlier, True  # a parallel request with this key won
        if quote(listing, stay).available:
            raise  # not a night held twice: a bug to see, not a 409
        raise DatesUnavailable("Some of those nights are already taken.") from None
    except Exception:
        db.session.rollback()
        raise
    search_cache.bump()
    logger.info("booking %s: listing %s, %s to %s, by user %s", booking.id, listing.id, stay.check_in,
                stay.check_out, guest.id)
    return booking, False


def _hold_stay(guest: User, listing: Property, stay: Stay, now: datetime) -> Booking:
    """Insert the booking and one night_holds row per night; a night already held fails the insert.

    Under the listing's lock the listing is read afresh, and the stay checked again against it: a host who
    deleted it or changed its rules a moment ago is not overruled by an older snapshot.
    """
    holds.lock_listing(listing.id)
    if not listing.is_active:
        raise ValidationFailed({"property_id": ["no such listing"]})
    stay = parse_stay(listing, {"check_in": stay.check_in.isoformat(), "check_out": stay.check_out.isoformat(),
                                "guests": stay.guests}, today=listing_today(listing, now))
    price = quote(listing, stay)
    booking = Booking(property_id=listing.id, guest_id=guest.id, check_in=stay.check_in, check_out=stay.check_out,
                      nights=stay.nights, guests=stay.guests, status="pending", currency=price.currency,
                      nightly_amount=price.nightly, cleaning_fee_amount=price.cleaning_fee,
                      service_fee_amount=price.service_fee, total_amount=price.total,
                      cancellation_policy=listing.cancellation_policy, instant_book=listing.instant_book,
                      timezone=listing.timezone or "UTC",
                      expires_at=now + timedelta(minutes=current_app.config["BOOKING_PAYMENT_MINUTES"]))
    db.session.add(booking)
    db.session.flush()
    db.session.execute(insert(NightHold), [{"property_id": listing.id, "night": night, "booking_id": booking.id}
                                           for night in nights_between(stay.check_in, stay.check_out)])
    holds.refresh_held_nights(listing)
    return booking


def bookings_by_id(ids: list[int]) -> list[Booking]:
    """These bookings (with their listings), for pages that show other records of them."""
    return list(db.session.scalars(select(Booking).where(Booking.id.in_(ids)))) if ids else []


def visible_booking(booking_id: int, user: User) -> Booking:
    """A booking its guest, its listing's host or an admin may see; anyone else gets NotFoundError."""
    booking = db.session.get(Booking, booking_id)
    if booking is None or not (user.is_admin or user.id in (booking.guest_id, booking.listing.host_id)):
        raise NotFoundError("Booking not found.")
    return booking


def list_bookings(user: User, args: Mapping, page: int, per_page: int) -> Page:
    """The caller's bookings as guest (default) or as host, newest check-in first; `status` may list several
    statuses separated by commas, and `awaiting_approval=true` keeps the paid requests waiting for their host."""
    role = args.get("as") or "guest"
    statuses = [status.strip() for status in (args.get("status") or "").split(",") if status.strip()]
    awaiting = (args.get("awaiting_approval") or "").strip().lower()
    if role not in ("guest", "host"):
        raise ValidationFailed({"as": ["choose guest or host"]})
    if any(status not in BOOKING_STATUSES for status in statuses):
        raise ValidationFailed({"status": [f"choose from {', '.join(BOOKING_STATUSES)}"]})
    if awaiting not in ("", "true", "false"):
        raise ValidationFailed({"awaiting_approval": ["true or false"]})
    query = select(Booking)
    if role == "guest":
        query = query.where(Booking.guest_id == user.id)
    else:
        query = query.join(Property, Property.id == Booking.property_id).where(Property.host_id == user.id)
    if statuses:
        query = query.where(Booking.status.in_(statuses))
    if awaiting:
        waiting = and_(Booking.status == "pending", Booking.paid_at.is_not(None), Booking.instant_book.is_(False))
        query = query.where(waiting if awaiting == "true" else not_(waiting))
    return paginate(query.order_by(Booking.check_in.desc(), Booking.id.desc()), page, per_page)


TRIP_SECTIONS = ("upcoming", "past", "canceled")


def _trip_section(section: str, today: date):
    """SQL condition of a Trips section: upcoming stays (pending or confirmed, not over), past ones (completed,
    or confirmed and over before the scheduler marks them), canceled ones."""
    if section == "upcoming":
        return and_(Booking.status.in_(("pending", "confirmed")), Booking.check_out > today)
    if section == "past":
        return or_(Booking.status == "completed", and_(Booking.status == "confirmed", Booking.check_out <= today))
    return Booking.status == "canceled"


def list_trips(guest: User, section: str, page: int, per_page: int, today: date | None = None) -> Page:
    """One section of the guest's Trips: upcoming soonest first, past and canceled latest first."""
    if section not in TRIP_SECTIONS:
        raise ValidationFailed({"section": [f"choose one of {', '.join(TRIP_SECTIONS)}"]})
    today = today or date.today()
    order = ((Booking.check_in.asc(), Booking.id.asc()) if section == "upcoming"
             else (Booking.check_in.desc(), Booking.id.desc()))
    query = select(Booking).where(Booking.guest_id == guest.id, _trip_section(section, today)).order_by(*order)
    return paginate(query, page, per_page)


def trip_counts(guest: User, today: date | None = None) -> dict[str, int]:
    """How many trips each Trips section holds."""
    today = today or date.today()
    counts = select(*(func.count(case((_trip_section(section, today), 1))).label(section)
                      for section in TRIP_SECTIONS)).where(Booking.guest_id == guest.id)
    return dict(db.session.execute(counts).one()._mapping)


def locked_booking(booking_id: int) -> Booking:
    """The booking re-read under its listing's lock (a locking read: the latest committed status); the lock
    lasts until the caller commits. Payments take it before paying a booking."""
    listing_id = db.session.scalar(select(Booking.property_id).where(Booking.id == booking_id))
    holds.lock_listing(listing_id)
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


def cancel_booking(booking_id: int, actor: User, reason: Any = None, now: datetime | None = None) -> Booking:
    """The guest, the listing's host or an admin cancels; the refund follows the policy (state.refund_for)."""
    booking = visible_booking(booking_id, actor)
    if reason is not None and (not isinstance(reason, str) or len(reason) > MAX_REASON_LENGTH):
        raise ValidationFailed({"reason": [f"give a text of at most {MAX_REASON_LENGTH} characters"]})
    canceled_by = canceler(booking, actor)
    return _change(booking_id, lambda locked: state.cancel(locked, canceled_by, now or utcnow(), reason or None),
                   f"canceled by the {canceled_by}")


def record_payment(booking_id: int, amount: int, now: datetime | None = None) -> Booking:
    """A charge of the booking's total succeeded: the status moves on (payments does this inside its own
    transaction with state.pay; this is for tools and tests that record a payment made elsewhere)."""
    return _change(booking_id, lambda booking: state.pay(booking, amount, now or utcnow()), "paid")


def expire_due(now: datetime) -> int:
    """Cancel every pending booking whose time ran out (unpaid, or unanswered by its host). Idempotent."""
    due = db.session.scalars(select(Booking.id).where(Booking.status == "pending", Booking.expires_at <= now)).all()
    db.session.rollback()
    return _each_due(due, lambda booking: state.cancel(booking, "expired", now), "expired")


def _each_due(booking_ids: list[int], apply, what: str) -> int:
    """Apply one transition to each booking on its own; how many took it. A booking that moved on meanwhile is
    skipped, and one booking's trouble must not stop the others."""
    done = 0
    for booking_id in booking_ids:
        try:
            _change(booking_id, apply, what)
            done += 1
        except state.InvalidState:  # paid, answered or canceled meanwhile; or not yet 11:00 where the stay is
            continue
        except Exception:
            db.session.rollback()
            logger.exception("booking %s could not be %s; it will be tried again", booking_id, what)
    return done


def complete_due(now: datetime) -> int:
    """Complete every confirmed stay whose check-out time has come. Idempotent."""
    due = db.session.scalars(select(Booking.id).where(Booking.status == "confirmed",
                                                      Booking.check_out <= now.date() + timedelta(days=1))).all()
    db.session.rollback()
    return _each_due(due, lambda booking: state.complete(booking, now), "completed")
