"""Real notifications for the notification tests: bookings paid and canceled through the bookings service, as
tests/notifications/test_notify.py makes them."""

from __future__ import annotations

from datetime import date, timedelta

from app.blueprints.bookings import services as bookings
from app.extensions import db

from .factories import make_listing, make_user

FIRST_NIGHT = date.today() + timedelta(days=40)


class World:
    """A host with an instant-book listing and a guest; each paid booking tells both (booking_confirmed)."""

    def __init__(self):
        self.host = make_user(role="host", name="Hana Host")
        self.guest = make_user(name="Gus Guest")
        self.listing = make_listing(host=self.host, instant_book=True, title="Sea cabin", min_nights=1)
        db.session.commit()
        self.host_id, self.guest_id, self.listing_id = self.host.id, self.guest.id, self.listing.id
        self.bookings = 0

    def booking(self, *, paid: bool = True) -> int:
        """A new booking of two nights (after the earlier ones); paid, it notifies host and guest. Its id."""
        check_in = FIRST_NIGHT + timedelta(days=3 * self.bookings)
        self.bookings += 1
        booking, _ = bookings.create_booking(guest=self.guest, listing_id=self.listing_id, check_in=check_in,
                                             check_out=check_in + timedelta(days=2), guests=1)
        booking_id, total = booking.id, booking.total_amount
        if paid:
            bookings.record_payment(booking_id, total)
        return booking_id
