"""night_holds.booking_id is a foreign key: a night cannot be held by a booking that does not exist (it could never
be freed by a cancellation), and a booking row that is removed takes its nights with it."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError

from app.blueprints.bookings import services
from app.extensions import db
from app.models import Booking, NightHold

from ..support.factories import make_listing, make_user


def test_a_hold_of_a_booking_that_does_not_exist_is_refused(mariadb_app):
    listing = make_listing()
    db.session.add(NightHold(listing_id=listing.id, night=date.today() + timedelta(days=30), booking_id=987654))
    with pytest.raises(IntegrityError):
        db.session.commit()
    db.session.rollback()


def test_a_removed_booking_frees_its_nights(mariadb_app):
    listing = make_listing()
    check_in = date.today() + timedelta(days=30)
    booking, _replayed = services.create_booking(guest=make_user(), listing_id=listing.id, check_in=check_in,
                                                 check_out=check_in + timedelta(days=2), guests=1)
    assert len(db.session.scalars(select(NightHold).where(NightHold.booking_id == booking.id)).all()) == 2
    db.session.execute(delete(Booking).where(Booking.id == booking.id))
    db.session.commit()
    assert db.session.scalars(select(NightHold).where(NightHold.listing_id == listing.id)).all() == []
