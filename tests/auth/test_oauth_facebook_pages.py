"""Browser sign-in with Facebook (/auth/oauth/facebook) against the local Facebook: the OAuth 2 dialog, the code
exchange with the app secret, then the token checked like a mobile app's before `me` is read."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from sqlalchemy import select

from app.extensions import db
from app.models import OAuthIdentity, User

from ..support.facebook_stub import APP_ID, DEFAULT_PERSON, FacebookStub
from ..support.factories import make_user
from ..support.pages import submit, text_of

START = "/auth/oauth/facebook"


@pytest.fixture
def app(make_app, facebook_stub: FacebookStub):
    return make_app(**facebook_stub.settings())


def query(url: str) -> dict[str, str]:
    return {name: values[0] for name, values in parse_qs(urlsplit(url).query).items()}


def round_trip(client, start_response):
    assert start_response.status_code == 302
    answer = requests.get(start_response.headers["Location"], allow_redirects=False, timeout=10)
    assert answer.status_code == 302, answer.text
    back = urlsplit(answer.headers["Location"])
    assert back.path == "/auth/oauth/facebook/callback"
    return client.get(f"{back.path}?{back.query}")


def sign_in(client, url: str = START):
    return round_trip(client, client.get(url))


def test_the_dialog_is_asked_for_email_and_profile_with_a_state(client, facebook_stub):
    location = client.get(START).headers["Location"]
    assert location.startswith(f"{facebook_stub.url}/dialog/oauth?")
    asked = query(location)
    assert asked["client_id"] == APP_ID and asked["response_type"] == "code"
    assert asked["scope"].split() == ["email", "public_profile"] and len(asked["state"]) >= 20
    assert asked["redirect_uri"] == "http://localhost/auth/oauth/facebook/callback"


def test_a_new_person_signs_up_with_facebook_and_their_token_is_checked_first(client, facebook_stub):
    response = sign_in(client, f"{START}?next=/trips")
    assert response.status_code == 302 and response.headers["Location"] == "/trips"
    user = db.session.scalar(select(User).where(User.email == DEFAULT_PERSON["email"]))
    assert (user.name, user.role, user.password_hash) == ("Grace Hopper", "guest", None)
    assert user.avatar_key is not None
    paths = [path for path, _params in facebook_stub.requests]
    assert paths[:4] == ["/dialog/oauth", "/oauth/access_token", "/debug_token", "/me"]
    exchange = facebook_stub.requests[1][1]
    assert exchange["client_id"] == APP_ID and exchange["client_secret"]  # the secret went in the request
    assert "Welcome to Abode, Grace Hopper!" in text_of(client.get("/trips"))


def test_facebooks_email_never_links_a_password_account_by_itself(client):
    make_user(email=DEFAULT_PERSON["email"])
    response = sign_in(client)
    assert response.headers["Location"].startswith("/login?next=")
    assert "Sign in with your password, then link Facebook from your profile." in text_of(
        client.get(response.headers["Location"]))
    assert db.session.scalar(select(OAuthIdentity)) is None


def test_linked_from_the_profile_facebook_then_opens_the_password_account(client, login, app):
    user = make_user(email=DEFAULT_PERSON["email"])
    login(client, user)
    linking = submit(client, "/profile/sign-in-methods/facebook/link", {}, form_url="/profile")
    assert round_trip(client, linking).headers["Location"] == "/profile#sign-in-methods"
    assert "Facebook is linked" in text_of(client.get("/profile"))
    row = db.session.scalar(select(OAuthIdentity))
    assert (row.user_id, row.provider, row.subject) == (user.id, "facebook", DEFAULT_PERSON["id"])


def test_cancelling_the_dialog_ends_on_the_login_page(client, facebook_stub):
    facebook_stub.deny_next = True
    response = sign_in(client)
    assert response.headers["Location"] == "/login"
    assert "You cancelled signing in with Facebook." in text_of(client.get("/login"))


def test_a_replayed_facebook_callback_is_refused(client):
    start = client.get(START)
    answer = requests.get(start.headers["Location"], allow_redirects=False, timeout=10)
    back = urlsplit(answer.headers["Location"])
    callback = f"{back.path}?{back.query}"
    first = client.get(callback)
    assert first.status_code == 302 and first.headers["Location"] == "/"
    assert client.get("/profile").status_code == 200  # signed in by the first callback
    submit(client, "/logout", {}, form_url="/profile")
    replay = client.get(callback)
    assert replay.status_code == 400 and "expired or was already used" in text_of(replay)


def test_a_token_facebook_says_is_not_valid_ends_on_a_clear_page(client, facebook_stub, monkeypatch):
    # The dialog hands out a code, but by the time the app checks the token Facebook has revoked it.
    original = facebook_stub._access_token

    def exchange_then_revoke(params):
        response = original(params)
        token = response.get_json()["access_token"]
        facebook_stub.revoke(token)
        return response

    monkeypatch.setattr(facebook_stub, "_access_token", exchange_then_revoke)
    response = sign_in(client)
    assert response.status_code == 502 and "Facebook could not confirm who you are" in text_of(response)
    assert db.session.scalar(select(User)) is None


def test_facebook_without_credentials_is_hidden_and_404(make_app):
    bare = make_app(FACEBOOK_CLIENT_ID=None).test_client()
    assert "Continue with Facebook" not in text_of(bare.get("/login"))
    assert bare.get(START).status_code == 404
