"""Cancellation refunds, table-driven: each policy one minute either side of its threshold, across a DST change."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest

from app import cancellation
from app.blueprints.bookings import services, state
from app.extensions import db
from app.models import Booking

from ..support.factories import make_listing, make_user

MINUTE = timedelta(minutes=1)
# Paris leaves winter time on 2027-03-28 at 02:00 (UTC+1 -> UTC+2). A check-in that day starts at 15:00 CEST,
# 13:00 UTC, and every threshold falls before the change, in winter time: the notice is elapsed time, so
# "24 h before" is 14:00 CET on the 27th, not 15:00.
CHECK_IN = date(2027, 3, 28)
CHECK_IN_UTC = datetime(2027, 3, 28, 13, 0)


def paid_booking(policy: str, *, zone: str = "Europe/Paris", pay: bool = True) -> Booking:
    listing = make_listing(timezone=zone, cancellation_policy=policy, min_nights=1, max_nights=30, instant_book=True,
                           price_per_night={"amount": 10001, "currency": "EUR"},
                           cleaning_fee={"amount": 3000, "currency": "EUR"})
    booking, _ = services.create_booking(guest=make_user(), listing_id=listing.id, check_in=CHECK_IN,
                                         check_out=CHECK_IN + timedelta(days=2), guests=1, now=datetime(2027, 1, 1))
    if pay:
        services.record_payment(booking.id, booking.total_amount, now=datetime(2027, 1, 1, 0, 5))
    return booking


def test_check_in_is_15_00_in_the_booked_time_zone_across_dst(app):
    booking = Booking(check_in=CHECK_IN, check_out=CHECK_IN + timedelta(days=1), timezone="Europe/Paris")
    assert state.check_in_at(booking) == CHECK_IN_UTC  # 15:00 CEST
    booking.check_in = date(2027, 3, 27)
    assert state.check_in_at(booking) == datetime(2027, 3, 27, 14, 0)  # 15:00 CET, the day before the change
    booking.timezone = "Asia/Tokyo"
    assert state.check_in_at(booking) == datetime(2027, 3, 27, 6, 0)


# nights 2 x 100.01 + cleaning 30.00 = 230.02; service fee 12% = 27.60; total 257.62
TOTAL, HALF_WITHOUT_FEE = 25762, 11501  # half of 230.02 is 115.01


@pytest.mark.parametrize("policy, notice, refund_before, refund_after", [
    ("flexible", timedelta(hours=24), TOTAL, 0),
    ("moderate", timedelta(days=5), TOTAL, 0),
    ("strict", timedelta(days=7), HALF_WITHOUT_FEE, 0),
])
def test_guest_refund_one_minute_either_side_of_the_threshold(app, policy, notice, refund_before, refund_after):
    booking = paid_booking(policy)
    threshold = CHECK_IN_UTC - notice
    assert state.refund_for(booking, "guest", threshold - MINUTE) == refund_before
    assert state.refund_for(booking, "guest", threshold) == refund_before  # "at least" that long before
    assert state.refund_for(booking, "guest", threshold + MINUTE) == refund_after
    for by in ("host", "admin", "declined", "expired"):
        assert state.refund_for(booking, by, threshold + MINUTE) == TOTAL


@pytest.mark.parametrize("minutes, refund", [(-1, TOTAL), (1, 0)])
def test_cancel_through_the_service_records_the_refund(app, client, auth_headers, minutes, refund):
    booking = paid_booking("flexible")
    when = CHECK_IN_UTC - timedelta(hours=24) + timedelta(minutes=minutes)
    canceled = services.cancel_booking(booking.id, booking.guest, "ill", now=when)
    assert (canceled.status, canceled.refund_amount, canceled.canceled_by) == ("canceled", refund, "guest")
    shown = client.get(f"/api/v1/bookings/{booking.id}", headers=auth_headers(booking.guest)).get_json()
    assert shown["refund"] == {"amount": refund, "currency": "EUR"}


def test_unpaid_booking_refunds_nothing_whoever_cancels(app):
    booking = paid_booking("flexible", pay=False)
    assert state.refund_for(booking, "guest", datetime(2027, 1, 2)) == 0
    assert state.refund_for(booking, "host", datetime(2027, 1, 2)) == 0
    canceled = services.cancel_booking(booking.id, booking.listing.host, now=datetime(2027, 1, 2))
    assert canceled.refund_amount == 0
    db.session.refresh(canceled)
    assert canceled.canceled_by == "host"


# New York and Adak spring forward on 2027-03-14. A flexible stay checking in that day at 15:00 EDT (19:00 UTC) is
# refunded until 24 elapsed hours before: 19:00 UTC on the 13th, which is 14:00 EST, not the 15:00 a wall-clock
# subtraction gives (in Adak too: 14:00 HST on the 13th, check-in being 15:00 HDT).
@pytest.mark.parametrize("zone, shown, last_minute", [
    ("America/New_York", "Sat 13 Mar 2027, 14:00", datetime(2027, 3, 13, 19, 0)),
    ("America/Adak", "Sat 13 Mar 2027, 14:00", datetime(2027, 3, 14, 0, 0)),
])
def test_the_deadline_the_page_shows_is_the_one_enforced_across_dst(app, client, login, zone, shown, last_minute):
    listing = make_listing(timezone=zone, cancellation_policy="flexible", min_nights=1, instant_book=True)
    guest = make_user()
    booking, _ = services.create_booking(guest=guest, listing_id=listing.id, check_in=date(2027, 3, 14),
                                         check_out=date(2027, 3, 16), guests=1, now=datetime(2027, 1, 1))
    services.record_payment(booking.id, booking.total_amount, now=datetime(2027, 1, 1, 0, 5))
    login(client, guest)
    page = client.get(f"/bookings/{booking.id}").get_data(as_text=True)
    assert f"before {shown} ({zone} time)" in " ".join(page.split())
    assert state.refund_for(booking, "guest", last_minute) == booking.total_amount
    assert state.refund_for(booking, "guest", last_minute + MINUTE) == 0
    # 14:30 on the last day: before the 15:00 a wall-clock page would have shown, after the real deadline
    half_past = last_minute + timedelta(minutes=30)
    assert services.cancel_booking(booking.id, guest, now=half_past).refund_amount == 0


@pytest.mark.parametrize("policy, summary", [
    ("flexible", "Full refund if canceled at least 24 hours before check-in."),
    ("moderate", "Full refund if canceled at least 5 days before check-in."),
    ("strict", "Half of the nights and cleaning fee back if canceled at least 7 days before check-in."),
])
def test_cancellation_preview_shows_the_policy_table_rule_for_each_role(app, policy, summary):
    booking = paid_booking(policy)
    before = CHECK_IN_UTC - cancellation.get_policy(policy).notice - MINUTE
    guest = services.cancellation_preview(booking, booking.guest, now=before)
    assert (guest.role, guest.allowed, guest.refused, guest.summary) == ("guest", True, None, summary)
    assert guest.refund == state.refund_for(booking, "guest", before) and guest.kept == TOTAL - guest.refund
    assert guest.deadline == state.local_time(booking, CHECK_IN_UTC - cancellation.get_policy(policy).notice)
    assert str(guest.deadline.tzinfo) == "Europe/Paris"
    host = services.cancellation_preview(booking, booking.listing.host, now=before + 2 * MINUTE)
    assert (host.role, host.refund, host.kept) == ("host", TOTAL, 0)


def test_cancellation_preview_refuses_a_canceled_booking_or_a_stay_that_is_over(app):
    booking = paid_booking("flexible")
    over = services.cancellation_preview(booking, booking.guest, now=CHECK_IN_UTC + timedelta(days=3))
    assert not over.allowed and over.refused == "This stay is over and can no longer be canceled."
    services.cancel_booking(booking.id, booking.guest, now=datetime(2027, 1, 2))
    preview = services.cancellation_preview(booking, booking.guest, now=datetime(2027, 1, 2))
    assert not preview.allowed and preview.refused == "This booking is canceled and can no longer be canceled."
