"""Who a token from a mobile app belongs to, as its provider says: Google ID tokens (OpenID Connect, checked against
the keys the discovery document publishes) and Facebook access tokens (the Graph API's token debugging, then `me`).

Both return a ProviderIdentity for the account rules (oauth_accounts.py) and raise Unauthorized(invalid_credentials)
for a token that fails any check, ProviderUnavailable (503) when the provider does not answer sensibly.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import logging
import threading
import time
from dataclasses import dataclass

import requests
from flask import current_app
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

from ...errors import NotFoundError, ServiceUnavailable, Unauthorized

logger = logging.getLogger(__name__)

PROVIDERS = {"google": "Google", "facebook": "Facebook"}  # name in URLs and rows -> name people know
TIMEOUT = (3.05, 10)  # seconds to connect, to read: a provider that hangs must not hold a worker for long
CACHE_SECONDS = 3600  # discovery documents and key sets; an unknown key id refetches the key set at once
# ... but not twice within this many seconds: tokens with made-up key ids must not turn into a stream of requests to
# Google. Google publishes a key before it signs with it, so a refetch this recent already holds a new key.
REFETCH_MIN_SECONDS = 5
PICTURE_TIMEOUT = (2, 5)  # seconds to connect, and between bytes, for a person's picture at sign-up
PICTURE_DEADLINE = 8  # seconds for the whole picture
CLOCK_SKEW_SECONDS = 60  # exp and iat are checked with this much leeway between Google's clock and ours
GOOGLE_BARE_ISSUER = "accounts.google.com"  # Google signs some ID tokens with its issuer without the scheme


@dataclass(frozen=True)
class ProviderIdentity:
    """A person as a provider vouches for them: `subject` is its stable id; `email_verified` says whether the
    provider vouches that the person owns `email`."""

    provider: str
    subject: str
    email: str | None
    email_verified: bool
    name: str
    picture: str | None = None


class ProviderUnavailable(ServiceUnavailable):
    """503: the provider did not answer, or answered something that is not its protocol."""

    def __init__(self, provider: str) -> None:
        super().__init__(f"{PROVIDERS[provider]} sign-in is not available right now; try again in a few minutes.",
                         headers={"Retry-After": "60"})


def invalid_token(provider: str, reason: str) -> Unauthorized:
    """The 401 of every refused token; the reason is logged, not shown (it would help a forger)."""
    logger.warning("%s token refused: %s", provider, reason)
    return Unauthorized(f"The {PROVIDERS[provider]} sign-in could not be verified; sign in again.",
                        code="invalid_credentials")


def is_configured(provider: str) -> bool:
    """True when the provider's client id and secret are both set (otherwise it is hidden and its routes 404)."""
    prefix = provider.upper()
    config = current_app.config
    return provider in PROVIDERS and bool(config.get(f"{prefix}_CLIENT_ID")) and bool(
        config.get(f"{prefix}_CLIENT_SECRET"))


def configured_providers() -> list[tuple[str, str]]:
    """(name, label) of the providers that have credentials: the only ones offered."""
    return [(name, label) for name, label in PROVIDERS.items() if is_configured(name)]


def ensure_configured(provider: str) -> None:
    """Raise NotFoundError (404) unless the provider has credentials."""
    if not is_configured(provider):
        raise NotFoundError(f"Sign-in with {PROVIDERS.get(provider, provider)} is not offered here.")


def _get_json(provider: str, url: str, params: dict | None = None) -> tuple[int, object]:
    """GET `url` and return (status, JSON body). Raises ProviderUnavailable for no answer, a 5xx or non-JSON."""
    try:
        response = requests.get(url, params=params, timeout=TIMEOUT)
    except requests.RequestException as exc:
        logger.warning("%s unreachable: %s", provider, type(exc).__name__)
        raise ProviderUnavailable(provider) from None
    if response.status_code >= 500:
        logger.warning("%s answered %s", provider, response.status_code)
        raise ProviderUnavailable(provider)
    try:
        return response.status_code, response.json()
    except ValueError:
        logger.warning("%s answered %s without JSON", provider, response.status_code)
        raise ProviderUnavailable(provider) from None


