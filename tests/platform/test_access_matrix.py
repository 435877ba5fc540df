"""Every id-bearing route, API and pages, called by someone the resource is not theirs: a guest and a host who have
nothing to do with it. The answer is always 403 or 404, never another user's data, and nothing changes.

The routes come from the url map, so a route added later is in the matrix at once; one that is public on purpose
(a listing's page, its reviews, a quote) is listed in PUBLIC with what it may show.
"""

from __future__ import annotations

import io
import re

import pytest
from flask import g
from sqlalchemy import select

from app.blueprints.listings import photos
from app.blueprints.reviews import services as reviews
from app.extensions import db
from app.models import Booking, Listing, ListingImage, Notification, Payment, Review

from ..support.factories import make_listing, make_user
from ..support.images import make_jpeg
from ..support.pages import CSRF_INPUT
from ..support.stays import completed_stay, paid_booking

# (method, rule) anyone may call on someone else's resource: a listing is public, and so are its calendar, quote and
# reviews; booking a listing is what a guest does with someone else's listing.
PUBLIC = {
    ("GET", "/api/v1/properties/<int:listing_id>"), ("GET", "/api/v1/properties/<int:listing_id>/availability"),
    ("GET", "/api/v1/properties/<int:listing_id>/quote"), ("GET", "/api/v1/properties/<int:listing_id>/reviews"),
    ("GET", "/api/v1/reviews/<int:review_id>"), ("GET", "/listings/<int:listing_id>"),
    ("GET", "/listings/<int:listing_id>/book"), ("POST", "/listings/<int:listing_id>/book"),
}
JSON_BODIES = {  # a body the route would accept from its owner, so the refusal is about who asks, not what
    "/api/v1/properties/<int:listing_id>": {"title": "Taken over by someone else"},
    "/api/v1/properties/<int:listing_id>/availability": {"ranges": []},
    "/api/v1/properties/<int:listing_id>/images/<int:image_id>": {"position": 0},
    "/api/v1/reviews/<int:review_id>/response": {"body": "Not my review to answer"},
    "/api/v1/bookings/<int:booking_id>/cancel": {"reason": "not mine"},
    "/api/v1/admin/users/<int:user_id>": {"role": "admin"},
}


@pytest.fixture
def world(app):
    """A host's listing with a photo, a confirmed paid stay on it, a completed stay with its review and the guest's
    notifications; and two outsiders: a guest and a host of another listing."""
    owner = make_user(role="host", email="owner@example.com")
    booking = paid_booking(host=owner)
    listing = db.session.get(Listing, booking.listing_id)
    image = photos.add_image(listing, actor=owner, file=io.BytesIO(make_jpeg()))
    guest = db.session.get(type(owner), booking.guest_id)
    guest.email = "guest@example.com"
    db.session.commit()
    done = completed_stay(guest, listing)
    review = reviews.create_review(author=guest, booking_id=done.id, rating=5, comment="Lovely place, quiet street.")
    payment = db.session.scalar(select(Payment).where(Payment.booking_id == booking.id))
    notification = db.session.scalar(select(Notification).where(Notification.user_id == guest.id))
    assert payment and notification
    other_host = make_user(role="host", email="other-host@example.com")
    make_listing(host=other_host)
    return {"owner": owner, "guest": guest, "listing": listing, "image": image, "booking": booking, "done": done,
            "review": review, "payment": payment, "notification": notification,
            "outsiders": [make_user(email="outsider@example.com"), other_host]}


def ids_of(world) -> dict[str, int]:
    return {"listing_id": world["listing"].id, "image_id": world["image"].id, "booking_id": world["booking"].id,
            "review_id": world["review"].id, "payment_id": world["payment"].id,
            "notification_id": world["notification"].id, "user_id": world["owner"].id}


def id_routes(app) -> list[tuple[str, str]]:
    return sorted((method, rule.rule) for rule in app.url_map.iter_rules() if "<int:" in rule.rule
                  and not rule.rule.startswith("/admin/") for method in rule.methods - {"HEAD", "OPTIONS"})


def url_for_rule(rule: str, ids: dict[str, int]) -> str:
    return re.sub(r"<int:(\w+)>", lambda m: str(ids[m.group(1)]), rule)


def snapshot(world) -> tuple:
    db.session.expire_all()
    listing = db.session.get(Listing, world["listing"].id)
    return (listing.title, listing.status, db.session.get(Booking, world["booking"].id).status,
            db.session.get(Review, world["review"].id).response_body, db.session.get(ListingImage, world["image"].id)
            is not None, db.session.get(Notification, world["notification"].id).read_at,
            db.session.get(type(world["owner"]), world["owner"].id).role)


def private_values(world) -> list[str]:
    """What no outsider may read: the host's and the guest's email addresses."""
    return [world["owner"].email, world["guest"].email]


def test_every_route_is_in_the_matrix(app):
    routes = id_routes(app)
    assert len(routes) >= 40, routes  # the API's and the pages' id-bearing routes
    assert PUBLIC <= set(routes)


def test_an_outsiders_token_gets_403_or_404_from_every_id_route_and_changes_nothing(app, client, world, auth_headers):
    ids, before = ids_of(world), snapshot(world)
    refused = []
    for outsider in world["outsiders"]:
        headers = auth_headers(outsider)
        for method, rule in id_routes(app):
            if not rule.startswith("/api/") or (method, rule) in PUBLIC:
                continue
            url = url_for_rule(rule, ids)
            body = JSON_BODIES.get(rule, {}) if method in ("POST", "PUT", "PATCH") else None
            response = client.open(url, method=method, headers=headers, json=body)
            text = response.get_data(as_text=True)
            assert response.status_code in (403, 404), (outsider.email, method, url, response.status_code, text[:200])
            assert response.get_json()["error"]["code"] in ("forbidden", "not_found")
            assert not any(value in text for value in private_values(world)), (method, url)
            refused.append((method, rule))
    assert len(refused) >= 2 * 15
    assert snapshot(world) == before


def test_an_outsiders_browser_gets_403_or_404_from_every_id_page_and_changes_nothing(app, world, login):
    ids, before = ids_of(world), snapshot(world)
    checked = 0
    for outsider in world["outsiders"]:
        g.pop("_login_user", None)
        g.pop("csrf_token", None)
        browser = app.test_client()
        login(browser, outsider)
        token = CSRF_INPUT.search(browser.get("/profile").get_data(as_text=True)).group(1)
        for method, rule in id_routes(app):
            if rule.startswith("/api/") or (method, rule) in PUBLIC:
                continue
            url = url_for_rule(rule, ids)
            data = {"csrf_token": token} if method == "POST" else None
            response = browser.open(url, method=method, data=data)
            text = response.get_data(as_text=True)
            assert response.status_code in (403, 404), (outsider.email, method, url, response.status_code,
                                                         response.headers.get("Location"))
            assert not any(value in text for value in private_values(world)), (method, url)
            checked += 1
    assert checked >= 2 * 20
    assert snapshot(world) == before


def test_public_routes_show_no_private_data_to_an_outsider(app, client, world, auth_headers):
    ids = ids_of(world)
    headers = auth_headers(world["outsiders"][0])
    for method, rule in sorted(PUBLIC):
        if method != "GET":
            continue
        response = client.get(url_for_rule(rule, ids), headers=headers)
        text = response.get_data(as_text=True)
        # 422: a quote without dates; 302: the booking page without dates sends the guest to the listing's page.
        assert response.status_code in (200, 302, 422), (rule, response.status_code)
        assert not any(value in text for value in private_values(world)), rule
