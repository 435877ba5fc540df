"""Mobile sign-in with Facebook (POST /api/v1/auth/oauth/facebook) against the local Facebook: the token must be a
valid user token of this app before `me` is read; Facebook's email never links an existing account by itself."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import OAuthIdentity, User

from ..support.facebook_stub import APP_SECRET, DEFAULT_PERSON, OTHER_APP_ID, FacebookStub
from ..support.factories import make_user
from .test_api import assert_error

URL = "/api/v1/auth/oauth/facebook"


@pytest.fixture
def app(make_app, facebook_stub: FacebookStub):
    return make_app(**facebook_stub.settings())


def sign_in(client, token: str):
    return client.post(URL, json={"access_token": token})


def test_facebook_first_sign_in_creates_a_guest(client, facebook_stub):
    response = sign_in(client, facebook_stub.issue_token())
    assert response.status_code == 201, response.get_json()
    user = response.get_json()["user"]
    assert (user["email"], user["name"], user["role"]) == (DEFAULT_PERSON["email"], "Grace Hopper", "guest")
    headers = {"Authorization": f"Bearer {response.get_json()['access_token']}"}
    assert client.get("/api/v1/profile", headers=headers).status_code == 200
    row = db.session.scalar(select(OAuthIdentity))
    assert (row.user_id, row.provider, row.subject) == (user["id"], "facebook", DEFAULT_PERSON["id"])
    # The app asked Graph with its app token, and read `me` with an appsecret_proof the stub checked.
    paths = [path for path, _params in facebook_stub.requests]
    assert paths == ["/debug_token", "/me", f"/pictures/{DEFAULT_PERSON['id']}.jpg"]
    assert facebook_stub.requests[1][1]["appsecret_proof"]
    # The profile picture Facebook gave became the account's photo, stored like an upload.
    assert user["avatar_url"] is not None
    assert client.get(user["avatar_url"]).status_code == 200


def test_facebook_returning_person_is_found_by_id(client, facebook_stub):
    first = sign_in(client, facebook_stub.issue_token()).get_json()["user"]
    renamed = {**DEFAULT_PERSON, "name": "Rear Admiral Hopper", "email": "grace.h@fb.example"}
    again = sign_in(client, facebook_stub.issue_token(renamed))
    assert again.status_code == 200 and again.get_json()["user"]["id"] == first["id"]


def test_facebook_email_of_an_existing_account_is_not_trusted_for_linking(client, facebook_stub):
    make_user(email=DEFAULT_PERSON["email"])
    error = assert_error(sign_in(client, facebook_stub.issue_token()), 409, "email_taken")
    assert "link Facebook from your profile" in error["message"]
    assert db.session.scalar(select(OAuthIdentity)) is None


def test_facebook_without_an_email_cannot_create_an_account(client, facebook_stub):
    token = facebook_stub.issue_token({"id": "10158000000000002", "name": "No Mail"})
    assert_error(sign_in(client, token), 422, "email_required")
    assert db.session.scalar(select(db.func.count()).select_from(User)) == 0


def test_facebook_suspended_account_is_refused(client, facebook_stub):
    user_id = sign_in(client, facebook_stub.issue_token()).get_json()["user"]["id"]
    db.session.get(User, user_id).is_active = False
    db.session.commit()
    assert_error(sign_in(client, facebook_stub.issue_token()), 403, "account_suspended")


def test_facebook_token_of_another_app_is_401(client, facebook_stub):
    assert_error(sign_in(client, facebook_stub.issue_token(app_id=OTHER_APP_ID)), 401, "invalid_credentials")
    assert [path for path, _ in facebook_stub.requests] == ["/debug_token"]  # `me` is never read with it


def test_facebook_invalid_expired_or_revoked_token_is_401(client, facebook_stub):
    revoked = facebook_stub.issue_token()
    facebook_stub.revoke(revoked)
    for token in ("EAAnot-a-token", facebook_stub.issue_token(expires_in=-60), revoked):
        assert_error(sign_in(client, token), 401, "invalid_credentials")
    assert db.session.scalar(select(OAuthIdentity)) is None


@pytest.mark.parametrize("body", [{}, {"access_token": ""}, {"access_token": ["x"]}])
def test_facebook_bad_body_is_422(client, body):
    assert_error(client.post(URL, json=body), 422, "validation_error")


def test_facebook_not_configured_is_404(make_app, facebook_stub):
    settings = facebook_stub.settings()
    del settings["FACEBOOK_CLIENT_SECRET"]
    client = make_app(**settings).test_client()
    assert_error(sign_in(client, facebook_stub.issue_token()), 404, "not_found")
    assert facebook_stub.requests == []


def test_facebook_wrong_app_secret_is_503_not_a_refused_person(make_app, facebook_stub):
    client = make_app(**facebook_stub.settings(FACEBOOK_CLIENT_SECRET=APP_SECRET + "-old")).test_client()
    assert_error(sign_in(client, facebook_stub.issue_token()), 503, "service_unavailable")


def test_facebook_unreachable_graph_is_503(make_app, facebook_stub):
    client = make_app(**facebook_stub.settings(OAUTH_FACEBOOK_API_BASE="http://127.0.0.1:9")).test_client()
    assert_error(sign_in(client, facebook_stub.issue_token()), 503, "service_unavailable")
