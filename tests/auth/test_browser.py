"""Accounts in a real browser: sign up, log out, log in, set a profile photo."""

from __future__ import annotations

from app.models import User

from ..support.browser import browser_page, live_server, require_chromium
from ..support.images import make_jpeg


def test_new_user_signs_up_logs_in_and_sets_photo(app, tmp_path):
    require_chromium()
    photo = tmp_path / "me.jpg"
    photo.write_bytes(make_jpeg(width=400, height=400, exif=True))
    with live_server(app) as base, browser_page() as page:
        page.goto(base + "/")
        page.get_by_role("link", name="Sign up").click()
        page.get_by_label("Your name").fill("Mia Browser")
        page.get_by_label("Email").fill("mia@example.com")
        page.get_by_label("Password", exact=True).fill("a-long-password")
        page.get_by_label("Repeat the password").fill("a-long-password")
        page.get_by_label("Host my place (and book too)").check()
        page.get_by_role("button", name="Create account").click()
        page.wait_for_url(base + "/")
        assert "Welcome to Abode, Mia Browser!" in page.content()

        page.locator("#accountMenu").click()
        page.get_by_role("button", name="Log out").click()
        page.get_by_role("link", name="Log in").click()
        page.get_by_label("Email").fill("MIA@example.com")
        page.get_by_label("Password").fill("a-long-password")
        page.get_by_role("button", name="Log in").click()
        assert "Welcome back, Mia Browser." in page.content()

        page.goto(base + "/profile")
        page.get_by_label("Profile photo").set_input_files(str(photo))
        page.get_by_role("button", name="Save profile").click()
        assert "Your profile is saved." in page.content()
        avatar = page.locator("img.avatar").first
        assert avatar.get_attribute("src").startswith("/uploads/avatars/")
        assert avatar.evaluate("img => img.naturalWidth") == 400

    user = User.query.filter_by(email="mia@example.com").one()
    assert user.role == "host" and user.avatar_key
