"""Search and "today": a check-in that is today somewhere on Earth is accepted, and a listing appears only when a
booking of it would be taken now, by its own date. Searches run at fixed instants around UTC midnight (`now`)."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

import pytest

from app import clock
from app.blueprints.bookings import services as bookings
from app.blueprints.calendar import services as calendar
from app.blueprints.calendar.ranges import NightRange
from app.blueprints.search import services as search
from app.errors import ValidationFailed

from ..support.factories import make_listing, make_user
from ..support.search import search_query

# Day D is today's UTC date; the instants are recent, so the listings' search keys, written now, cover them.
D = datetime.now(UTC).date()
MIDNIGHT = datetime.combine(D, time(), tzinfo=UTC)
BEFORE, AFTER = MIDNIGHT - timedelta(minutes=30), MIDNIGHT + timedelta(minutes=30)
WAYS = {"plain": {}, "by place": {"location": "amsterdam"}}  # the listing rows, or a location's place rows


def day(n: int) -> str:
    return (D + timedelta(days=n)).isoformat()


@pytest.fixture
def zones(app):
    """{name: listing} of three listings: Kiritimati (UTC+14), UTC, Pago Pago (UTC-11)."""
    host = make_user(role="host")
    return {name: make_listing(host, title=name, timezone=zone, min_nights=1, max_nights=30)
            for name, zone in (("ahead", "Pacific/Kiritimati"), ("utc", "UTC"), ("behind", "Pacific/Pago_Pago"))}


def found(args: dict, now: datetime) -> tuple[list[str], int]:
    body = search.search(search_query({**args, "sort": "newest"}, now=now))
    return [item["title"] for item in body["items"]], body["total"]


@pytest.mark.parametrize("way", sorted(WAYS))
def test_just_after_utc_midnight_yesterday_is_still_today_in_pago_pago(zones, way):
    # 00:30 UTC on D: 14:30 on D in Kiritimati, 13:30 on D-1 in Pago Pago.
    stay = {**WAYS[way], "check_out": day(2)}
    assert found({**stay, "check_in": day(-1)}, AFTER) == (["behind"], 1)
    assert found({**stay, "check_in": day(0)}, AFTER) == (["behind", "utc", "ahead"], 3)
    with pytest.raises(ValidationFailed) as refused:
        search_query({**stay, "check_in": day(-2)}, now=AFTER)  # past everywhere on Earth
    assert refused.value.fields == {"check_in": ["must not be in the past"]}


@pytest.mark.parametrize("way", sorted(WAYS))
def test_just_before_utc_midnight_the_date_is_already_past_in_kiritimati(zones, way):
    # 23:30 UTC on D-1: 13:30 on D in Kiritimati, 12:30 on D-1 in Pago Pago.
    stay = {**WAYS[way], "check_out": day(2)}
    assert found({**stay, "check_in": day(-1)}, BEFORE) == (["behind", "utc"], 2)
    assert found({**stay, "check_in": day(0)}, BEFORE) == (["behind", "utc", "ahead"], 3)


def test_a_cached_answer_does_not_outlive_a_listings_midnight(zones):
    stay = {"check_in": day(-1), "check_out": day(2)}
    assert found(stay, MIDNIGHT - timedelta(minutes=1)) == (["behind", "utc"], 2)
    assert found(stay, MIDNIGHT + timedelta(minutes=1)) == (["behind"], 1)  # D-1 is over in UTC


def test_a_night_blocked_for_tonight_where_the_listing_is_keeps_it_out(zones):
    calendar.set_availability(zones["behind"], actor=zones["behind"].host, now=AFTER,
                              ranges=[NightRange(D - timedelta(days=1), D, available=False)])
    assert found({"check_in": day(-1), "check_out": day(2)}, AFTER) == ([], 0)
    assert found({"check_in": day(0), "check_out": day(2)}, AFTER) == (["behind", "utc", "ahead"], 3)


INSTANTS = [BEFORE, AFTER, MIDNIGHT + timedelta(hours=10, minutes=30), MIDNIGHT + timedelta(hours=11, minutes=30),
            MIDNIGHT + timedelta(hours=23, minutes=59)]
REACH = search.MAX_AHEAD_DAYS


@pytest.mark.parametrize("now", INSTANTS, ids=lambda now: now.strftime("%d %H:%M"))
def test_search_shows_a_listing_exactly_when_a_booking_of_it_would_be_taken(zones, now):
    stays = [(D + timedelta(days=n), 3) for n in (-2, -1, 0, 1, 2)]
    stays += [(clock.earliest_today(now) + timedelta(days=REACH + n - 3), 3) for n in (0, 1, 2)]  # the far end
    for check_in, nights in stays:
        args = {"check_in": check_in.isoformat(), "check_out": (check_in + timedelta(days=nights)).isoformat()}
        try:
            titles = set(found(args, now)[0])
        except ValidationFailed:
            titles = None  # refused: no listing anywhere on Earth could take it
        bookable = set()
        for name, listing in zones.items():
            try:
                bookings.check_stay(listing, check_in, check_in + timedelta(days=nights), 1,
                                    today=clock.listing_today(listing, now))
            except ValidationFailed:
                continue
            bookable.add(name)
        somewhere = clock.earliest_today(now) <= check_in and (check_in + timedelta(days=nights)
                                                               <= clock.latest_today(now) + timedelta(days=REACH))
        assert titles == (bookable if somewhere else None), (now, args)
        assert somewhere or not bookable
