"""The local providers speak their protocols: an OpenID Connect client (Authlib's) signs in through the OIDC
provider, and the Facebook stub answers the dialog, token, `me` and `debug_token` as Facebook does."""

from __future__ import annotations

import secrets
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from authlib.integrations.requests_client import OAuth2Session
from authlib.oauth2.rfc7636 import create_s256_code_challenge
from joserfc import jwt
from joserfc.errors import BadSignatureError, InvalidKeyIdError
from joserfc.jwk import KeySet

from tests.support import facebook_stub as fb
from tests.support import oidc_provider as oidc

REDIRECT = "http://127.0.0.1:9/callback"


def _query(location: str) -> dict:
    return {name: values[0] for name, values in parse_qs(urlsplit(location).query).items()}


def _authorize(provider, client: OAuth2Session, verifier: str, nonce: str) -> tuple[str, str]:
    meta = requests.get(f"{provider.url}/.well-known/openid-configuration", timeout=5).json()
    uri, state = client.create_authorization_url(meta["authorization_endpoint"], code_verifier=verifier, nonce=nonce)
    answer = requests.get(uri, allow_redirects=False, timeout=5)
    assert answer.status_code == 302
    return answer.headers["Location"], state


def test_oidc_provider_discovery_issuer_is_its_base_url(oidc_provider):
    meta = requests.get(f"{oidc_provider.url}/.well-known/openid-configuration", timeout=5).json()
    assert meta["issuer"] == oidc_provider.url
    assert meta["jwks_uri"] == f"{oidc_provider.url}/jwks"
    assert meta["code_challenge_methods_supported"] == ["S256"]


def test_oidc_provider_code_flow_with_pkce_and_nonce_signs_in(oidc_provider):
    client = OAuth2Session(oidc.CLIENT_ID, oidc.CLIENT_SECRET, scope="openid email profile", redirect_uri=REDIRECT,
                           code_challenge_method="S256")
    verifier, nonce = secrets.token_urlsafe(48), secrets.token_urlsafe(16)
    location, state = _authorize(oidc_provider, client, verifier, nonce)
    assert _query(location)["state"] == state
    token = client.fetch_token(f"{oidc_provider.url}/token", authorization_response=location, code_verifier=verifier)
    keys = KeySet.import_key_set(requests.get(f"{oidc_provider.url}/jwks", timeout=5).json())
    claims = jwt.decode(token["id_token"], keys, algorithms=["RS256"]).claims
    assert claims["nonce"] == nonce and claims["aud"] == oidc.CLIENT_ID and claims["iss"] == oidc_provider.url
    info = requests.get(f"{oidc_provider.url}/userinfo", timeout=5,
                        headers={"Authorization": f"Bearer {token['access_token']}"}).json()
    assert info["sub"] == oidc.DEFAULT_PERSON["sub"] and info["email_verified"] is True


def test_oidc_provider_token_endpoint_refuses_wrong_verifier_secret_and_replayed_code(oidc_provider):
    client = OAuth2Session(oidc.CLIENT_ID, oidc.CLIENT_SECRET, scope="openid", redirect_uri=REDIRECT,
                           code_challenge_method="S256")
    verifier = secrets.token_urlsafe(48)
    location, _state = _authorize(oidc_provider, client, verifier, "n")
    code = _query(location)["code"]
    form = {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT, "code_verifier": verifier}
    wrong_secret = requests.post(f"{oidc_provider.url}/token", data=form, auth=(oidc.CLIENT_ID, "nope"), timeout=5)
    assert wrong_secret.status_code == 401
    wrong = requests.post(f"{oidc_provider.url}/token", data={**form, "code_verifier": "x" * 43},
                          auth=(oidc.CLIENT_ID, oidc.CLIENT_SECRET), timeout=5)
    assert wrong.json()["error"] == "invalid_grant"
    # The failed attempt used the code up, as a code works once whatever happens.
    again = requests.post(f"{oidc_provider.url}/token", data=form, auth=(oidc.CLIENT_ID, oidc.CLIENT_SECRET),
                          timeout=5)
    assert again.status_code == 400


