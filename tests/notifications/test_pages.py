"""The notification centre, its buttons and the unread badge, through the HTML pages (CSRF on); email
preferences on the profile page."""

from __future__ import annotations

import re

import pytest

from app.blueprints.auth.preferences import email_preferences
from app.extensions import db
from app.models import User

from ..support.notification_world import World
from ..support.pages import csrf_token, page_of, submit, text_of


@pytest.fixture
def world(app) -> World:
    return World()


def badge_of(page: str) -> str:
    match = re.search(r'id="notification-badge"[^>]*>([^<]*)<', page)
    assert match, "no unread badge in the navigation"
    return match.group(1).strip()


def test_centre_lists_newest_first_with_unread_highlighted_and_links_to_the_booking(client, login, world):
    first, second = world.booking(), world.booking()
    login(client, world.host)
    page = page_of(client.get("/notifications"))
    assert page.index(f'href="/bookings/{second}"') < page.index(f'href="/bookings/{first}"')
    assert page.count("notification-unread") == 2 and page.count("Mark as read") == 2
    assert "New booking at Sea cabin" in text_of(client.get("/notifications"))
    assert badge_of(page) == "2"


def test_mark_as_read_posts_then_redirects_and_the_badge_counts_down(client, login, world):
    world.booking()
    world.booking()
    login(client, world.host)
    page = page_of(client.get("/notifications"))
    note_id = re.search(r'action="/notifications/(\d+)/read"', page).group(1)
    answer = submit(client, f"/notifications/{note_id}/read", {"next": "/notifications"}, form_url="/notifications")
    assert answer.status_code == 302 and answer.headers["Location"].endswith("/notifications")
    page = page_of(client.get("/notifications"))
    assert page.count("notification-unread") == 1 and badge_of(page) == "1"

    answer = submit(client, "/notifications/read-all", {}, form_url="/notifications")
    assert answer.status_code == 302
    page = page_of(client.get(answer.headers["Location"]))
    assert "notification-unread" not in page and badge_of(page) == ""
    assert "2 notification(s) marked as read." not in page  # one was read already
    assert "1 notification(s) marked as read." in page


def test_mark_as_read_without_csrf_changes_nothing(client, login, world):
    world.booking()
    login(client, world.host)
    note_id = re.search(r'action="/notifications/(\d+)/read"', page_of(client.get("/notifications"))).group(1)
    answer = client.post(f"/notifications/{note_id}/read", data={})
    assert answer.status_code == 400  # the app's CSRF protection refuses it before the view
    assert "notification-unread" in page_of(client.get("/notifications"))


def test_another_users_notification_cannot_be_marked_read(client, login, world):
    world.booking()
    login(client, world.host)
    host_note = re.search(r'action="/notifications/(\d+)/read"', page_of(client.get("/notifications"))).group(1)
    client.post("/logout", data={"csrf_token": csrf_token(client, "/notifications")})
    login(client, world.guest)
    answer = submit(client, f"/notifications/{host_note}/read", {}, form_url="/notifications")
    assert answer.status_code == 404


def test_the_centre_asks_anonymous_visitors_to_log_in(client):
    answer = client.get("/notifications")
    assert answer.status_code == 302 and "/login" in answer.headers["Location"]


def test_every_page_shows_the_badge_to_signed_in_users_only(client, login, world):
    assert "notification-badge" not in page_of(client.get("/"))
    world.booking()
    login(client, world.guest)
    for path in ("/", "/trips", "/profile"):
        assert badge_of(page_of(client.get(path))) == "1", path
    assert "js/notifications.js" in page_of(client.get("/"))


def test_profile_page_turns_email_of_a_type_off_with_the_rest_of_the_profile(client, login, world):
    login(client, world.guest)
    page = text_of(client.get("/profile"))
    assert "Email notifications" in page and "A booking is confirmed" in page and "A host replies to my review" in page
    form = {"name": "Gus Renamed", "phone": "", "bio": "", "preferred_currency": "USD",
            "preferred_language": "en", "email_booking_confirmed": "y", "email_review_response": "y"}
    answer = submit(client, "/profile", form)
    assert answer.status_code == 302
    guest = db.session.get(User, world.guest_id)
    choices = email_preferences(guest)
    assert guest.name == "Gus Renamed"
    assert choices["booking_confirmed"] is True and choices["review_response"] is True
    assert choices["payment_failed"] is False and choices["booking_canceled"] is False
    page = page_of(client.get("/profile"))
    assert re.search(r'<input checked[^>]*name="email_booking_confirmed"', page)
    assert re.search(r'<input [^>]*name="email_payment_failed"', page)
    assert not re.search(r'<input checked[^>]*name="email_payment_failed"', page)
