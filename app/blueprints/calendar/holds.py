"""Held nights: the one-character-per-night string on each listing that search reads instead of night_holds.

`night_holds` (one row per held night, primary key listing + night) stays the truth and the guard against
double booking. Search would have to probe it once per candidate listing, which costs more than everything
else in a broad query, so each listing also carries `held_nights`: character i is "1" when the night
`held_from + i` is held, "0" when it is free; nights past the end of the string are free. Every transaction
that adds or removes holds (all of them in this package's services.py) takes the listing's row lock first
(listings.services.lock_listing) and calls `refresh_held_nights` before it commits, so the string changes in the
same transaction as the rows it mirrors, and writers of one listing queue on its row.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, timedelta

from sqlalchemy import ColumnElement, cast, func, select
from sqlalchemy import Integer as SqlInteger

from ... import clock
from ...extensions import db
from ...models import Listing, NightHold
from ..listings import places

HELD, FREE = "1", "0"


def held_nights_string(nights: Iterable[date], start: date) -> str:
    """The string for these held nights counted from `start` (earlier nights are left out; no trailing "0")."""
    offsets = sorted({(night - start).days for night in nights if night >= start})
    if not offsets:
        return ""
    chars = [FREE] * (offsets[-1] + 1)
    for offset in offsets:
        chars[offset] = HELD
    return "".join(chars)


def refresh_held_nights(listing: Listing, now: datetime | None = None) -> None:
    """Rebuild the listing's held-nights string from night_holds, on the listing and its place rows, from the day
    before the earliest date that is today anywhere at `now` (clock.earliest_today; default the real time): no
    search check-in is earlier, as none is in the past everywhere, and the spare day covers a search whose
    clock is a little behind. Call it under the listing's lock, after this transaction's own hold changes.
    """
    start = clock.earliest_today(now) - timedelta(days=1)
    db.session.flush()
    held = db.session.scalars(select(NightHold.night)
                              .where(NightHold.listing_id == listing.id, NightHold.night >= start))
    listing.held_from = start
    listing.held_nights = held_nights_string(held, start)
    places.copy_held_nights(listing)


def stay_is_free(check_in: date, nights: int, row=Listing) -> ColumnElement[bool]:
    """SQL: none of the `nights` nights from `check_in` is held, on `row` (Listing or ListingPlace). Needs
    held_from <= check_in: it is before the earliest today when the string was built, and a search's check-in is
    never before the earliest today (see refresh_held_nights)."""
    if db.engine.dialect.name == "sqlite":
        offset = cast(func.julianday(check_in.isoformat()) - func.julianday(row.held_from), SqlInteger)
    else:
        offset = func.datediff(check_in, row.held_from)
    return func.instr(func.substr(row.held_nights, offset + 1, nights), HELD) == 0
