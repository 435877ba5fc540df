"""What bookings announce: each sent by the status machine (state.py) inside the transaction that changes the status.

Parts above bookings connect to these instead of being called from here (docs/architecture.md):
payments records the refund or the payout in the same transaction, so a committed cancellation always owes its
refund and a rolled-back one owes nothing. A receiver gets the booking as `sender` and may add rows to the session;
it must not commit, and anything that talks to the outside world waits for the commit (app/transactions.py).
"""

from __future__ import annotations

from blinker import Namespace

_signals = Namespace()

booking_paid = _signals.signal("booking-paid", doc="A payment of the booking's total was applied; kw: `amount`.")
booking_requested = _signals.signal(
    "booking-requested", doc="A request-to-book booking was paid and now awaits its host's answer.")
booking_confirmed = _signals.signal("booking-confirmed", doc="The stay is confirmed (instant book paid, or approved).")
booking_canceled = _signals.signal(
    "booking-canceled", doc="Canceled, declined or expired; `booking.refund_amount` is what goes back to the guest.")
booking_completed = _signals.signal("booking-completed", doc="The stay is over; the host is owed their share.")
