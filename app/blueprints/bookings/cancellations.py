"""What cancelling a booking would do, for the one who asks: their role, whether they may, the refund, the policy.

The booking pages render this preview and decide nothing themselves: the role is canceler(), the permission and
the refund are the status machine's own (state.can_cancel, state.refund_for, state.refund_deadline) and the
policy's words come from its row in app/cancellation.py. services.cancel_booking then does what it shows.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from ... import cancellation
from ...models import Booking, User, utcnow
from . import state


@dataclass(frozen=True)
class CancellationPreview:
    """`role` (guest, host or admin) cancelling now: `allowed` or `refused` (why not), the `refund` the guest
    gets and what is `kept` of what was paid; the policy's `name`, `summary` and the `share` a guest gets back
    before `deadline` (aware, the wall-clock time where the stay is)."""

    role: str
    allowed: bool
    refused: str | None
    refund: int
    kept: int
    policy: str
    summary: str
    share: str
    deadline: datetime


def canceler(booking: Booking, user: User) -> str:
    """Who `user` is to the booking when canceling it: guest, host or admin (it decides the refund)."""
    if user.id == booking.guest_id:
        return "guest"
    return "host" if user.id == booking.listing.host_id else "admin"


def refusal(booking: Booking, now: datetime) -> str | None:
    """Why the booking cannot be canceled at `now` (naive UTC), or None when it can."""
    if state.can_cancel(booking, now):
        return None
    if booking.status in state.CANCELABLE:
        return "This stay is over and can no longer be canceled."
    return f"This booking is {booking.status} and can no longer be canceled."


def cancellation_preview(booking: Booking, actor: User, now: datetime | None = None) -> CancellationPreview:
    """What `actor` canceling `booking` at `now` (naive UTC; None: the real time) would give (see the class)."""
    now = now or utcnow()
    role = canceler(booking, actor)
    refused = refusal(booking, now)
    refund = state.refund_for(booking, role, now)
    deadline, share = state.refund_deadline(booking)
    return CancellationPreview(role=role, allowed=refused is None, refused=refused, refund=refund,
                               kept=max(booking.paid_amount - refund, 0), policy=booking.cancellation_policy,
                               summary=cancellation.summary(booking.cancellation_policy), share=share,
                               deadline=state.local_time(booking, deadline))
