"""Mobile sign-in with Google (POST /api/v1/auth/oauth/google) against the local OpenID Connect provider: who gets
in, who is linked, and every refusal of a token (forged, unknown key, rotated key, audience, issuer, expiry, iat)."""

from __future__ import annotations

import base64
import json
import time

import pytest
from sqlalchemy import select

from app.blueprints.auth import oauth_providers
from app.extensions import db
from app.models import OAuthIdentity, User

from ..support.factories import DEFAULT_PASSWORD, make_user
from ..support.oidc_provider import CLIENT_ID, DEFAULT_PERSON, MOBILE_CLIENT_ID, OIDCProvider
from .test_api import assert_error

URL = "/api/v1/auth/oauth/google"


@pytest.fixture(autouse=True)
def _refetch_at_once(monkeypatch):
    """The tests rotate keys within a second; the pause between refetches is tested on its own."""
    monkeypatch.setattr(oauth_providers, "REFETCH_MIN_SECONDS", 0)


@pytest.fixture
def app(make_app, oidc_provider: OIDCProvider):
    return make_app(**oidc_provider.settings(GOOGLE_MOBILE_CLIENT_IDS=(MOBILE_CLIENT_ID,)))


def sign_in(client, token: str):
    return client.post(URL, json={"id_token": token})


def identities() -> list[tuple[int, str, str]]:
    return [(row.user_id, row.provider, row.subject) for row in db.session.scalars(select(OAuthIdentity))]


def test_google_first_sign_in_creates_a_guest_with_working_tokens(client, oidc_provider):
    response = sign_in(client, oidc_provider.id_token())
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert body["user"]["email"] == DEFAULT_PERSON["email"] and body["user"]["name"] == "Ada Lovelace"
    assert body["user"]["role"] == "guest" and body["user"]["avatar_url"] is None
    profile = client.get("/api/v1/profile", headers={"Authorization": f"Bearer {body['access_token']}"})
    assert profile.status_code == 200 and profile.get_json()["id"] == body["user"]["id"]
    assert identities() == [(body["user"]["id"], "google", DEFAULT_PERSON["sub"])]
    assert client.post("/api/v1/token/refresh",
                       headers={"Authorization": f"Bearer {body['refresh_token']}"}).status_code == 200
    # No password was set, so no password opens the account.
    assert_error(client.post("/api/v1/login", json={"email": DEFAULT_PERSON["email"], "password": "a-long-password"}),
                 401, "invalid_credentials")


def test_google_returning_person_is_found_by_subject_not_by_email_or_name(client, oidc_provider):
    first = sign_in(client, oidc_provider.id_token()).get_json()["user"]
    again = sign_in(client, oidc_provider.id_token(email="ada.new@gmail.example", name="A. King"))
    assert again.status_code == 200
    assert again.get_json()["user"]["id"] == first["id"]
    assert again.get_json()["user"]["email"] == DEFAULT_PERSON["email"]  # the account's email is not rewritten
    # Someone else with Ada's name and an address of their own is another person.
    other = sign_in(client, oidc_provider.id_token(sub="999", email="someone@gmail.example"))
    assert other.status_code == 201 and other.get_json()["user"]["id"] != first["id"]


def test_google_verified_email_links_the_existing_password_account(client, oidc_provider):
    owner = make_user(email=DEFAULT_PERSON["email"], name="Ada (password)")
    response = sign_in(client, oidc_provider.id_token())
    assert response.status_code == 200
    assert response.get_json()["user"]["id"] == owner.id
    assert identities() == [(owner.id, "google", DEFAULT_PERSON["sub"])]
    login = client.post("/api/v1/login", json={"email": owner.email, "password": DEFAULT_PASSWORD})
    assert login.status_code == 200  # the password still works


def test_google_unverified_email_meeting_an_account_is_refused_with_a_way_to_link(client, oidc_provider):
    make_user(email=DEFAULT_PERSON["email"])
    error = assert_error(sign_in(client, oidc_provider.id_token(email_verified=False)), 409, "email_taken")
    assert "password" in error["message"] and "profile" in error["message"]
    assert identities() == []
    assert db.session.scalar(select(db.func.count()).select_from(User)) == 1


def test_google_suspended_account_is_refused_like_a_password_login(client, oidc_provider):
    user_id = sign_in(client, oidc_provider.id_token()).get_json()["user"]["id"]
    db.session.get(User, user_id).is_active = False
    db.session.commit()
    assert_error(sign_in(client, oidc_provider.id_token()), 403, "account_suspended")


def test_google_suspended_password_account_is_not_linked(client, oidc_provider):
    make_user(email=DEFAULT_PERSON["email"], is_active=False)
    assert_error(sign_in(client, oidc_provider.id_token()), 403, "account_suspended")
    assert identities() == []


def test_google_mobile_client_audience_is_accepted(client, oidc_provider):
    assert sign_in(client, oidc_provider.id_token(audience=MOBILE_CLIENT_ID)).status_code == 201


def test_google_mobile_audience_without_the_setting_is_refused(make_app, oidc_provider):
    client = make_app(**oidc_provider.settings()).test_client()
    assert_error(sign_in(client, oidc_provider.id_token(audience=MOBILE_CLIENT_ID)), 401, "invalid_credentials")


