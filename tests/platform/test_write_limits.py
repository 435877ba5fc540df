"""Rate limits of writes (per account, the API and the pages sharing one budget) and of search (per client address,
behind PROXY_COUNT proxies the address they report): the request past the budget is 429 rate_limited with
Retry-After, and someone else's budget is untouched. Counted in Redis with REDIS_URL (the real limiter, no mock)."""

from __future__ import annotations

import pytest
from flask import g

from ..support.factories import make_listing, make_user
from ..support.pages import csrf_token

LIMITS = {"RATELIMIT_ENABLED": True, "BOOKING_RATE_LIMIT": "2 per minute", "PAYMENT_RATE_LIMIT": "2 per minute",
          "REVIEW_RATE_LIMIT": "2 per minute", "UPLOAD_RATE_LIMIT": "2 per minute",
          "LISTING_RATE_LIMIT": "2 per minute", "SEARCH_RATE_LIMIT": "3 per minute", "PROXY_COUNT": 1}


@pytest.fixture
def app(make_app):
    return make_app(**LIMITS)


def assert_limited(response) -> None:
    assert response.status_code == 429, response.get_data(as_text=True)[:300]
    assert int(response.headers["Retry-After"]) > 0
    if response.is_json:
        assert response.get_json()["error"]["code"] == "rate_limited"


@pytest.mark.parametrize("url", ["/api/v1/bookings", "/api/v1/payments", "/api/v1/reviews"])
def test_writes_past_the_budget_are_429_per_account(client, auth_headers, url):
    guest, other = make_user(), make_user()
    for _ in range(2):
        assert client.post(url, json={}, headers=auth_headers(guest)).status_code == 422
    assert_limited(client.post(url, json={}, headers=auth_headers(guest)))
    # Another account from the same address has its own budget.
    assert client.post(url, json={}, headers=auth_headers(other)).status_code == 422


def test_uploads_and_new_listings_are_limited_per_account(client, auth_headers):
    host = make_user(role="host")
    listing = make_listing(host=host)
    url = f"/api/v1/properties/{listing.id}/images"
    for _ in range(2):
        assert client.post(url, headers=auth_headers(host)).status_code == 422  # no file attached
    assert_limited(client.post(url, headers=auth_headers(host)))
    for _ in range(2):
        assert client.post("/api/v1/properties", json={}, headers=auth_headers(host)).status_code == 422
    assert_limited(client.post("/api/v1/properties", json={}, headers=auth_headers(host)))
    # A profile photo is an upload too, in the same budget.
    assert_limited(client.post("/api/v1/profile/photo", headers=auth_headers(host)))


def test_the_booking_page_and_the_api_share_one_budget(client, app, auth_headers, login):
    guest = make_user()
    listing = make_listing()
    login(client, guest)
    token = csrf_token(client, f"/listings/{listing.id}")
    for _ in range(2):
        assert client.post("/api/v1/bookings", json={}, headers=auth_headers(guest)).status_code == 422
    g.pop("_login_user", None)  # the page request finds its user in its own session, not in the test's context
    page = client.post(f"/listings/{listing.id}/book", data={"csrf_token": token})
    assert_limited(page)
    assert "Too many attempts." in page.get_data(as_text=True)
    # Showing the booking form (GET) is not a write and is never refused.
    assert client.get(f"/listings/{listing.id}").status_code == 200


def test_search_is_limited_per_client_address_behind_the_proxy(client):
    alice = {"X-Forwarded-For": "198.51.100.7"}
    for _ in range(3):
        assert client.get("/api/v1/search", headers=alice).status_code == 200
    assert_limited(client.get("/api/v1/search", headers=alice))
    assert_limited(client.get("/search", headers=alice))  # the page shares the budget
    assert client.get("/api/v1/search", headers={"X-Forwarded-For": "203.0.113.9"}).status_code == 200
