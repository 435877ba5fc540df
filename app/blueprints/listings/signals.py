"""What listings announce, so the parts above them can take part without listings importing them.

Listings sit below the calendar and bookings (docs/architecture.md), yet deleting a listing must
wait for its upcoming stays, which only the calendar knows about. So listings announces the deletion and the
calendar answers (calendar/receivers.py): a receiver that must keep the listing raises a DomainError, which the
sender lets through, and the deletion is rolled back. An admin's take-down is announced too, so notifications can
tell the host. Receivers get the listing as `sender`; they must not commit.
"""

from __future__ import annotations

from blinker import Namespace

_signals = Namespace()

listing_unpublished = _signals.signal(
    "listing-unpublished", doc="An admin took it down, in that transaction (before its commit); receivers must not "
                               "commit.")
listing_deleting = _signals.signal(
    "listing-deleting", doc="About to be deleted, under the listing's row lock; a receiver may refuse by raising.")
