"""Linked sign-in providers over the API: GET /api/v1/profile/identities, POST .../google|facebook with the mobile
SDK's token, DELETE .../{provider}; never the account's last way to sign in."""

from __future__ import annotations

import pytest

from app.extensions import db

from ..support.facebook_stub import FacebookStub
from ..support.factories import make_user
from ..support.oidc_provider import DEFAULT_PERSON, OIDCProvider
from .test_api import assert_error

URL = "/api/v1/profile/identities"


@pytest.fixture
def app(make_app, oidc_provider: OIDCProvider, facebook_stub: FacebookStub):
    return make_app(**oidc_provider.settings(), **facebook_stub.settings())


def test_a_password_account_links_google_and_facebook_then_signs_in_with_each(client, auth_headers, oidc_provider,
                                                                               facebook_stub):
    user = make_user(email="grace.work@example.com")
    headers = auth_headers(user)
    assert client.get(URL, headers=headers).get_json() == []
    linked = client.post(f"{URL}/google", json={"id_token": oidc_provider.id_token()}, headers=headers)
    assert linked.status_code == 201, linked.get_json()
    assert linked.get_json()["provider"] == "google" and linked.get_json()["email"] == DEFAULT_PERSON["email"]
    again = client.post(f"{URL}/google", json={"id_token": oidc_provider.id_token()}, headers=headers)
    assert again.status_code == 200  # linking the same account twice changes nothing
    fb = client.post(f"{URL}/facebook", json={"access_token": facebook_stub.issue_token()}, headers=headers)
    assert fb.status_code == 201, fb.get_json()
    listed = client.get(URL, headers=headers).get_json()
    assert [row["provider"] for row in listed] == ["google", "facebook"] and all(row["linked_at"] for row in listed)
    google = client.post("/api/v1/auth/oauth/google", json={"id_token": oidc_provider.id_token()})
    facebook = client.post("/api/v1/auth/oauth/facebook", json={"access_token": facebook_stub.issue_token()})
    assert google.status_code == 200 and google.get_json()["user"]["id"] == user.id
    assert facebook.status_code == 200 and facebook.get_json()["user"]["id"] == user.id


def test_a_token_that_does_not_verify_links_nothing(client, auth_headers, oidc_provider):
    headers = auth_headers(make_user())
    assert_error(client.post(f"{URL}/google", json={"id_token": oidc_provider.id_token(signed_by="forged")},
                             headers=headers), 401, "invalid_credentials")
    assert_error(client.post(f"{URL}/google", json={"access_token": "x"}, headers=headers), 422, "validation_error")
    assert client.get(URL, headers=headers).get_json() == []


def test_a_provider_account_of_someone_else_or_a_second_one_is_409(client, auth_headers, oidc_provider):
    owner = client.post("/api/v1/auth/oauth/google", json={"id_token": oidc_provider.id_token()})
    assert owner.status_code == 201
    headers = auth_headers(make_user())
    assert_error(client.post(f"{URL}/google", json={"id_token": oidc_provider.id_token()}, headers=headers),
                 409, "identity_taken")
    mine = oidc_provider.id_token(sub="222", email="me@gmail.example")
    assert client.post(f"{URL}/google", json={"id_token": mine}, headers=headers).status_code == 201
    another = oidc_provider.id_token(sub="333", email="me2@gmail.example")
    assert_error(client.post(f"{URL}/google", json={"id_token": another}, headers=headers), 409, "identity_taken")


def test_unlinking_keeps_the_last_way_in(client, auth_headers, oidc_provider, facebook_stub):
    created = client.post("/api/v1/auth/oauth/google", json={"id_token": oidc_provider.id_token()}).get_json()
    headers = {"Authorization": f"Bearer {created['access_token']}"}
    assert_error(client.delete(f"{URL}/google", headers=headers), 409, "last_sign_in_method")
    assert client.post(f"{URL}/facebook", json={"access_token": facebook_stub.issue_token()},
                       headers=headers).status_code == 201
    assert client.delete(f"{URL}/google", headers=headers).status_code == 204
    assert [row["provider"] for row in client.get(URL, headers=headers).get_json()] == ["facebook"]
    assert_error(client.delete(f"{URL}/google", headers=headers), 404, "not_found")
    assert_error(client.delete(f"{URL}/facebook", headers=headers), 409, "last_sign_in_method")
    # Unlinked, Google still finds the account by its verified email and links it again: the same account.
    again = client.post("/api/v1/auth/oauth/google", json={"id_token": oidc_provider.id_token()})
    assert again.status_code == 200 and again.get_json()["user"]["id"] == created["user"]["id"]


def test_a_password_account_can_unlink_its_only_provider(client, auth_headers, oidc_provider):
    user = make_user()
    headers = auth_headers(user)
    client.post(f"{URL}/google", json={"id_token": oidc_provider.id_token()}, headers=headers)
    assert client.delete(f"{URL}/google", headers=headers).status_code == 204
    db.session.expire_all()
    assert user.oauth_identities == []


def test_identities_need_a_token_and_a_known_provider(client, auth_headers):
    assert_error(client.get(URL), 401, "unauthorized")
    headers = auth_headers(make_user())
    assert client.delete(f"{URL}/twitter", headers=headers).status_code == 404
    assert_error(client.delete(f"{URL}/google", headers=headers), 404, "not_found")  # none linked


def test_linking_a_provider_without_credentials_is_404(make_app, auth_headers):
    bare = make_app(GOOGLE_CLIENT_ID=None)
    client = bare.test_client()
    assert_error(client.post(f"{URL}/google", json={"id_token": "x"}, headers=auth_headers(make_user())),
                 404, "not_found")
