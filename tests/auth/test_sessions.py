"""Ending sessions: a password change (API and page), `users create-admin` on an existing account and "sign out
everywhere" end every older access token, refresh token and browser session; a suspended user's token is refused on
public routes too; sign-in starts a new cookie session; the remember-me cookie is SameSite=Lax."""

from __future__ import annotations

from flask import g

from app.blueprints.auth import services
from app.blueprints.auth.services import start_session
from app.extensions import db
from config import ProductionConfig

from ..support.factories import DEFAULT_PASSWORD, make_user
from ..support.pages import another_client, submit, text_of

NEW_PASSWORD = "a-brand-new-passphrase"


def bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


def old_credentials_of(user, client, login) -> tuple[dict, object]:
    """A token pair from an API sign-in and a browser signed in, both from before the change under test."""
    login(client, user)
    assert client.get("/profile").status_code == 200
    return start_session(user), client


def assert_all_refused(client, pair: dict) -> None:
    g.pop("_login_user", None)  # the app context the test pushed keeps the last request's user in g
    assert client.get("/profile").status_code == 302  # the old browser session is signed out
    assert client.get("/api/v1/profile", headers=bearer(pair["access_token"])).status_code == 401
    assert client.post("/api/v1/token/refresh", headers=bearer(pair["refresh_token"])).status_code == 401


def test_changing_the_password_by_api_ends_every_older_token_and_session(app, client, login):
    user = make_user()
    old, browser = old_credentials_of(user, client, login)
    api = app.test_client()
    answer = api.post("/api/v1/profile/password", headers=bearer(old["access_token"]),
                      json={"current_password": DEFAULT_PASSWORD, "new_password": NEW_PASSWORD})
    assert answer.status_code == 200
    fresh = answer.get_json()
    assert set(fresh) == {"access_token", "refresh_token"}
    assert_all_refused(browser, old)
    assert api.get("/api/v1/profile", headers=bearer(fresh["access_token"])).status_code == 200
    assert api.post("/api/v1/token/refresh", headers=bearer(fresh["refresh_token"])).status_code == 200
    assert api.post("/api/v1/login", json={"email": user.email, "password": NEW_PASSWORD}).status_code == 200
    assert api.post("/api/v1/login", json={"email": user.email, "password": DEFAULT_PASSWORD}).status_code == 401


def test_a_wrong_current_password_is_401_and_a_weak_new_one_422_and_nothing_changes(client, auth_headers):
    user = make_user()
    headers = auth_headers(user)
    wrong = client.post("/api/v1/profile/password", headers=headers,
                        json={"current_password": "not-my-password", "new_password": NEW_PASSWORD})
    assert wrong.status_code == 401 and wrong.get_json()["error"]["code"] == "invalid_credentials"
    weak = client.post("/api/v1/profile/password", headers=headers,
                       json={"current_password": DEFAULT_PASSWORD, "new_password": "short"})
    assert weak.status_code == 422 and "new_password" in weak.get_json()["error"]["fields"]
    assert client.get("/api/v1/profile", headers=headers).status_code == 200  # still signed in
    assert client.post("/api/v1/login", json={"email": user.email, "password": DEFAULT_PASSWORD}).status_code == 200


def test_an_account_without_a_password_is_told_to_set_one_by_email(client, auth_headers, login):
    user = make_user()
    user.password_hash = None  # as if made with Google or Facebook
    db.session.commit()
    answer = client.post("/api/v1/profile/password", headers=auth_headers(user),
                         json={"current_password": "anything-at-all", "new_password": NEW_PASSWORD})
    assert answer.status_code == 422
    assert "reset" in answer.get_json()["error"]["fields"]["current_password"][0]


