"""Stays that are over: a booking made, paid and completed by the scheduler, as a review needs one."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from app.blueprints.bookings import services as bookings
from app.blueprints.bookings.state import check_out_at
from app.models import Booking, Listing, User


def completed_stay(guest: User, listing: Listing, *, ended_days_ago: int = 2, nights: int = 3,
                   complete: bool = True) -> Booking:
    """A booking of `listing` by `guest` whose check-out was `ended_days_ago` days ago (today's date in UTC),
    booked and paid a month before it began and completed by `jobs run-due` (complete_due) after check-out."""
    check_out = date.today() - timedelta(days=ended_days_ago)
    check_in = check_out - timedelta(days=nights)
    booked_at = datetime.combine(check_in, datetime.min.time()) - timedelta(days=30)
    booking, _ = bookings.create_booking(guest=guest, listing_id=listing.id, check_in=check_in, check_out=check_out,
                                         guests=1, now=booked_at)
    bookings.record_payment(booking.id, booking.total_amount, now=booked_at + timedelta(minutes=5))
    if not listing.instant_book:
        bookings.approve_booking(booking.id, listing.host, now=booked_at + timedelta(minutes=10))
    if complete:
        bookings.complete_due(check_out_at(booking) + timedelta(minutes=1))
    return bookings.visible_booking(booking.id, guest)
