"""Live notifications in a real browser: a host's open page updates its unread badge when a guest pays."""

from __future__ import annotations

from datetime import date, timedelta

from playwright.sync_api import expect

from app.blueprints.bookings import services as bookings
from app.extensions import db

from ..support.browser import chromium, live_server, require_chromium, sign_in
from ..support.factories import make_listing, make_user


def test_hosts_badge_and_list_update_without_reload_when_a_guest_pays(app):
    require_chromium()
    host = make_user(role="host", name="Hana Host")
    guest = make_user(name="Gus Guest")
    listing = make_listing(host=host, instant_book=True, title="Sea cabin", min_nights=1)
    check_in = date.today() + timedelta(days=30)
    booking, _ = bookings.create_booking(guest=guest, listing_id=listing.id, check_in=check_in,
                                         check_out=check_in + timedelta(days=2), guests=1)
    booking_id, host_email, guest_email = booking.id, host.email, guest.email
    db.session.commit()
    with live_server(app) as base, chromium() as browser:
        host_page = browser.new_context().new_page()
        sign_in(host_page, base, host_email)
        host_page.goto(base + "/notifications")
        badge = host_page.locator("#notification-badge")
        expect(badge).to_have_text("")
        expect(host_page.locator("#notifications-empty")).to_be_visible()

        guest_page = browser.new_context().new_page()
        sign_in(guest_page, base, guest_email)
        guest_page.goto(f"{base}/bookings/{booking_id}/checkout")
        guest_page.get_by_role("button", name="Pay").click()
        guest_page.wait_for_url(f"{base}/bookings/{booking_id}")

        expect(badge).to_have_text("1", timeout=2000)
        expect(badge).to_be_visible()
        expect(host_page.locator("#notification-list")).to_contain_text("New booking at Sea cabin")
        host_page.reload()  # what the stream showed is what the centre lists
        expect(host_page.locator("#notification-badge")).to_have_text("1")
