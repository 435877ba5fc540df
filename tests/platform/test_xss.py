"""Script in every free-text field a person can fill (names, bio, listing title, description and street, review and
reply, a cancellation's reason) is shown as text on every page that shows it, to every kind of visitor: it is
escaped, never run. The pages are every GET page of the url map, with the world's ids filled in."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from flask import g

from app.blueprints.auth import profiles as accounts
from app.blueprints.bookings import services as bookings
from app.blueprints.reviews import services as reviews
from app.extensions import db
from app.models import Booking

from ..support.factories import make_listing, make_user
from ..support.stays import completed_stay

PAYLOAD = "<script>alert('xss')</script>\"><img src=x onerror=alert(1)>"
RAW = ("<script>alert('xss')", "<img src=x onerror")  # what must never reach a page unescaped
ESCAPED = "&lt;script&gt;alert("  # what the payload looks like once escaped
SKIPPED_PREFIXES = ("/api/", "/static/", "/bootstrap/", "/uploads/", "/auth/oauth/", "/notifications/stream",
                    "/notifications/unsubscribe/", "/logout", "/admin/static")


@pytest.fixture
def world(app):
    host = make_user(role="host", name=f"Hana {PAYLOAD}"[:100])
    accounts.update_profile(host, bio=f"I host. {PAYLOAD}")
    listing = make_listing(host=host, title=f"Loft {PAYLOAD}"[:120], description=f"Big windows. {PAYLOAD}",
                           address={"line1": f"12 {PAYLOAD}"[:100], "city": "Amsterdam", "state": "North Holland",
                                    "country": "NL", "postal_code": "1012"}, min_nights=1, instant_book=True)
    guest = make_user(name=f"Gus {PAYLOAD}"[:100])
    done = completed_stay(guest, listing)
    review = reviews.create_review(author=guest, booking_id=done.id, rating=4, comment=f"Nice. {PAYLOAD}")
    reviews.respond_to_review(review.id, host, f"Thanks! {PAYLOAD}")
    check_in = date.today() + timedelta(days=40)
    upcoming, _ = bookings.create_booking(guest=guest, listing_id=listing.id, check_in=check_in,
                                          check_out=check_in + timedelta(days=2), guests=1)
    canceled, _ = bookings.create_booking(guest=guest, listing_id=listing.id, check_in=check_in + timedelta(days=5),
                                          check_out=check_in + timedelta(days=7), guests=1)
    bookings.cancel_booking(canceled.id, guest, reason=f"Plans changed {PAYLOAD}"[:200])
    admin = make_user(role="admin")
    return {"host": host, "guest": guest, "admin": admin, "listing": listing, "review": review,
            "booking": upcoming, "done": done, "canceled": db.session.get(Booking, canceled.id)}


def pages(app, world) -> list[str]:
    ids = {"listing_id": world["listing"].id, "booking_id": world["booking"].id, "review_id": world["review"].id}
    urls = set()
    for rule in app.url_map.iter_rules():
        if "GET" not in rule.methods or rule.rule.startswith(SKIPPED_PREFIXES):
            continue
        names = re.findall(r"<(?:\w+:)?(\w+)>", rule.rule)
        if all(name in ids for name in names):
            urls.add(re.sub(r"<(?:\w+:)?(\w+)>", lambda m: str(ids[m.group(1)]), rule.rule))
    for booking in ("done", "canceled"):
        urls.add(f"/bookings/{world[booking].id}")
    urls |= {f"/search?location=Amsterdam&check_in={world['booking'].check_in}&check_out={world['booking'].check_out}",
             "/trips?tab=past", "/trips?tab=canceled", "/host/reservations?status=canceled"}
    return sorted(urls)


def browser_of(app, login, user):
    g.pop("_login_user", None)
    g.pop("csrf_token", None)
    browser = app.test_client()
    if user is not None:
        login(browser, user)
    return browser


def test_script_in_free_text_is_shown_escaped_on_every_page_to_everyone(app, world, login):
    shown: dict[str, set[str]] = {}
    for who in ("anonymous", "guest", "host", "admin"):
        browser = browser_of(app, login, None if who == "anonymous" else world[who])
        for url in pages(app, world):
            response = browser.get(url)
            text = response.get_data(as_text=True)
            assert response.status_code < 500, (who, url, response.status_code)
            for raw in RAW:
                assert raw not in text, (who, url)
            if ESCAPED in text:
                shown.setdefault(who, set()).add(url.split("?")[0])
    listing, done = world["listing"].id, world["done"].id
    # The payload really reached the pages that show those fields (else this test would prove nothing).
    assert f"/listings/{listing}" in shown["anonymous"]  # title, description, host name, review and reply
    assert {"/trips", f"/bookings/{done}", "/profile"} <= shown["guest"]
    assert {"/host/listings", "/host/reviews", "/profile"} <= shown["host"]
    assert any(url.startswith("/admin") for url in shown["admin"])