@pytest.mark.parametrize("claims", [
    pytest.param({"audience": "someone-elses-app.example"}, id="wrong-audience"),
    pytest.param({"audience": ["someone-elses-app.example", "another.example"]}, id="wrong-audience-list"),
    pytest.param({"iss": "https://accounts.evil.example"}, id="wrong-issuer"),
    pytest.param({"exp": int(time.time()) - 3600, "iat": int(time.time()) - 7200}, id="expired"),
    pytest.param({"iat": int(time.time()) + 3600, "exp": int(time.time()) + 7200}, id="issued-in-the-future"),
    pytest.param({"exp": None}, id="no-expiry"),
    pytest.param({"sub": None}, id="no-subject"),
    pytest.param({"signed_by": "forged"}, id="forged-signature"),
])
def test_google_token_failing_a_check_is_401_and_signs_no_one_in(client, oidc_provider, claims):
    assert_error(sign_in(client, oidc_provider.id_token(**claims)), 401, "invalid_credentials")
    assert identities() == []


def _segment(value: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=").decode()


def test_google_garbage_and_unsigned_tokens_are_401(client, oidc_provider):
    signed = oidc_provider.id_token()
    claims = signed.split(".")[1]
    kid = oidc_provider.keys[-1].kid
    unsigned = f"{_segment({'alg': 'none', 'kid': kid})}.{claims}."
    symmetric = f"{_segment({'alg': 'HS256', 'kid': kid})}.{claims}.{signed.split('.')[2]}"
    for token in ("not-a-jwt", "a.b.c", "e30.e30.e30", unsigned, symmetric, signed + "x"):
        assert_error(sign_in(client, token), 401, "invalid_credentials")


def test_google_unknown_key_id_refetches_the_keys_once_then_refuses(client, oidc_provider):
    assert sign_in(client, oidc_provider.id_token()).status_code == 201
    assert oidc_provider.hits("/jwks") == 1
    assert_error(sign_in(client, oidc_provider.id_token(signed_by="unknown")), 401, "invalid_credentials")
    assert oidc_provider.hits("/jwks") == 2


def test_google_rotated_key_is_accepted_after_one_refetch(client, oidc_provider):
    assert sign_in(client, oidc_provider.id_token()).status_code == 201
    old_token = oidc_provider.id_token()
    oidc_provider.rotate()
    assert sign_in(client, oidc_provider.id_token()).status_code == 200
    assert oidc_provider.hits("/jwks") == 2
    assert sign_in(client, oidc_provider.id_token()).status_code == 200  # from the cache again
    assert oidc_provider.hits("/jwks") == 2
    assert oidc_provider.hits("/.well-known/openid-configuration") == 1
    # The dropped key no longer vouches for anything.
    assert_error(sign_in(client, old_token), 401, "invalid_credentials")


def test_google_unknown_key_ids_refetch_the_keys_at_most_once_per_pause(client, oidc_provider, monkeypatch):
    monkeypatch.setattr(oauth_providers, "REFETCH_MIN_SECONDS", 300)
    assert sign_in(client, oidc_provider.id_token()).status_code == 201
    for _ in range(3):
        assert_error(sign_in(client, oidc_provider.id_token(signed_by="unknown")), 401, "invalid_credentials")
    assert oidc_provider.hits("/jwks") == 1  # the keys fetched a moment ago are the keys
    monkeypatch.setattr(oauth_providers, "REFETCH_MIN_SECONDS", 0)
    oidc_provider.rotate()
    assert sign_in(client, oidc_provider.id_token()).status_code == 200
    assert oidc_provider.hits("/jwks") == 2


@pytest.mark.parametrize("body", [{}, {"id_token": ""}, {"id_token": 42}, {"access_token": "x"}])
def test_google_bad_body_is_422(client, body):
    assert_error(client.post(URL, json=body), 422, "validation_error")


def test_google_not_configured_is_404(make_app, oidc_provider):
    client = make_app(OAUTH_GOOGLE_METADATA_URL=oidc_provider.settings()["OAUTH_GOOGLE_METADATA_URL"]).test_client()
    assert_error(sign_in(client, oidc_provider.id_token()), 404, "not_found")


def test_google_unreachable_provider_is_503(make_app, oidc_provider):
    settings = oidc_provider.settings()
    settings["OAUTH_GOOGLE_METADATA_URL"] = "http://127.0.0.1:9/.well-known/openid-configuration"
    client = make_app(**settings).test_client()
    response = sign_in(client, oidc_provider.id_token())
    assert_error(response, 503, "service_unavailable")
    assert response.headers["Retry-After"] == "60"


def test_google_refused_tokens_count_against_the_address_like_failed_logins(make_app, oidc_provider):
    client = make_app(**oidc_provider.settings(), RATELIMIT_ENABLED=True,
                      LOGIN_ADDRESS_FAILURE_LIMIT="2 per minute").test_client()
    for _ in range(2):
        assert sign_in(client, oidc_provider.id_token(signed_by="forged")).status_code == 401
    assert_error(sign_in(client, oidc_provider.id_token()), 429, "rate_limited")


def test_google_sign_in_is_in_the_openapi_document(client):
    paths = client.get("/api/openapi.json").get_json()["paths"]
    assert "post" in paths["/api/v1/auth/oauth/google"] and "post" in paths["/api/v1/auth/oauth/facebook"]


def test_google_audience_list_holding_the_web_client_is_accepted(client, oidc_provider):
    assert sign_in(client, oidc_provider.id_token(audience=[CLIENT_ID, "other.example"])).status_code == 201
