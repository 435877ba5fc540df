"""Sign-in with Google and Facebook in a real browser (Chromium), against the local providers: sign up, sign in
again, link from the profile, unlink, and a refusal at the provider."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import OAuthIdentity, User

from ..support.browser import browser_page, live_server, require_chromium
from ..support.browser import sign_in as password_sign_in
from ..support.facebook_stub import FacebookStub
from ..support.factories import make_user
from ..support.oidc_provider import DEFAULT_PERSON, OIDCProvider


@pytest.fixture
def app(make_app, oidc_provider: OIDCProvider, facebook_stub: FacebookStub):
    return make_app(**oidc_provider.settings(), **facebook_stub.settings())


def log_out(page) -> None:
    page.locator("#accountMenu").click()
    page.get_by_role("button", name="Log out").click()


def test_a_person_signs_up_with_google_and_comes_back_with_it(app, oidc_provider):
    require_chromium()
    oidc_provider.person["picture"] = oidc_provider.picture_url("ada")
    with live_server(app) as base, browser_page() as page:
        page.goto(base + "/login?next=/trips")
        page.get_by_role("link", name="Continue with Google").click()
        page.wait_for_url(base + "/trips")
        assert "Welcome to Abode, Ada Lovelace!" in page.content()
        page.goto(base + "/profile")
        methods = page.locator("#sign-in-methods")
        assert f"Linked as {DEFAULT_PERSON['email']}" in methods.inner_text()
        assert "Your only way to sign in" in methods.inner_text()
        assert page.locator("img.avatar").first.get_attribute("src").startswith("/uploads/avatars/")

        log_out(page)
        page.goto(base + "/register")
        page.get_by_role("link", name="Continue with Google").click()
        page.wait_for_url(base + "/")
        assert "Welcome back, Ada Lovelace." in page.content()
    assert db.session.scalar(select(db.func.count()).select_from(User)) == 1


def test_a_password_account_links_facebook_signs_in_with_it_and_unlinks_it(app):
    require_chromium()
    user = make_user(email="grace.work@example.com", name="Grace H.")
    with live_server(app) as base, browser_page() as page:
        password_sign_in(page, base, user.email)
        page.goto(base + "/profile")
        page.get_by_role("button", name="Link Facebook").click()
        page.wait_for_url(base + "/profile#sign-in-methods")
        assert "Facebook is linked: you can sign in with it from now on." in page.content()

        log_out(page)
        page.goto(base + "/login")
        page.get_by_role("link", name="Continue with Facebook").click()
        page.wait_for_url(base + "/")
        assert "Welcome back, Grace H.." in page.content()

        page.goto(base + "/profile")
        page.get_by_role("button", name="Unlink Facebook").click()
        page.wait_for_url(base + "/profile#sign-in-methods")
        assert "Facebook is unlinked." in page.content()
        assert page.get_by_role("button", name="Link Facebook").is_visible()
    db.session.expire_all()
    assert db.session.scalar(select(OAuthIdentity)) is None


def test_cancelling_at_google_comes_back_to_the_login_page(app, oidc_provider):
    require_chromium()
    oidc_provider.deny_next = True
    with live_server(app) as base, browser_page() as page:
        page.goto(base + "/login")
        page.get_by_role("link", name="Continue with Google").click()
        page.wait_for_url(base + "/login")
        assert "You cancelled signing in with Google. Nothing was changed." in page.content()
