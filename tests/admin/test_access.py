"""Who gets into the dashboard: every page of the accounts area, the index and every /admin/ URL the app serves
without arguments: anonymous visitors go to the login page (and come back), guests and hosts get the site's 403
page, admins get in. A dashboard action posted without its CSRF token is refused and changes nothing."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest
from flask import g
from sqlalchemy import select

from app.blueprints.reviews import services as reviews
from app.extensions import db
from app.models import AuditEntry, User

from ..support.factories import make_listing, make_user
from ..support.pages import csrf_token, text_of
from ..support.stays import completed_stay


@pytest.fixture
def world(app) -> dict:
    """One row of each kind the area shows, so detail pages have something to open."""
    listing = make_listing(min_nights=1, title="Canal loft")
    guest = make_user(email="guest@example.com")
    review = reviews.create_review(author=guest, booking_id=completed_stay(guest, listing).id, rating=4)
    return {"user": guest.id, "listing": listing.id, "review": review.id}


def area_pages(world: dict) -> list[str]:
    return ["/admin/", "/admin/users/", f"/admin/users/details/?id={world['user']}",
            "/admin/users/?search=guest", "/admin/listings/", f"/admin/listings/details/?id={world['listing']}",
            "/admin/reviews/", f"/admin/reviews/details/?id={world['review']}",
            f"/admin/reviews/hide/?id={world['review']}", "/admin/audit/"]


def served_admin_urls(app) -> list[str]:
    """Every GET URL under /admin/ that takes no arguments (static files aside)."""
    return sorted({rule.rule for rule in app.url_map.iter_rules()
                   if rule.rule.startswith("/admin/") and not rule.arguments and "GET" in rule.methods
                   and not rule.endpoint.endswith(".static")})


def signed_in(app, login, role: str | None):
    """A new browser: anonymous (role None) or signed in as a new user with `role`."""
    g.pop("_login_user", None)  # the test's app context keeps the last request's user
    g.pop("csrf_token", None)
    client = app.test_client()
    if role is not None:
        login(client, make_user(role=role))
    return client


def test_the_area_has_the_pages_the_matrix_covers(app, world):
    served = set(served_admin_urls(app))
    assert {"/admin/", "/admin/users/", "/admin/listings/", "/admin/reviews/", "/admin/reviews/hide/",
            "/admin/audit/"} <= served


def test_anonymous_visitors_are_sent_to_the_login_page_and_back(app, world, login):
    client = signed_in(app, login, None)
    for url in area_pages(world) + served_admin_urls(app):
        response = client.get(url)
        assert response.status_code == 302, url
        location = urlsplit(response.headers["Location"])
        assert (location.path, parse_qs(location.query)["next"]) == ("/login", [url]), url


@pytest.mark.parametrize("role", ["guest", "host"])
def test_guests_and_hosts_get_the_403_page(app, world, login, role):
    client = signed_in(app, login, role)
    for url in area_pages(world) + served_admin_urls(app):
        response = client.get(url)
        assert response.status_code == 403, url
        assert "text/html" in response.content_type and "You can't open this page" in text_of(response), url


def test_admins_get_every_page(app, world, login):
    client = signed_in(app, login, "admin")
    for url in area_pages(world):
        assert client.get(url).status_code == 200, url
    # Create/edit/details without an id send an admin back to the list; an ajax lookup without a field is 404.
    for url in served_admin_urls(app):
        assert client.get(url).status_code in (200, 302, 404), url


def test_an_action_posted_without_its_csrf_token_is_refused(app, login):
    client = signed_in(app, login, "admin")
    user = make_user()
    refused = client.post("/admin/users/action/", data={"action": "suspend", "rowid": [str(user.id)]})
    assert refused.status_code == 400
    forged = client.post("/admin/users/action/", data={"action": "suspend", "rowid": [str(user.id)],
                                                       "csrf_token": "forged"})
    assert forged.status_code == 400
    db.session.expire_all()
    assert db.session.get(User, user.id).is_active is True and db.session.scalars(select(AuditEntry)).all() == []
    token = csrf_token(client, "/admin/users/")  # the same post with the page's token goes through
    client.post("/admin/users/action/", data={"action": "suspend", "rowid": [str(user.id)], "csrf_token": token})
    db.session.expire_all()
    assert db.session.get(User, user.id).is_active is False


def test_the_hide_form_without_its_token_hides_nothing(app, world, login):
    client = signed_in(app, login, "admin")
    response = client.post(f"/admin/reviews/hide/?id={world['review']}", data={"reason": "spam"})
    assert response.status_code == 400
    assert reviews.get_review(world["review"]).hidden_at is None