def test_oidc_provider_authorize_requires_pkce_and_reports_denial(oidc_provider):
    base = f"{oidc_provider.url}/authorize"
    params = {"client_id": oidc.CLIENT_ID, "redirect_uri": REDIRECT, "response_type": "code", "scope": "openid",
              "state": "s1"}
    plain = requests.get(base, params=params, allow_redirects=False, timeout=5)
    assert _query(plain.headers["Location"])["error"] == "invalid_request"
    oidc_provider.deny_next = True
    denied = requests.get(base, params={**params, "code_challenge": create_s256_code_challenge("v" * 43),
                                        "code_challenge_method": "S256"}, allow_redirects=False, timeout=5)
    assert _query(denied.headers["Location"]) == {"state": "s1", "error": "access_denied",
                                                  "error_description": "The user denied access."}


def test_oidc_provider_rotation_publishes_the_new_key_and_drops_the_old(oidc_provider):
    old = oidc_provider.keys[-1].kid
    new = oidc_provider.rotate().kid
    kids = [key["kid"] for key in requests.get(f"{oidc_provider.url}/jwks", timeout=5).json()["keys"]]
    assert kids == [new] and old != new


@pytest.mark.parametrize("signed_by", ["unknown", "forged"])
def test_oidc_provider_minted_tokens_fail_against_the_published_keys(oidc_provider, signed_by):
    keys = KeySet.import_key_set(requests.get(f"{oidc_provider.url}/jwks", timeout=5).json())
    assert jwt.decode(oidc_provider.id_token(), keys, algorithms=["RS256"]).claims["sub"]
    with pytest.raises(InvalidKeyIdError if signed_by == "unknown" else BadSignatureError):
        jwt.decode(oidc_provider.id_token(signed_by=signed_by), keys, algorithms=["RS256"])


def test_facebook_stub_dialog_token_and_me(facebook_stub):
    dialog = requests.get(f"{facebook_stub.url}/dialog/oauth", allow_redirects=False, timeout=5,
                          params={"client_id": fb.APP_ID, "redirect_uri": REDIRECT, "state": "s"})
    code = _query(dialog.headers["Location"])["code"]
    token = requests.get(f"{facebook_stub.url}/oauth/access_token", timeout=5, params={
        "client_id": fb.APP_ID, "client_secret": fb.APP_SECRET, "redirect_uri": REDIRECT, "code": code}).json()
    me = requests.get(f"{facebook_stub.url}/me", timeout=5, params={
        "fields": "id,name,email,picture", "access_token": token["access_token"]}).json()
    assert me["id"] == fb.DEFAULT_PERSON["id"] and me["email"] == fb.DEFAULT_PERSON["email"]
    assert me["picture"]["data"]["url"].endswith(".jpg")
    replay = requests.get(f"{facebook_stub.url}/oauth/access_token", timeout=5, params={
        "client_id": fb.APP_ID, "client_secret": fb.APP_SECRET, "redirect_uri": REDIRECT, "code": code})
    assert replay.status_code == 400 and replay.json()["error"]["type"] == "OAuthException"


def test_facebook_stub_debug_token_names_the_app_and_validity(facebook_stub):
    def debug(token: str, app: str = f"{fb.APP_ID}|{fb.APP_SECRET}") -> requests.Response:
        return requests.get(f"{facebook_stub.url}/debug_token", timeout=5,
                            params={"input_token": token, "access_token": app})

    ours = debug(facebook_stub.issue_token()).json()["data"]
    assert ours["app_id"] == fb.APP_ID and ours["is_valid"] is True and ours["user_id"] == fb.DEFAULT_PERSON["id"]
    assert debug(facebook_stub.issue_token(app_id=fb.OTHER_APP_ID)).json()["data"]["app_id"] == fb.OTHER_APP_ID
    assert debug(facebook_stub.issue_token(expires_in=-10)).json()["data"]["is_valid"] is False
    assert debug("garbage").json()["data"]["is_valid"] is False
    assert debug("garbage", app=f"{fb.APP_ID}|wrong").status_code == 400
