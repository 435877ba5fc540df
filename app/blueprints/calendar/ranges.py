"""Date ranges on a calendar: the nights of a range, how far a calendar reaches, and the rules a stay's dates obey.

One definition of each, so the calendar's pages and API, a booking's quote and search check dates alike.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta

from ...errors import ValidationFailed

MAX_RANGE_DAYS = 366
MAX_RANGES = 100  # ranges in one change of a calendar
MAX_FUTURE_DAYS = 3 * 366  # how far ahead a calendar can be read or edited, and a stay can end


@dataclass(frozen=True)
class NightRange:
    """One change of a listing's calendar, the nights [start, end): `available` False blocks them, True reopens
    them, None leaves their holds as they are; `price` (Money in the listing's currency) prices each of them, and
    `base_price` returns them to the listing's base price."""

    start: date
    end: date
    available: bool | None = None
    price: Mapping | None = None
    base_price: bool = False

    def __post_init__(self) -> None:
        if self.base_price and self.price is not None:
            raise ValueError("a range sets a price or returns to the base price, not both")


def nights(start: date, end: date) -> list[date]:
    """Every night in [start, end)."""
    return [start + timedelta(days=n) for n in range((end - start).days)]


def check_range(start: date, end: date, *, today: date, field: str = "to") -> None:
    """Raise ValidationFailed unless [start, end) is a non-empty range of at most a year, within reach of the
    listing's `today`: from a year before it to three years after."""
    if end <= start:
        raise ValidationFailed({field: ["Must be after the start date."]})
    if (end - start).days > MAX_RANGE_DAYS:
        raise ValidationFailed({field: [f"A range can span at most {MAX_RANGE_DAYS} days."]})
    if end > today + timedelta(days=MAX_FUTURE_DAYS) or start < today - timedelta(days=MAX_RANGE_DAYS):
        raise ValidationFailed({field: ["The calendar covers one year back to three years ahead."]})


def stay_date_errors(check_in: date, check_out: date, *, today: date, latest_today: date | None = None,
                     max_nights: int | None = None) -> dict[str, list[str]]:
    """The problems with a stay's dates, by field ({} when none): check-in not before `today`, check-out after
    check-in and at most MAX_FUTURE_DAYS after `latest_today` (default `today`), and with `max_nights`, a stay of
    at most that many nights.

    A booking passes its listing's today (and checks the listing's own minimum and maximum after this); search,
    which checks every listing's clock at once, passes the earliest and the latest today on Earth and its limit.
    """
    errors: dict[str, list[str]] = {}
    last_check_out = (latest_today or today) + timedelta(days=MAX_FUTURE_DAYS)
    if check_in < today:
        errors["check_in"] = ["must not be in the past"]
    if check_out <= check_in:
        errors["check_out"] = ["must be after check_in"]
    elif max_nights is not None and ((check_out - check_in).days > max_nights or check_out > last_check_out):
        errors["check_out"] = [f"stays are at most {max_nights} nights, within three years"]
    elif check_out > last_check_out:
        errors["check_out"] = ["must be within three years"]
    return errors
