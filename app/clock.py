"""What day it is where a listing is: the one definition of "today" for its calendar, quotes, bookings and search.

A listing's nights are dated in its own time zone (check-in 15:00 and check-out 11:00 local, docs/api.md), so its
"today", the first night that can still be booked, is the date on its clock, not the server's: at 12:00 UTC a
listing in Pacific/Kiritimati (UTC+14) is already on tomorrow's date and one in Pacific/Pago_Pago (UTC-11)
still on today's; at 05:00 UTC Pago Pago is still on yesterday's. Every `now` here is an instant: an aware
datetime, or a naive one in UTC (the models' convention); None means the real time.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime, timedelta
from functools import cache
from typing import Protocol
from zoneinfo import ZoneInfo

# Clocks on Earth run from UTC-12 (Etc/GMT+12) to UTC+14 (Pacific/Kiritimati, Etc/GMT-14): at any instant the
# dates that are today somewhere are those of these two offsets and any date between, two or three dates.
EARLIEST_OFFSET, LATEST_OFFSET = timedelta(hours=-12), timedelta(hours=14)


class HasTimezone(Protocol):
    timezone: str


@cache
def zone(name: str) -> ZoneInfo:
    """The time zone named `name`, kept once loaded: ZoneInfo's own cache lets go of zones nobody holds, and
    reading one again from disk costs ~70 µs. Raises ZoneInfoNotFoundError for an unknown name."""
    return ZoneInfo(name)


def utc_now() -> datetime:
    """The real time, as an aware UTC datetime."""
    return datetime.now(UTC)


def instant(now: datetime | None = None) -> datetime:
    """`now` as an aware datetime (naive is UTC), or the real time when None."""
    if now is None:
        return utc_now()
    return now if now.tzinfo is not None else now.replace(tzinfo=UTC)


def local_today(timezone: str, now: datetime | None = None) -> date:
    """The date in the IANA time zone `timezone` at `now`. Raises ZoneInfoNotFoundError for an unknown zone."""
    return instant(now).astimezone(zone(timezone or "UTC")).date()


def listing_today(listing: HasTimezone, now: datetime | None = None) -> date:
    """Today where the listing is (its `timezone`; UTC when empty): the first night it can still be booked for."""
    return local_today(listing.timezone or "UTC", now)


def earliest_today(now: datetime | None = None) -> date:
    """The earliest date that is today somewhere on Earth at `now` (UTC-12's date)."""
    return (instant(now).astimezone(UTC) + EARLIEST_OFFSET).date()


def latest_today(now: datetime | None = None) -> date:
    """The latest date that is today somewhere on Earth at `now` (UTC+14's date)."""
    return (instant(now).astimezone(UTC) + LATEST_OFFSET).date()


def zones_with_today_between(first: date, last: date, zones: Iterable[str], now: datetime | None = None) -> set[str]:
    """The zones among `zones` whose date at `now` is in [first, last]."""
    moment = instant(now)
    return {name for name in zones if first <= moment.astimezone(zone(name)).date() <= last}
