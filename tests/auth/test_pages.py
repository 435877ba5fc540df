"""Accounts through the HTML pages, with CSRF on: sign-up, log-in, log-out, profile and photo."""

from __future__ import annotations

import io
from urllib.parse import quote, urlsplit

import pytest

from app.models import User

from ..support.factories import DEFAULT_PASSWORD, make_user
from ..support.images import make_jpeg
from ..support.pages import submit


def signup_data(**overrides) -> dict:
    return {"name": "Ana", "email": "ana@example.com", "password": "a-long-password", "confirm": "a-long-password",
            "role": "host", **overrides}


def test_signup_page_creates_host_and_signs_in(client, app):
    response = submit(client, "/register", signup_data())
    assert response.status_code == 302
    assert User.query.filter_by(email="ana@example.com").one().role == "host"
    home = client.get("/").get_data(as_text=True)
    assert "Ana" in home and "Log out" in home


def test_signup_without_csrf_token_is_refused(client, app):
    response = client.post("/register", data=signup_data())
    assert response.status_code == 400
    assert User.query.count() == 0


def test_signup_taken_email_shows_message_beside_field_and_keeps_input(client, app):
    make_user(email="ana@example.com")
    response = submit(client, "/register", signup_data(email="ANA@example.com", name="Ana Two"))
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "already exists" in page and "invalid-feedback" in page
    assert 'value="Ana Two"' in page


def test_signup_short_password_is_form_error(client, app):
    response = submit(client, "/register", signup_data(password="short", confirm="short"))
    assert response.status_code == 200 and "at least 10" in response.get_data(as_text=True)
    assert User.query.count() == 0


def test_login_page_signs_in_and_redirects_to_next(client, app):
    make_user(email="bo@example.com")
    response = submit(client, "/login?next=/profile", {"email": "bo@example.com", "password": DEFAULT_PASSWORD})
    assert response.status_code == 302 and response.headers["Location"] == "/profile"


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example/", "/\\evil.example",
                                    "/%09/evil.example", "javascript:alert(1)"])
def test_login_page_never_redirects_offsite(client, app, target):
    make_user(email="bo@example.com")
    response = submit(client, "/login?next=" + quote(target, safe=""), {"email": "bo@example.com",
                                                                        "password": DEFAULT_PASSWORD})
    location = response.headers["Location"]
    assert location.startswith("/") and not location.startswith(("//", "/\\"))
    assert urlsplit(location).netloc == "" and urlsplit(location).scheme == ""


def test_login_page_wrong_password_shows_error(client, app):
    make_user(email="bo@example.com")
    response = submit(client, "/login", {"email": "bo@example.com", "password": "wrong-password"})
    assert response.status_code == 200 and "incorrect" in response.get_data(as_text=True)


def test_logout_ends_session(client, app, login):
    login(client, make_user())
    submit(client, "/logout", {}, form_url="/profile")
    assert client.get("/profile").status_code == 302


def test_profile_requires_login_redirects_to_login(client):
    response = client.get("/profile")
    assert response.status_code == 302 and "/login?next=/profile" in response.headers["Location"]


def test_profile_edit_saves_details_and_photo(client, app, login):
    user = make_user(name="Bo")
    login(client, user)
    data = {"name": "Bo B.", "phone": "+1 555 0100", "bio": "Hi", "preferred_currency": "GBP",
            "preferred_language": "de", "photo": (io.BytesIO(make_jpeg(exif=True)), "me.jpg")}
    response = submit(client, "/profile", data, content_type="multipart/form-data")
    assert response.status_code == 302
    assert (user.name, user.phone, user.preferred_currency, user.preferred_language) == ("Bo B.", "+1 555 0100",
                                                                                         "GBP", "de")
    assert user.avatar_key
    page = client.get("/profile").get_data(as_text=True)
    assert "/uploads/" + user.avatar_key in page
    assert client.get("/uploads/" + user.avatar_key).content_type == "image/jpeg"


def test_profile_photo_text_file_is_form_error_not_500(client, app, login):
    user = make_user()
    login(client, user)
    data = {"name": "X", "preferred_currency": "USD", "preferred_language": "en",
            "photo": (io.BytesIO(b"just some text, not a picture"), "fake.jpg")}
    response = submit(client, "/profile", data, content_type="multipart/form-data")
    assert response.status_code == 200
    assert "not a JPEG, PNG or WebP" in response.get_data(as_text=True)
    assert user.avatar_key is None


def test_profile_bad_photo_saves_nothing(client, app, login):
    user = make_user(name="Bo")
    login(client, user)
    data = {"name": "Changed", "preferred_currency": "USD", "preferred_language": "en",
            "photo": (io.BytesIO(b"not an image at all"), "x.png")}
    submit(client, "/profile", data, content_type="multipart/form-data")
    from app.extensions import db

    db.session.expire_all()
    assert user.name == "Bo" and user.avatar_key is None


def test_become_host_button_makes_guest_a_host(client, app, login):
    user = make_user()
    login(client, user)
    assert submit(client, "/profile/become-host", {}, form_url="/profile").status_code == 302
    assert user.role == "host"


def test_suspended_user_session_ends(client, app, login):
    from app.blueprints.auth import services

    user = make_user()
    login(client, user)
    services.set_active(user, False)
    assert client.get("/profile").status_code == 302


def test_home_page_has_search_bar_and_signup(client):
    page = client.get("/").get_data(as_text=True)
    assert 'name="location"' in page and "Sign up" in page
    assert "cdn" not in page.lower()


@pytest.mark.parametrize("target, expected", [
    ("/trips?tab=past", "/trips?tab=past"), ("", "/"), (None, "/"), ("//evil.example/x", "/"),
    ("https://evil.example/", "/"), ("javascript:alert(1)", "/"), ("trips", "/"),
    ("/\\evil.example/x", "/"), ("/\t/evil.example", "/"), ("/\n/evil.example", "/"),
])
def test_safe_next_keeps_only_paths_on_this_site(target, expected):
    from app.navigation import safe_next

    assert safe_next(target, "/") == expected
