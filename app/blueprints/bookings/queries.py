"""Bookings read: one booking as its guest, host or an admin may see it, the lists of the API, the Trips page."""

from __future__ import annotations

from datetime import date

from sqlalchemy import and_, case, func, not_, or_, select

from ...errors import NotFoundError, ValidationFailed
from ...extensions import db
from ...models import Booking, Listing, User
from ...pagination import Page, paginate


def bookings_by_id(ids: list[int]) -> list[Booking]:
    """These bookings (with their listings), for pages that show other records of them."""
    return list(db.session.scalars(select(Booking).where(Booking.id.in_(ids)))) if ids else []


def visible_booking(booking_id: int, user: User) -> Booking:
    """A booking its guest, its listing's host or an admin may see; anyone else gets NotFoundError."""
    booking = db.session.get(Booking, booking_id)
    if booking is None or not (user.is_admin or user.id in (booking.guest_id, booking.listing.host_id)):
        raise NotFoundError("Booking not found.")
    return booking


def list_bookings(user: User, *, role: str = "guest", statuses: tuple[str, ...] = (), awaiting: bool | None = None,
                  page: int, per_page: int) -> Page:
    """The caller's bookings as guest (default) or as host, newest check-in first, of the given statuses (all when
    none); awaiting=True keeps the paid requests waiting for their host, False leaves them out (the values are
    checked by schemas.BookingListArgsSchema)."""
    query = select(Booking)
    if role == "guest":
        query = query.where(Booking.guest_id == user.id)
    else:
        query = query.join(Listing, Listing.id == Booking.listing_id).where(Listing.host_id == user.id)
    if statuses:
        query = query.where(Booking.status.in_(statuses))
    if awaiting is not None:
        waiting = and_(Booking.status == "pending", Booking.paid_at.is_not(None), Booking.instant_book.is_(False))
        query = query.where(waiting if awaiting else not_(waiting))
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
