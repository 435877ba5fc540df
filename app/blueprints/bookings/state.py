"""The booking status machine (docs/api.md "Booking statuses"): the only code that changes a booking's status.

    pending ──pay (instant book)──────────────► confirmed ──complete (after check-out)──► completed
    pending ──pay (request to book)──► pending, awaiting approval ──approve──► confirmed
    pending / confirmed ──cancel (guest, host, admin)──► canceled
    pending, awaiting approval ──decline──► canceled (full refund)
    pending ──expire (unpaid 30 min, or awaiting approval 24 h)──► canceled (full refund of what was paid)
    completed / canceled ──an admin's goodwill refund──► the same status, everything paid given back

Any other event in any other state raises InvalidState (409 `invalid_state`). The caller holds the listing's
row lock and commits; leaving pending or confirmed for canceled frees the held nights in that transaction. Each
transition sends its signal (signals.py) in that same transaction, so what depends on it is written with it.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from flask import current_app

from ... import cancellation, money
from ...errors import Conflict
from ...models import Booking
from ..calendar import services as calendar
from . import signals

CHECK_IN_TIME = time(15, 0)  # refunds are measured from 15:00 on the check-in day, in the listing's time zone
CHECK_OUT_TIME = time(11, 0)  # a stay is complete from 11:00 on the check-out day
CANCELABLE = ("pending", "confirmed")  # the statuses the guest, the host or an admin may cancel in
SETTLED = ("completed", "canceled")  # the stay's money is decided: the host is owed a payout or nothing


class InvalidState(Conflict):
    code = "invalid_state"


def _local(booking: Booking, day, at: time) -> datetime:
    """`at` o'clock on `day` in the booking's time zone (the listing's when it was booked), as naive UTC."""
    local = datetime.combine(day, at, tzinfo=ZoneInfo(booking.timezone or "UTC"))
    return local.astimezone(ZoneInfo("UTC")).replace(tzinfo=None)


def local_time(booking: Booking, instant: datetime) -> datetime:
    """A naive UTC instant as the wall-clock time where the stay is (aware, in the booking's time zone)."""
    return instant.replace(tzinfo=ZoneInfo("UTC")).astimezone(ZoneInfo(booking.timezone or "UTC"))


def check_in_at(booking: Booking) -> datetime:
    """The moment the stay starts: 15:00 listing-local on the check-in day, as naive UTC."""
    return _local(booking, booking.check_in, CHECK_IN_TIME)


def check_out_at(booking: Booking) -> datetime:
    """The moment the stay ends: 11:00 listing-local on the check-out day, as naive UTC."""
    return _local(booking, booking.check_out, CHECK_OUT_TIME)


def refund_deadline(booking: Booking) -> tuple[datetime, str]:
    """(the instant, naive UTC, until which a guest's cancellation still gets the policy's refund, what it gives
    back). The notice is elapsed time before check-in, so across a DST change the deadline's wall-clock time
    differs from check-in's; pages show this instant, refund_for enforces it."""
    policy = cancellation.get_policy(booking.cancellation_policy)
    return check_in_at(booking) - policy.notice, cancellation.share_text(policy.name)


def refund_for(booking: Booking, canceled_by: str, now: datetime) -> int:
    """What goes back to the guest when `canceled_by` cancels at `now` (naive UTC): never more than was paid.

    The host, an admin, a decline and an expiry give back everything paid. A guest gets by the policy's row in
    app/cancellation.py: flexible, the whole total at least 24 h before check-in; moderate, at least 5 days
    before; strict, half of nights + cleaning fee at least 7 days before (the service fee is kept); later, nothing.
    """
    if canceled_by != "guest":
        return booking.paid_amount
    if now > refund_deadline(booking)[0]:
        return 0
    if cancellation.get_policy(booking.cancellation_policy).share == cancellation.TOTAL:
        due = booking.total_amount
    else:
        due = money.round_half_even(Decimal(booking.nightly_amount + booking.cleaning_fee_amount) / 2)
    return min(due, booking.paid_amount)


def can_cancel(booking: Booking, now: datetime) -> bool:
    """True while the guest, the host or an admin may cancel at `now`: pending or confirmed, the stay not over
    (a stay that is over is completed, not canceled, even before the scheduler gets to it)."""
    return booking.status in CANCELABLE and check_out_at(booking) > now


def _require(booking: Booking, allowed: bool, event: str) -> None:
    if not allowed:
        state = "awaiting approval" if booking.awaiting_approval else booking.status
        raise InvalidState(f"A booking that is {state} cannot be {event}"
                           f"{' now' if booking.status in ('pending', 'confirmed') else ''}.")


def _expired(booking: Booking, now: datetime) -> bool:
    """Past its expiry time, whether or not the scheduler has canceled it yet."""
    return booking.expires_at is not None and booking.expires_at <= now


def pay(booking: Booking, amount: int, now: datetime) -> None:
    """A payment of the booking's total succeeded: instant book confirms; request to book awaits its host."""
    _require(booking, booking.status == "pending" and not booking.paid and not _expired(booking, now), "paid")
    if amount != booking.total_amount:
        raise ValueError(f"a payment of {amount} for a booking of {booking.total_amount}")
    booking.paid_amount, booking.paid_at = amount, now
    if booking.instant_book:
        booking.status, booking.expires_at = "confirmed", None
    else:
        booking.expires_at = now + timedelta(hours=current_app.config["BOOKING_APPROVAL_HOURS"])
    signals.booking_paid.send(booking, amount=amount)
    if booking.status == "confirmed":
        signals.booking_confirmed.send(booking)
    else:
        signals.booking_requested.send(booking)


def approve(booking: Booking, now: datetime) -> None:
    _require(booking, booking.awaiting_approval and not _expired(booking, now), "approved")
    booking.status, booking.approved_at, booking.expires_at = "confirmed", now, None
    signals.booking_confirmed.send(booking)


def take_back_late_payment(booking: Booking, amount: int) -> None:
    """Money that arrived after the booking was canceled (a capture that completed late) goes straight back: it
    counts as paid and as refunded, so the booking's refund stays what went back and the host's share is unchanged.
    The caller refunds it (payments) in the same transaction."""
    _require(booking, booking.status == "canceled", "paid")
    booking.paid_amount += amount
    booking.refund_amount = (booking.refund_amount or 0) + amount
    booking.paid_at = booking.paid_at or booking.canceled_at


def give_back_everything(booking: Booking) -> None:
    """An admin's goodwill refund of a settled booking: everything paid now counts as given back (`refund_amount`;
    payments owes it in the same transaction). A pending or confirmed booking is canceled instead: an admin's
    cancel already refunds everything paid. Raises InvalidState."""
    if booking.status not in SETTLED:
        raise InvalidState(f"Booking {booking.id} is {booking.status}: cancel it instead (an admin's cancel "
                           "refunds everything paid).")
    booking.refund_amount = booking.paid_amount


def cancel(booking: Booking, canceled_by: str, now: datetime, reason: str | None = None) -> None:
    """Cancel (guest, host, admin), decline (host, awaiting approval) or expire (the scheduler): refund, free."""
    if canceled_by == "declined":
        _require(booking, booking.awaiting_approval and not _expired(booking, now), "declined")
    elif canceled_by == "expired":
        _require(booking, booking.status == "pending" and _expired(booking, now), "expired")
    else:
        _require(booking, can_cancel(booking, now), "canceled")
    booking.refund_amount = refund_for(booking, canceled_by, now)
    booking.status, booking.canceled_at, booking.canceled_by = "canceled", now, canceled_by
    booking.cancel_reason, booking.expires_at = reason, None
    calendar.release_nights(booking)
    signals.booking_canceled.send(booking)


def complete(booking: Booking, now: datetime) -> None:
    """The stay is over (the scheduler, from 11:00 listing-local on the check-out day)."""
    _require(booking, booking.status == "confirmed" and check_out_at(booking) <= now, "completed")
    booking.status, booking.completed_at = "completed", now
    signals.booking_completed.send(booking)