class _Cache:
    """Documents fetched from providers, per URL, for CACHE_SECONDS (shared by the threads of a process)."""

    def __init__(self) -> None:
        self._items: dict[str, tuple[float, object]] = {}
        self._lock = threading.Lock()

    def get(self, url: str, fetch, *, refresh: bool = False):
        with self._lock:
            hit = self._items.get(url)
        age = time.monotonic() - hit[0] if hit else None
        if age is not None and age < (REFETCH_MIN_SECONDS if refresh else CACHE_SECONDS):
            return hit[1]
        value = fetch()
        with self._lock:
            self._items[url] = (time.monotonic(), value)
        return value

    def clear(self) -> None:
        with self._lock:
            self._items.clear()


documents = _Cache()


def google_metadata() -> dict:
    """Google's OpenID Connect discovery document (OAUTH_GOOGLE_METADATA_URL), cached. Raises ProviderUnavailable."""
    url = current_app.config["OAUTH_GOOGLE_METADATA_URL"]

    def fetch() -> dict:
        status, body = _get_json("google", url)
        if status != 200 or not isinstance(body, dict) or not all(isinstance(body.get(name), str) for name in (
                "issuer", "jwks_uri", "authorization_endpoint", "token_endpoint")):
            logger.warning("google discovery document unusable (status %s)", status)
            raise ProviderUnavailable("google")
        return body

    return documents.get(url, fetch)


def _google_keys(jwks_uri: str, *, refresh: bool = False) -> KeySet:
    def fetch() -> KeySet:
        status, body = _get_json("google", jwks_uri)
        try:
            if status != 200 or not isinstance(body, dict):
                raise ValueError(status)
            return KeySet.import_key_set(body)
        except (JoseError, ValueError, KeyError, TypeError):
            logger.warning("google key set unusable (status %s)", status)
            raise ProviderUnavailable("google") from None

    return documents.get(jwks_uri, fetch, refresh=refresh)


def _token_header(token: str) -> dict:
    """The JOSE header of a compact JWS, unverified (to pick the key); {} when it is not one."""
    parts = token.split(".")
    if len(parts) != 3:
        return {}
    try:
        header = json.loads(base64.urlsafe_b64decode(parts[0] + "=" * (-len(parts[0]) % 4)))
    except (ValueError, binascii.Error):
        return {}
    return header if isinstance(header, dict) else {}


def _google_key(kid: str, jwks_uri: str):
    """The published key with this id; the key set is refetched once when it has none (Google rotated its keys)."""
    for refresh in (False, True):
        keys = _google_keys(jwks_uri, refresh=refresh)
        for key in keys:
            if key.kid == kid:
                return key
    return None


def verify_google_id_token(id_token: str, *, browser_nonce: str | None = None) -> ProviderIdentity:
    """Check a Google ID token's signature (RS256, a key of the discovery document's jwks_uri), issuer (the
    document's), audience (GOOGLE_CLIENT_ID or one of GOOGLE_MOBILE_CLIENT_IDS), exp and iat, and return whom it
    names. With `browser_nonce` (the browser flow's), the token must carry that nonce and be the web client's own
    (audience GOOGLE_CLIENT_ID only). Raises Unauthorized(invalid_credentials), ProviderUnavailable."""
    config = current_app.config
    header = _token_header(id_token)
    if header.get("alg") != "RS256" or not isinstance(header.get("kid"), str):
        raise invalid_token("google", f"not an RS256 JWS with a key id (alg {header.get('alg')!r})")
    metadata = google_metadata()
    key = _google_key(header["kid"], metadata["jwks_uri"])
    if key is None:
        raise invalid_token("google", "unknown key id")
    issuers = [metadata["issuer"]] + ([GOOGLE_BARE_ISSUER] if metadata["issuer"] == "https://accounts.google.com"
                                      else [])
    audiences = [config["GOOGLE_CLIENT_ID"]]
    if browser_nonce is None:
        audiences += config["GOOGLE_MOBILE_CLIENT_IDS"]
    try:
        claims = jwt.decode(id_token, key, algorithms=["RS256"]).claims
        jwt.JWTClaimsRegistry(
            leeway=CLOCK_SKEW_SECONDS, iss={"essential": True, "values": issuers},
            aud={"essential": True, "values": audiences}, sub={"essential": True}, exp={"essential": True},
            iat={"essential": True}).validate(claims)
    except (JoseError, ValueError, TypeError) as exc:
        raise invalid_token("google", type(exc).__name__) from None
    if browser_nonce is not None and not (isinstance(claims.get("nonce"), str) and hmac.compare_digest(
            claims["nonce"], browser_nonce)):
        raise invalid_token("google", "the nonce is not this sign-in's")
    return _google_identity(claims)


