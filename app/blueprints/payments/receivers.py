"""Payments' answers to what bookings announce (bookings/signals.py), written in the booking's own transaction.

A cancellation owes its refund and the host's share in the transaction that cancels, so nothing can see the one
without the other (a `jobs run-due` between two commits used to send a second refund); the provider is asked once
that transaction has committed (refunds.owe_refund). A completed stay owes the host's payout the same way. Both
count the service fee Abode now keeps (revenue.settle_fee).
"""

from __future__ import annotations

from sqlalchemy import select

from ...extensions import db
from ...models import Booking, Payment
from ..bookings import signals
from . import payouts, refunds, revenue


@signals.booking_canceled.connect
def settle_cancellation(booking: Booking, **_kw) -> None:
    """Owe back what the cancellation gives (booking.refund_amount) on the payment that paid the booking, and the
    host whatever the guest did not get back, less the service fee."""
    payment = db.session.scalar(select(Payment).where(Payment.booking_id == booking.id, Payment.pays_booking))
    if payment is not None and booking.refund_amount:
        refunds.owe_refund(payment, booking.refund_amount)
    payouts.schedule_payout(booking)
    revenue.settle_fee(booking, booking.canceled_at)


@signals.booking_completed.connect
def settle_stay(booking: Booking, **_kw) -> None:
    """Owe the host the total less the service fee, and count the fee as kept."""
    payouts.schedule_payout(booking)
    revenue.settle_fee(booking, booking.completed_at)
