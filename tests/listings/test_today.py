"""One "today", the listing's own date: in its calendar (reads and writes), its quotes and bookings, the booking
panel, the host's calendar page and deletion. Kiritimati (UTC+14) and Pago Pago (UTC-11) keep no summer time."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from types import SimpleNamespace

import pytest

from app import clock
from app.blueprints.calendar import services as calendar
from app.blueprints.calendar.ranges import NightRange
from app.errors import ValidationFailed
from app.extensions import db
from app.models import NightHold

from ..support.factories import booking_holding, make_listing

AHEAD, BEHIND = "Pacific/Kiritimati", "Pacific/Pago_Pago"
MIDNIGHT = datetime(2026, 12, 3, tzinfo=UTC)
BEFORE, AFTER = MIDNIGHT - timedelta(minutes=30), MIDNIGHT + timedelta(minutes=30)
DEC = {n: date(2026, 12, n) for n in range(1, 6)}


def test_each_zone_has_its_own_today_around_utc_midnight():
    # 23:30 UTC on 2 December: 13:30 on the 3rd in Kiritimati, 12:30 on the 2nd in Pago Pago.
    assert [clock.local_today(zone, BEFORE) for zone in (AHEAD, "UTC", BEHIND)] == [DEC[3], DEC[2], DEC[2]]
    # 00:30 UTC on the 3rd: 14:30 on the 3rd in Kiritimati, still 13:30 on the 2nd in Pago Pago.
    assert [clock.local_today(zone, AFTER) for zone in (AHEAD, "UTC", BEHIND)] == [DEC[3], DEC[3], DEC[2]]
    assert clock.local_today(BEHIND, AFTER.replace(tzinfo=None)) == DEC[2]  # a naive instant is UTC
    assert (clock.earliest_today(AFTER), clock.latest_today(AFTER)) == (DEC[2], DEC[3])
    noon = MIDNIGHT + timedelta(hours=11, minutes=30)  # three dates at once: the 2nd, 3rd and 4th
    assert (clock.earliest_today(noon), clock.latest_today(noon)) == (DEC[2], DEC[4])
    assert clock.listing_today(SimpleNamespace(timezone=AHEAD), noon) == DEC[4]


def block(listing, night: date, now: datetime) -> None:
    calendar.set_availability(listing, actor=listing.host, now=now, ranges=[
        NightRange(night, night + timedelta(days=1), available=False)])


def test_a_listing_already_on_tomorrows_date_cannot_change_the_servers_today(app):
    ahead = make_listing(timezone=AHEAD)
    with pytest.raises(ValidationFailed) as refused:
        block(ahead, DEC[2], BEFORE)  # the UTC date, but past in Kiritimati
    assert refused.value.fields == {"ranges.0.start": ["Past nights cannot be changed."]}
    block(ahead, DEC[3], BEFORE)
    days = calendar.get_calendar(ahead, DEC[2], DEC[5], today=clock.listing_today(ahead, BEFORE))
    assert [(day.available, day.hold) for day in days] == [(False, None), (False, "blocked"), (True, None)]


def test_a_listing_still_on_yesterdays_date_can_change_and_offer_its_tonight(app):
    behind = make_listing(timezone=BEHIND)
    block(behind, DEC[2], AFTER)  # the server's yesterday is Pago Pago's tonight
    with pytest.raises(ValidationFailed):
        block(behind, DEC[1], AFTER)
    calendar.set_availability(behind, actor=behind.host, now=AFTER,
                              ranges=[NightRange(DEC[2], DEC[3], available=True)])
    days = calendar.get_calendar(behind, DEC[1], DEC[4], today=clock.listing_today(behind, AFTER))
    assert [day.available for day in days] == [False, True, True]


def local_and(listing, action):
    """(the listing's today, what `action` answers), with the same date before and after the action."""
    while True:
        local = clock.listing_today(listing)
        answer = action(local)
        if clock.listing_today(listing) == local:
            return local, answer


@pytest.mark.parametrize("zone", [AHEAD, BEHIND, "UTC"])
def test_availability_api_offers_nights_from_the_listing_date(client, app, zone):
    # Whatever the hour, Kiritimati's date is past the UTC date (from 10:00 UTC) or Pago Pago's before it (until
    # 11:00 UTC): the server's date would be wrong for one of them.
    listing = make_listing(timezone=zone)
    url = f"/api/v1/properties/{listing.id}/availability"

    def read(local):
        return (client.get(url).get_json()["days"][0],
                client.get(f"{url}?from={local - timedelta(days=2)}&to={local + timedelta(days=2)}").get_json())

    local, (first, days) = local_and(listing, read)
    assert (first["date"], first["available"]) == (local.isoformat(), True)  # "from" defaults to the listing's today
    assert [(day["date"], day["available"]) for day in days["days"]] == [
        ((local + timedelta(days=n)).isoformat(), n >= 0) for n in (-2, -1, 0, 1)]


@pytest.mark.parametrize("zone", [AHEAD, BEHIND])
def test_quote_availability_and_booking_panel_agree_on_the_first_bookable_night(client, app, zone):
    listing = make_listing(timezone=zone, min_nights=1)

    def ask(local):
        nights = {}
        for first in (local - timedelta(days=1), local):
            stay = f"check_in={first}&check_out={first + timedelta(days=1)}&guests=1"
            quote = client.get(f"/api/v1/properties/{listing.id}/quote?{stay}")
            night = client.get(f"/api/v1/properties/{listing.id}/availability?from={first}"
                               f"&to={first + timedelta(days=1)}").get_json()["days"][0]
            nights[first] = (quote.status_code, night["available"])
        return nights, client.get(f"/listings/{listing.id}").get_data(as_text=True)

    local, (nights, page) = local_and(listing, ask)
    assert nights == {local - timedelta(days=1): (422, False), local: (200, True)}
    assert f'data-today="{local.isoformat()}"' in page and f'min="{local.isoformat()}"' in page


@pytest.mark.parametrize("zone", [AHEAD, BEHIND])
def test_host_calendar_page_marks_the_listings_today(client, app, login, zone):
    listing = make_listing(timezone=zone)
    login(client, listing.host)
    local, page = local_and(listing, lambda _local: client.get(f"/host/listings/{listing.id}/calendar")
                            .get_data(as_text=True))
    today_cell = re.search(r'class="cal-day [^"]*cal-today"\s+data-date="([\d-]+)"', page)
    assert today_cell and today_cell.group(1) == local.isoformat()


@pytest.mark.parametrize("zone", [AHEAD, BEHIND])
def test_a_stay_holding_the_listings_tonight_keeps_it_from_deletion(client, app, auth_headers, zone):
    listing = make_listing(timezone=zone)
    local = clock.listing_today(listing)
    stay = booking_holding(listing, local - timedelta(days=1), local)
    response = client.delete(f"/api/v1/properties/{listing.id}", headers=auth_headers(listing.host))
    assert response.status_code == 409 and response.get_json()["error"]["code"] == "has_active_bookings"
    db.session.query(NightHold).filter_by(booking_id=stay.id, night=local).delete()
    db.session.commit()
    assert client.delete(f"/api/v1/properties/{listing.id}", headers=auth_headers(listing.host)).status_code == 204
