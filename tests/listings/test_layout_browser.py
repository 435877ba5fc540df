"""The listing page's layout in a real browser: on a desktop the booking card sits at the top of its column and
clear of the host card, and stays in view while the page scrolls; on a phone nothing scrolls sideways."""

from __future__ import annotations

from ..support.browser import browser_page, live_server, require_chromium
from ..support.factories import make_listing, make_user

DESKTOP, PHONE = {"width": 1280, "height": 800}, {"width": 390, "height": 844}


def box(page, selector: str) -> dict:
    return page.locator(selector).first.bounding_box()


def test_the_booking_card_sits_at_the_top_clear_of_the_host_card_and_stays_in_view(app):
    require_chromium()
    host = make_user(role="host", name="Hana Host", bio="I have hosted for ten years. " * 8)
    listing = make_listing(host=host, description="Big windows and a quiet street.\n" * 120)
    with live_server(app) as base, browser_page() as page:
        page.set_viewport_size(DESKTOP)
        page.goto(f"{base}/listings/{listing.id}")
        aside, card, host_card = box(page, "aside"), box(page, "#book"), box(page, ".host-card")
        assert abs(card["y"] - aside["y"]) < 2  # not pushed 80 px down its column
        assert card["y"] + card["height"] <= host_card["y"]  # "Your nights are held ..." is not hidden
        page.evaluate("window.scrollTo(0, 1200)")
        page.wait_for_function("window.scrollY >= 1200")
        assert abs(box(page, "#book")["y"] - 80) < 2  # held 5rem below the top while the description scrolls


def test_the_listing_page_does_not_scroll_sideways_on_a_phone(app):
    require_chromium()
    listing = make_listing(description="A long description. " * 50)
    with live_server(app) as base, browser_page() as page:
        page.set_viewport_size(PHONE)
        page.goto(f"{base}/listings/{listing.id}")
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= PHONE["width"], width