def _google_identity(claims: dict) -> ProviderIdentity:
    email = _text(claims.get("email"))
    verified = claims.get("email_verified") in (True, "true")  # Google sent it as a string in older tokens
    return ProviderIdentity("google", str(claims["sub"]), email, verified and email is not None,
                            str(claims.get("name") or ""), _text(claims.get("picture")))


def _text(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


def _graph_url(path: str) -> str:
    return current_app.config["OAUTH_FACEBOOK_API_BASE"].rstrip("/") + "/" + path


def verify_facebook_token(access_token: str) -> ProviderIdentity:
    """Ask the Graph API whether `access_token` is a valid user token of this app (debug_token: app_id, is_valid,
    expires_at), then read `me` with it. Facebook's email is not taken as vouched for (see the README).
    Raises Unauthorized(invalid_credentials), ProviderUnavailable."""
    config = current_app.config
    app_id, secret = config["FACEBOOK_CLIENT_ID"], config["FACEBOOK_CLIENT_SECRET"]
    status, body = _get_json("facebook", _graph_url("debug_token"),
                             {"input_token": access_token, "access_token": f"{app_id}|{secret}"})
    data = body.get("data") if isinstance(body, dict) else None
    if status != 200 or not isinstance(data, dict):
        # debug_token answers 200 with data.is_valid false for a bad user token; an error here is our app's.
        logger.error("facebook debug_token refused the app credentials (status %s)", status)
        raise ProviderUnavailable("facebook")
    if str(data.get("app_id")) != str(app_id):
        raise invalid_token("facebook", "token of another app")
    if data.get("is_valid") is not True or not data.get("user_id"):
        raise invalid_token("facebook", "not a valid user token")
    expires_at = data.get("expires_at")
    if isinstance(expires_at, int) and 0 < expires_at < time.time():  # 0: a token that does not expire
        raise invalid_token("facebook", "expired")
    proof = hmac.new(secret.encode(), access_token.encode(), hashlib.sha256).hexdigest()
    status, me = _get_json("facebook", _graph_url("me"), {"fields": "id,name,email,picture",
                                                         "access_token": access_token, "appsecret_proof": proof})
    if status != 200 or not isinstance(me, dict) or str(me.get("id")) != str(data["user_id"]):
        raise invalid_token("facebook", f"me refused the token or named someone else (status {status})")
    picture = me.get("picture")
    picture_data = picture.get("data") if isinstance(picture, dict) else None
    return ProviderIdentity("facebook", str(me["id"]), _text(me.get("email")), False, str(me.get("name") or ""),
                            _text(picture_data.get("url")) if isinstance(picture_data, dict) else None)


def fetch_picture(url: str, max_bytes: int) -> bytes | None:
    """The bytes of a person's picture at the provider (http or https, no redirects, at most `max_bytes`, all of it
    within PICTURE_DEADLINE seconds), or None when any of that fails: a picture is never worth a failed sign-in."""
    if not isinstance(url, str) or not url.startswith(("https://", "http://")):
        return None
    deadline = time.monotonic() + PICTURE_DEADLINE
    try:
        with requests.get(url, timeout=PICTURE_TIMEOUT, stream=True, allow_redirects=False) as response:
            if response.status_code != 200:
                logger.info("picture not fetched: the provider answered %s", response.status_code)
                return None
            data = bytearray()
            for chunk in response.iter_content(64 * 1024):
                data += chunk
                if len(data) > max_bytes or time.monotonic() > deadline:
                    logger.info("picture not fetched: over %s bytes or %s s", max_bytes, PICTURE_DEADLINE)
                    return None
            return bytes(data)
    except Exception as exc:  # noqa: BLE001  (requests' and urllib3's errors alike: no picture, nothing else)
        logger.info("picture not fetched: %s", type(exc).__name__)
        return None
