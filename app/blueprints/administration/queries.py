"""Administration reads: every user, property, booking, payment and audit row, filtered and newest first, and the
marketplace's figures (GROUP BY in the database, cached briefly)."""

from __future__ import annotations

import logging
from datetime import date, datetime, time

from sqlalchemy import func, select

from ...extensions import cache, db
from ...models import (
    BOOKING_STATUSES,
    ROLES,
    AuditEntry,
    Booking,
    Listing,
    Payment,
    User,
)
from ...models.listing import COUNTED_STATUSES
from ...pagination import Page, paginate
from ..payments import revenue

logger = logging.getLogger(__name__)

STATS_KEY, STATS_SECONDS = "admin:stats", 30


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time.min)


def list_users(page: int, per_page: int, *, q: str | None = None, role: str | None = None,
               is_active: bool | None = None, created_from: date | None = None,
               created_to: date | None = None) -> Page:
    """Users newest first; `q` matches inside the email or the name (any case); dates are half-open."""
    query = select(User)
    if q:
        query = query.where(User.email.icontains(q, autoescape=True) | User.name.icontains(q, autoescape=True))
    if role is not None:
        query = query.where(User.role == role)
    if is_active is not None:
        query = query.where(User.is_active.is_(is_active))
    if created_from is not None:
        query = query.where(User.created_at >= _midnight(created_from))
    if created_to is not None:
        query = query.where(User.created_at < _midnight(created_to))
    return paginate(query.order_by(User.created_at.desc(), User.id.desc()), page, per_page)


def list_properties(page: int, per_page: int, *, city: str | None = None, host_id: int | None = None,
                    status: str | None = None) -> Page:
    """Listings of any status newest first; `city` matches the whole city name, in any case."""
    query = select(Listing)
    if city:
        query = query.where(func.lower(Listing.city) == city.lower())
    if host_id is not None:
        query = query.where(Listing.host_id == host_id)
    if status is not None:
        query = query.where(Listing.status == status)
    return paginate(query.order_by(Listing.created_at.desc(), Listing.id.desc()), page, per_page)


def list_bookings(page: int, per_page: int, *, status: str | None = None, listing_id: int | None = None,
                  guest_id: int | None = None, check_in_from: date | None = None,
                  check_in_to: date | None = None) -> Page:
    """Every booking newest first; check-in dates half-open."""
    query = select(Booking)
    for column, value in ((Booking.status, status), (Booking.listing_id, listing_id),
                          (Booking.guest_id, guest_id)):
        if value is not None:
            query = query.where(column == value)
    if check_in_from is not None:
        query = query.where(Booking.check_in >= check_in_from)
    if check_in_to is not None:
        query = query.where(Booking.check_in < check_in_to)
    return paginate(query.order_by(Booking.created_at.desc(), Booking.id.desc()), page, per_page)


def list_payments(page: int, per_page: int, *, status: str | None = None, provider: str | None = None,
                  currency: str | None = None, booking_id: int | None = None) -> Page:
    """Every payment newest first."""
    query = select(Payment)
    for column, value in ((Payment.status, status), (Payment.provider, provider), (Payment.currency, currency),
                          (Payment.booking_id, booking_id)):
        if value is not None:
            query = query.where(column == value)
    return paginate(query.order_by(Payment.id.desc()), page, per_page)


def list_audit(page: int, per_page: int, *, actor_id: int | None = None, action: str | None = None,
               target_type: str | None = None, target_id: int | None = None, from_: date | None = None,
               to: date | None = None) -> Page:
    """Audit rows newest first; `from`/`to` half-open days (UTC)."""
    query = select(AuditEntry)
    for column, value in ((AuditEntry.actor_id, actor_id), (AuditEntry.action, action),
                          (AuditEntry.target_type, target_type), (AuditEntry.target_id, target_id)):
        if value is not None:
            query = query.where(column == value)
    if from_ is not None:
        query = query.where(AuditEntry.created_at >= _midnight(from_))
    if to is not None:
        query = query.where(AuditEntry.created_at < _midnight(to))
    return paginate(query.order_by(AuditEntry.created_at.desc(), AuditEntry.id.desc()), page, per_page)


def _counted(column, keys) -> dict[str, int]:
    """{key: rows} for every key (0 when none), from one GROUP BY."""
    found = dict(db.session.execute(select(column, func.count()).group_by(column)).all())
    return {key: int(found.get(key, 0)) for key in keys}


def _summed(statement) -> dict[str, int]:
    """{currency: amount} from a two-column GROUP BY (SUM is a decimal on MariaDB)."""
    return {currency: int(amount or 0) for currency, amount in db.session.execute(statement).all()}


def marketplace_stats() -> dict:
    """The contract's /admin/stats figures, computed at most every STATS_SECONDS (cached)."""
    stats = cache.get(STATS_KEY)
    if stats is None:
        stats = {"users": _counted(User.role, ROLES), "properties": _counted(Listing.status, COUNTED_STATUSES),
                 "bookings": _counted(Booking.status, BOOKING_STATUSES), "revenue": revenue.totals()}
        cache.set(STATS_KEY, stats, timeout=STATS_SECONDS)
        logger.info("admin stats computed")
    return stats
