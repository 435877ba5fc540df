"""Bookings ready for a test: one paid through the fake provider a month ahead, and stays that are over (made, paid
and completed by the scheduler, as a review needs one)."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from sqlalchemy import select

from app.blueprints.bookings import services as bookings
from app.blueprints.bookings.state import check_out_at
from app.blueprints.payments import services as payments
from app.extensions import db
from app.models import Booking, Listing, PaymentRefund, User
from app.payment_providers import PaymentError
from app.payment_providers.fake import FakeProvider

from .factories import make_listing, make_user


def paid_booking(*, host: User | None = None, nights: int = 2, **listing) -> Booking:
    """A new listing's stay of `nights` a month ahead (instant book, 100.00 EUR a night unless `listing` says
    otherwise), booked by a new guest and paid through the fake provider: confirmed."""
    listing_ = make_listing(host=host, **{"instant_book": True, "min_nights": 1,
                                          "price_per_night": {"amount": 10000, "currency": "EUR"}, **listing})
    check_in = date.today() + timedelta(days=30)
    booking, _ = bookings.create_booking(guest=make_user(), listing_id=listing_.id, check_in=check_in,
                                         check_out=check_in + timedelta(days=nights), guests=1)
    payments.create_payment(booking.guest, booking_id=booking.id, payment_method="pm_card_visa",
                            idempotency_key=f"pay-{booking.id}")
    db.session.refresh(booking)
    assert booking.status == "confirmed"
    return booking


def refused_refund(booking: Booking, canceler: User, monkeypatch) -> PaymentRefund:
    """Cancel the paid `booking` as `canceler` while the fake provider refuses refunds for good ("The card was
    closed."): its refund is left failed, for a person to look at."""
    def refuse(*_args, **_kwargs):
        raise PaymentError("The card was closed.", retryable=False)

    monkeypatch.setattr(FakeProvider, "refund", refuse)
    bookings.cancel_booking(booking.id, canceler)
    monkeypatch.undo()
    refund = db.session.scalars(select(PaymentRefund).where(PaymentRefund.payment.has(booking_id=booking.id))).one()
    assert refund.status == "failed"
    return refund


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
