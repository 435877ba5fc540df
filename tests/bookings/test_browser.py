"""Booking in a real browser: pick dates in the listing page's month grid, watch the live quote, book."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta

from playwright.sync_api import expect

from app.blueprints.bookings import services
from app.extensions import db
from app.models import Booking

from ..support.browser import browser_page, live_server, require_chromium
from ..support.factories import DEFAULT_PASSWORD, make_listing, make_user

SOON = date.today() + timedelta(days=20)


def show_month(page, day: date) -> None:
    """Step the booking panel's month grid (forward or back) until it shows `day`'s month."""
    title = page.locator("#booking-picker .picker-title")
    for _ in range(6):
        shown = datetime.strptime(title.inner_text(), "%B %Y").date()
        if (shown.year, shown.month) == (day.year, day.month):
            return
        forward = (shown.year, shown.month) < (day.year, day.month)
        page.get_by_role("button", name="Next month" if forward else "Previous month").click()
        expect(title).not_to_have_text(f"{shown:%B %Y}")
    assert title.inner_text() == f"{day:%B %Y}"


def day_button(page, day: date):
    return page.locator(f'#booking-picker button[data-date="{day.isoformat()}"]')


def test_guest_picks_free_nights_sees_quote_and_books(app):
    require_chromium()
    listing = make_listing(title="Canal loft", price_per_night={"amount": 10000, "currency": "EUR"},
                           cleaning_fee={"amount": 2500, "currency": "EUR"}, max_guests=4, min_nights=2,
                           max_nights=14, instant_book=True)
    taken_from = SOON + timedelta(days=3)
    services.create_booking(guest=make_user(), listing_id=listing.id, check_in=taken_from,
                            check_out=taken_from + timedelta(days=2), guests=1)
    guest = make_user(name="Gus Guest")
    guest_id = guest.id
    with live_server(app) as base, browser_page() as page:
        page.goto(base + "/login")
        page.get_by_label("Email").fill(guest.email)
        page.get_by_label("Password").fill(DEFAULT_PASSWORD)
        page.get_by_role("button", name="Log in").click()
        page.wait_for_url(base + "/")

        page.goto(f"{base}/listings/{listing.id}")
        assert "Choose your dates to see the total price." in page.locator("#booking-quote").inner_text()
        show_month(page, taken_from + timedelta(days=1))
        taken = day_button(page, taken_from + timedelta(days=1))
        taken.wait_for()
        page.wait_for_function(f"""() => document.querySelector('#booking-picker button[data-date="{
            (taken_from + timedelta(days=1)).isoformat()}"]').disabled""")
        assert "picker-taken" in taken.get_attribute("class")  # greyed out and refused

        show_month(page, SOON)
        day_button(page, SOON).click()
        expect(page.locator("#booking-quote")).to_contain_text("Choose your check-out date")
        show_month(page, taken_from + timedelta(days=1))
        assert day_button(page, taken_from + timedelta(days=1)).is_disabled()  # would span a taken night
        show_month(page, taken_from)
        day_button(page, taken_from).click()  # leaving the morning the taken nights start is fine
        assert page.locator("#booking-check_in").input_value() == SOON.isoformat()
        assert page.locator("#booking-check_out").input_value() == taken_from.isoformat()
        quote = page.locator("#booking-quote")
        book = page.get_by_role("button", name="Book", exact=True)
        expect(quote).to_have_text(re.compile(
            r"3 nights\s*€300\.00\s*Cleaning fee\s*€25\.00\s*Service fee\s*€39\.00\s*Total\s*€364\.00"))

        page.get_by_label("Guests").fill("9")
        expect(quote).to_contain_text("Guests: this place sleeps 1 to 4")
        expect(book).to_be_disabled()
        page.get_by_label("Guests").fill("2")
        expect(quote).to_contain_text("€364.00")
        expect(book).to_be_enabled()

        book.click()
        page.wait_for_url(f"{base}/bookings/*")
        assert "Booked!" in page.content()
        assert "Pending payment" in page.locator(".status-badge").first.inner_text()

    db.session.rollback()  # end this session's REPEATABLE READ snapshot (MariaDB) to see the server's commit
    booking = Booking.query.filter_by(guest_id=guest_id).one()
    assert (booking.check_in, booking.check_out, booking.guests, booking.total_amount) == (SOON, taken_from, 2, 36400)