def test_the_password_page_changes_it_keeps_this_browser_in_and_signs_the_others_out(app, client, login):
    user = make_user()
    login(client, user)
    other = another_client(client, login, user)
    assert "Change password" in text_of(client.get("/profile"))
    wrong = submit(client, "/profile/password", {"current_password": "not-my-password",
                                                 "password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert wrong.status_code == 200 and "The current password is incorrect." in text_of(wrong)
    differ = submit(client, "/profile/password", {"current_password": DEFAULT_PASSWORD,
                                                  "password": NEW_PASSWORD, "confirm": "something-else"})
    assert "The passwords differ." in text_of(differ)
    done = submit(client, "/profile/password", {"current_password": DEFAULT_PASSWORD,
                                                "password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert done.status_code == 302
    g.pop("_login_user", None)
    assert client.get("/profile").status_code == 200  # this browser stays signed in
    g.pop("_login_user", None)
    assert other.get("/profile").status_code == 302  # the other one is signed out


def test_the_password_page_refuses_a_post_without_its_csrf_token(client, login):
    user = make_user()
    login(client, user)
    client.post("/profile/password", data={"current_password": DEFAULT_PASSWORD, "password": NEW_PASSWORD,
                                           "confirm": NEW_PASSWORD})
    assert client.post("/api/v1/login", json={"email": user.email, "password": DEFAULT_PASSWORD}).status_code == 200


def test_the_password_page_of_an_account_without_a_password_points_to_the_reset_email(client, login):
    user = make_user()
    login(client, user)
    user.password_hash = None  # as if made with Google or Facebook
    db.session.commit()
    page = text_of(client.get("/profile/password"))
    assert "has no password yet" in page and "password reset email" in page


def test_create_admin_on_an_existing_account_ends_its_older_tokens_and_sessions(app, client, login, runner):
    user = make_user()
    old, browser = old_credentials_of(user, client, login)
    result = runner.invoke(args=["users", "create-admin", user.email, "--password", NEW_PASSWORD])
    assert result.exit_code == 0, result.output
    assert_all_refused(browser, old)


def test_sign_out_everywhere_by_api_ends_every_token_and_session(app, client, login):
    user = make_user()
    old, browser = old_credentials_of(user, client, login)
    other = start_session(user)
    assert app.test_client().post("/api/v1/logout-all", headers=bearer(other["access_token"])).status_code == 204
    assert_all_refused(browser, old)
    assert client.get("/api/v1/profile", headers=bearer(other["access_token"])).status_code == 401
    login(client, user)  # signing in again works
    g.pop("_login_user", None)
    assert client.get("/profile").status_code == 200


def test_the_profiles_sign_out_everywhere_button_signs_out_this_browser_the_others_and_the_apps(app, client, login):
    user = make_user()
    old, browser = old_credentials_of(user, client, login)
    other = another_client(client, login, user)
    g.pop("_login_user", None)
    g.pop("csrf_token", None)
    answer = submit(other, "/profile/sign-out-everywhere", {}, form_url="/profile")
    assert answer.status_code == 302 and "/login" in answer.headers["Location"]
    assert_all_refused(browser, old)
    g.pop("_login_user", None)
    assert other.get("/profile").status_code == 302


def test_a_suspended_users_token_is_refused_on_public_routes_too(client, auth_headers):
    user = make_user()
    headers = auth_headers(user)
    assert client.get("/api/v1/search", headers=headers).status_code == 200
    services.set_active(user, False, actor=make_user(role="admin"))
    for path in ("/api/v1/search", "/api/v1/amenities"):
        refused = client.get(path, headers=headers)
        assert refused.status_code == 403 and refused.get_json()["error"]["code"] == "account_suspended"
    assert client.get("/api/v1/search").status_code == 200  # without the token: an anonymous caller
    assert client.get("/api/v1/search", headers=bearer("not-a-token")).status_code == 200


def test_signing_in_starts_a_new_session_with_nothing_from_before(client, login):
    user = make_user()
    client.get("/login")
    with client.session_transaction() as session:
        session["planted"] = "by someone else"  # e.g. a fixation attempt
        before_csrf = session.get("csrf_token")
    login(client, user)
    with client.session_transaction() as session:
        assert "planted" not in session
        assert session.get("csrf_token") != before_csrf
        assert session.get("_user_id", "").startswith(f"{user.id}:")


def test_the_remember_me_cookie_is_httponly_and_samesite_lax_and_secure_in_production(client):
    user = make_user()
    answer = submit(client, "/login", {"email": user.email, "password": DEFAULT_PASSWORD, "remember": "y"})
    cookie = next(value for value in answer.headers.getlist("Set-Cookie") if value.startswith("remember_token="))
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert ProductionConfig.REMEMBER_COOKIE_SECURE and ProductionConfig.SESSION_COOKIE_SECURE
