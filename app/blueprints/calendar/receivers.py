"""The calendar's answers to what listings announce (listings/signals.py): listings never import the calendar."""

from __future__ import annotations

from ...errors import Conflict
from ...models import Listing
from ..listings import signals
from . import services


@signals.listing_deleting.connect
def refuse_while_booked(listing: Listing, **_kw) -> None:
    """A listing with upcoming bookings stays: Conflict has_active_bookings (its host cancels them first)."""
    if services.has_upcoming_bookings(listing):
        raise Conflict("The listing has upcoming bookings; cancel them first.", code="has_active_bookings")
