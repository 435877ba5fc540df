"""Who is told what, and when: notifications' answers to what listings, bookings, payments and reviews announce.

Each type comes from exactly one signal, sent by the one function that makes the change (an admin's take-down of a
listing, the booking status machine, payments' charge and payout recording, the review service), inside its
transaction; these receivers add
the notifications to that same transaction (services.notify), so a change that rolls back tells nobody.
"""

from __future__ import annotations

from ...extensions import db
from ...models import Booking, Listing, PasswordReset, Payment, Payout, Review, User
from ...money import money
from ..auth import signals as auth_signals
from ..bookings import signals as booking_signals
from ..listings import signals as listing_signals
from ..payments import signals as payment_signals
from ..reviews import signals as review_signals
from .services import notify, queue_password_reset_email


def booking_data(booking: Booking, role: str) -> dict:
    """What a notification about a booking carries, for the reader on `role`'s side ("guest" or "host")."""
    return {"booking_id": booking.id, "listing_id": booking.listing_id, "listing_title": booking.listing.title,
            "check_in": booking.check_in.isoformat(), "check_out": booking.check_out.isoformat(),
            "nights": booking.nights, "guests": booking.guests, "guest_name": booking.guest.name,
            "host_name": booking.listing.host.name, "role": role}


@booking_signals.booking_requested.connect
def _booking_requested(booking: Booking, **_kw) -> None:
    notify(booking.listing.host, "booking_requested", booking_data(booking, "host"))


@booking_signals.booking_confirmed.connect
def _booking_confirmed(booking: Booking, **_kw) -> None:
    notify(booking.guest, "booking_confirmed", booking_data(booking, "guest"))
    notify(booking.listing.host, "booking_confirmed", booking_data(booking, "host"))


@booking_signals.booking_canceled.connect
def _booking_canceled(booking: Booking, **_kw) -> None:
    """A decline tells the guest; an expiry tells the guest, and the host when they had a request to answer;
    a cancellation tells both (the one who canceled gets the confirmation with the refund)."""
    refund = money(booking.refund_amount or 0, booking.currency)
    if booking.canceled_by == "declined":
        notify(booking.guest, "booking_declined", {**booking_data(booking, "guest"), "refund": refund})
        return
    notify(booking.guest, "booking_canceled", {**booking_data(booking, "guest"), "refund": refund,
                                               "canceled_by": booking.canceled_by})
    if booking.canceled_by != "expired" or booking.paid:
        notify(booking.listing.host, "booking_canceled", {**booking_data(booking, "host"),
                                                          "canceled_by": booking.canceled_by})


@booking_signals.booking_completed.connect
def _booking_completed(booking: Booking, **_kw) -> None:
    notify(booking.guest, "stay_completed", booking_data(booking, "guest"))


@payment_signals.payment_succeeded.connect
def _payment_succeeded(payment: Payment, **_kw) -> None:
    booking = db.session.get(Booking, payment.booking_id)
    notify(booking.guest, "payment_succeeded", {**booking_data(booking, "guest"), "payment_id": payment.id,
                                                "amount": money(payment.amount, payment.currency)})


@payment_signals.payment_failed.connect
def _payment_failed(payment: Payment, **_kw) -> None:
    booking = db.session.get(Booking, payment.booking_id)
    notify(booking.guest, "payment_failed", {**booking_data(booking, "guest"), "payment_id": payment.id,
                                             "amount": money(payment.amount, payment.currency)})


def _payout_data(payout: Payout) -> dict:
    booking = db.session.get(Booking, payout.booking_id)
    return {**booking_data(booking, "host"), "payout_id": payout.id, "amount": money(payout.amount, payout.currency)}


@payment_signals.payout_paid.connect
def _payout_paid(payout: Payout, **_kw) -> None:
    notify(db.session.get(User, payout.host_id), "payout_paid", _payout_data(payout))


@payment_signals.payout_failed.connect
def _payout_failed(payout: Payout, *, first: bool, **_kw) -> None:
    """Told once, on the first failure: the retries that follow are automatic."""
    if first:
        notify(db.session.get(User, payout.host_id), "payout_failed", _payout_data(payout))


def _review_data(review: Review, role: str) -> dict:
    return {**booking_data(review.booking, role), "review_id": review.id, "rating": review.rating,
            "author_name": review.author.name}


@review_signals.review_created.connect
def _review_created(review: Review, **_kw) -> None:
    notify(review.listing.host, "review_received", _review_data(review, "host"))


@review_signals.review_responded.connect
def _review_responded(review: Review, **_kw) -> None:
    notify(review.author, "review_response", _review_data(review, "guest"))


@listing_signals.listing_unpublished.connect
def _listing_unpublished(listing: Listing, **_kw) -> None:
    notify(listing.host, "listing_unpublished", {"listing_id": listing.id, "listing_title": listing.title})


@auth_signals.password_reset_requested.connect
def _password_reset_requested(reset: PasswordReset, *, user: User, **_kw) -> None:
    queue_password_reset_email(reset, user)
