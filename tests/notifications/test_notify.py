"""notify(): who is told what by each booking transition, written in the transition's own transaction."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import select

from app.blueprints.auth.preferences import set_email_preferences
from app.blueprints.bookings import services as bookings
from app.blueprints.notifications.services import notify
from app.extensions import db
from app.models import Notification, OutboxEmail

from ..support.factories import make_listing, make_user

CHECK_IN = date(2027, 5, 10)
NOW = datetime(2027, 1, 1)


def told() -> list[tuple[int, str, str | None]]:
    """(user id, type, data.role) of every notification, oldest first."""
    rows = db.session.scalars(select(Notification).order_by(Notification.id)).all()
    return [(row.user_id, row.type, row.data.get("role")) for row in rows]


def booking_of(*, instant_book: bool):
    host = make_user(role="host", name="Hana Host")
    listing = make_listing(host=host, instant_book=instant_book, title="Sea cabin", min_nights=1)
    guest = make_user(name="Gus Guest")
    booking, _ = bookings.create_booking(guest=guest, listing_id=listing.id, check_in=CHECK_IN,
                                         check_out=CHECK_IN + timedelta(days=3), guests=2, now=NOW)
    return booking, guest, host


def test_an_unpaid_booking_tells_nobody_and_instant_book_payment_tells_both(app):
    booking, guest, host = booking_of(instant_book=True)
    assert told() == []
    bookings.record_payment(booking.id, booking.total_amount, now=NOW + timedelta(minutes=5))
    assert told() == [(guest.id, "booking_confirmed", "guest"), (host.id, "booking_confirmed", "host")]
    guest_note = db.session.scalar(select(Notification).where(Notification.user_id == guest.id))
    assert guest_note.title == "Your stay at Sea cabin is confirmed"
    assert guest_note.data["url"] == f"/bookings/{booking.id}"
    assert guest_note.data["check_in"] == "2027-05-10" and guest_note.read_at is None
    emails = db.session.scalars(select(OutboxEmail).order_by(OutboxEmail.id)).all()
    assert [(email.user_id, email.to_address, email.status) for email in emails] == [
        (guest.id, guest.email, "pending"), (host.id, host.email, "pending")]


def test_a_request_to_book_tells_the_host_once_paid_and_a_decline_tells_the_guest_their_refund(app):
    booking, guest, host = booking_of(instant_book=False)
    bookings.record_payment(booking.id, booking.total_amount, now=NOW + timedelta(minutes=5))
    assert told() == [(host.id, "booking_requested", "host")]
    bookings.decline_booking(booking.id, host, now=NOW + timedelta(hours=1))
    assert told()[1:] == [(guest.id, "booking_declined", "guest")]
    declined = db.session.scalar(select(Notification).where(Notification.type == "booking_declined"))
    assert declined.data["refund"] == {"amount": booking.total_amount, "currency": booking.currency}
    assert "is on its way back to you" in declined.body


def test_a_guest_cancellation_tells_both_sides_with_the_refund_for_the_guest(app):
    booking, guest, host = booking_of(instant_book=True)
    bookings.record_payment(booking.id, booking.total_amount, now=NOW + timedelta(minutes=5))
    bookings.cancel_booking(booking.id, guest, "plans changed", now=NOW + timedelta(days=1))
    assert told()[2:] == [(guest.id, "booking_canceled", "guest"), (host.id, "booking_canceled", "host")]
    for_guest, for_host = db.session.scalars(
        select(Notification).where(Notification.type == "booking_canceled").order_by(Notification.id)).all()
    assert "canceled by you" in for_guest.body and "refund of" in for_guest.body
    assert "canceled by the guest" in for_host.body


def test_an_expired_unpaid_booking_tells_only_its_guest(app):
    booking, guest, _host = booking_of(instant_book=True)
    bookings.expire_due(NOW + timedelta(hours=1))
    assert told() == [(guest.id, "booking_canceled", "guest")]


def test_a_transition_that_rolls_back_leaves_no_notification_and_no_email(app):
    booking, guest, host = booking_of(instant_book=True)
    from app.blueprints.bookings import signals

    def explode(sender, **_kw):
        raise RuntimeError("a receiver after notifications failed")

    signals.booking_confirmed.connect(explode)
    try:
        with pytest.raises(RuntimeError):
            bookings.record_payment(booking.id, booking.total_amount, now=NOW + timedelta(minutes=5))
    finally:
        signals.booking_confirmed.disconnect(explode)
    db.session.rollback()
    assert told() == [] and db.session.scalars(select(OutboxEmail)).all() == []
    assert db.session.get(type(booking), booking.id).status == "pending"


def test_email_turned_off_for_a_type_keeps_the_in_app_notification_only(app):
    booking, guest, host = booking_of(instant_book=True)
    set_email_preferences(guest, {"booking_confirmed": False})
    db.session.commit()
    bookings.record_payment(booking.id, booking.total_amount, now=NOW + timedelta(minutes=5))
    assert len(told()) == 2
    assert [email.user_id for email in db.session.scalars(select(OutboxEmail))] == [host.id]


def test_an_unknown_type_is_refused(app):
    with pytest.raises(ValueError):
        notify(make_user(), "booking_exploded", {})
