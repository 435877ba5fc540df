"""A local OpenID Connect provider that plays Google for the tests: discovery, JWKS with key rotation, the
authorization endpoint (state, nonce, PKCE S256), the token endpoint (client credentials, code verifier, one use per
code), userinfo; ID tokens are RS256 JWTs signed with joserfc.

Its issuer is its exact base URL. Levers: `person` is who signs in at /authorize next; `deny_next` makes the next
authorization answer access_denied; `token_claims` overrides claims of the ID tokens the token endpoint issues (a
wrong nonce, audience or issuer); `token_down` makes the token endpoint answer 503 without JSON; `rotate()`
publishes a new signing key and drops the old one; `id_token(...)` mints a token for mobile tests (chosen claims,
signed by the current key, by a key the provider never published, or forged: the current key's id over another
key's signature). `picture_url(name)` is a PNG it serves, for the `picture` claim.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import threading
import time
from collections.abc import Iterator
from urllib.parse import urlencode

import pytest
from joserfc import jwt
from joserfc.jwk import RSAKey
from werkzeug.exceptions import HTTPException
from werkzeug.routing import Map, Rule
from werkzeug.wrappers import Request, Response

from .images import make_png
from .local_server import live_server

CLIENT_ID = "abode-web.apps.example-oidc.test"
CLIENT_SECRET = "oidc-test-secret"
MOBILE_CLIENT_ID = "abode-ios.apps.example-oidc.test"
DEFAULT_PERSON = {"sub": "110169484474386276334", "email": "ada@gmail.example", "email_verified": True,
                  "name": "Ada Lovelace"}

URLS = Map([Rule(path, methods=methods, endpoint=endpoint) for path, methods, endpoint in (
    ("/.well-known/openid-configuration", ["GET"], "discovery"), ("/jwks", ["GET"], "jwks"),
    ("/authorize", ["GET"], "authorize"), ("/token", ["POST"], "token"), ("/userinfo", ["GET", "POST"], "userinfo"),
    ("/pictures/<name>", ["GET"], "picture"))])


def new_key() -> RSAKey:
    return RSAKey.generate_key(2048, parameters={"kid": secrets.token_hex(8), "use": "sig", "alg": "RS256"})


def s256(verifier: str) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()


def json_response(body: dict, status: int = 200, headers: dict | None = None) -> Response:
    return Response(json.dumps(body), status, headers=headers, mimetype="application/json")


class OIDCProvider:
    """The provider's state and levers; `url` (= issuer) is set once the server listens."""

    def __init__(self) -> None:
        self.url = ""
        self.clients = {CLIENT_ID: CLIENT_SECRET}
        self.keys = [new_key()]  # the last one signs; all are published
        self.person = dict(DEFAULT_PERSON)
        self.deny_next = False
        self.token_claims: dict = {}
        self.token_down = False
        self.codes: dict[str, dict] = {}
        self.access_tokens: dict[str, dict] = {}
        self.requests: list[tuple[str, str]] = []  # (method, path) of every request
        self._lock = threading.Lock()

    def settings(self, **extra) -> dict:
        """App settings that point Google sign-in here."""
        return {"GOOGLE_CLIENT_ID": CLIENT_ID, "GOOGLE_CLIENT_SECRET": CLIENT_SECRET,
                "OAUTH_GOOGLE_METADATA_URL": f"{self.url}/.well-known/openid-configuration", **extra}

    def picture_url(self, name: str = "person") -> str:
        return f"{self.url}/pictures/{name}.png"

    def hits(self, path: str) -> int:
        return sum(1 for _method, seen in self.requests if seen == path)

    def rotate(self) -> RSAKey:
        """Publish a new signing key and drop the old one (as Google does); returns the new key."""
        with self._lock:
            self.keys = [new_key()]
            return self.keys[-1]

    def add_key(self) -> RSAKey:
        """Publish a new signing key beside the old ones."""
        with self._lock:
            self.keys.append(new_key())
            return self.keys[-1]

    def id_token(self, *, audience: str | list[str] = CLIENT_ID, signed_by: str = "current", header: dict | None = None,
                 **claims) -> str:
        """An ID token about `person` (overridden by `claims`; a claim given as None is left out).

        signed_by: "current" (the published signing key), "unknown" (a key never published, its own kid) or
        "forged" (the current key's kid, another key's signature).
        """
        now = int(time.time())
        body = {"iss": self.url, "aud": audience, "iat": now, "exp": now + 3600, **self.person, **claims}
        body = {name: value for name, value in body.items() if value is not None}
        current = self.keys[-1]
        key = current if signed_by == "current" else new_key()
        kid = key.kid if signed_by == "unknown" else current.kid
        return jwt.encode({"alg": "RS256", "kid": kid, **(header or {})}, body, key, algorithms=["RS256"])

    @Request.application
    def wsgi(self, request: Request) -> Response:
        with self._lock:
            self.requests.append((request.method, request.path))
        try:
            endpoint, _args = URLS.bind_to_environ(request.environ).match()
            if endpoint == "picture":  # "moved" answers a redirect to another picture (never to be followed)
                if _args["name"] == "moved.png":
                    return Response(status=302, headers={"Location": f"{self.url}/pictures/ada.png"})
                return Response(make_png(96, 96), mimetype="image/png")
        except HTTPException as exc:
            return json_response({"error": "not_found"}, exc.code or 404)
        return getattr(self, f"_{endpoint}")(request)

    def _discovery(self, _request: Request) -> Response:
        return json_response({
            "issuer": self.url, "authorization_endpoint": f"{self.url}/authorize",
            "token_endpoint": f"{self.url}/token", "userinfo_endpoint": f"{self.url}/userinfo",
            "jwks_uri": f"{self.url}/jwks", "response_types_supported": ["code"],
            "subject_types_supported": ["public"], "id_token_signing_alg_values_supported": ["RS256"],
            "scopes_supported": ["openid", "email", "profile"], "code_challenge_methods_supported": ["S256"],
            "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
            "claims_supported": ["sub", "email", "email_verified", "name", "picture", "iss", "aud", "exp", "iat"]})

    def _jwks(self, _request: Request) -> Response:
        with self._lock:
            keys = [key.as_dict(private=False) for key in self.keys]
        return json_response({"keys": keys}, headers={"Cache-Control": "public, max-age=3600"})

    def _authorize(self, request: Request) -> Response:
        args = request.args
        redirect_uri = args.get("redirect_uri")
        if args.get("client_id") not in self.clients or not redirect_uri:
            return json_response({"error": "invalid_request", "error_description": "unknown client"}, 400)
        answer = {"state": args["state"]} if "state" in args else {}
        if self.deny_next:
            self.deny_next = False
            answer.update(error="access_denied", error_description="The user denied access.")
        elif args.get("response_type") != "code" or "openid" not in args.get("scope", "").split():
            answer.update(error="invalid_request", error_description="response_type code and scope openid needed")
        elif args.get("code_challenge_method") != "S256" or not args.get("code_challenge"):
            answer.update(error="invalid_request", error_description="PKCE with S256 is required")
        else:
            code = secrets.token_urlsafe(24)
            with self._lock:
                self.codes[code] = {"client_id": args["client_id"], "redirect_uri": redirect_uri,
                                    "nonce": args.get("nonce"), "challenge": args["code_challenge"],
                                    "person": dict(self.person)}
            answer["code"] = code
        return Response(status=302, headers={"Location": f"{redirect_uri}?{urlencode(answer)}"})

    def _client(self, request: Request) -> str | None:
        """The client id authenticated by Basic auth or by client_id/client_secret in the body, else None."""
        auth = request.authorization
        client_id, secret = (auth.username, auth.password) if auth else (request.form.get("client_id"),
                                                                          request.form.get("client_secret"))
        return client_id if client_id in self.clients and self.clients[client_id] == secret else None

    def _token(self, request: Request) -> Response:
        if self.token_down:
            return Response("<html>Service Unavailable</html>", 503, mimetype="text/html")
        client_id = self._client(request)
        if client_id is None:
            return json_response({"error": "invalid_client"}, 401, headers={"WWW-Authenticate": "Basic"})
        form = request.form
        with self._lock:
            grant = self.codes.pop(form.get("code", ""), None)  # a code works once
        if form.get("grant_type") != "authorization_code" or grant is None or grant["client_id"] != client_id \
                or grant["redirect_uri"] != form.get("redirect_uri"):
            return json_response({"error": "invalid_grant"}, 400)
        if s256(form.get("code_verifier", "")) != grant["challenge"]:
            return json_response({"error": "invalid_grant", "error_description": "code_verifier mismatch"}, 400)
        access_token = secrets.token_urlsafe(24)
        with self._lock:
            self.access_tokens[access_token] = grant["person"]
        saved, self.person = self.person, grant["person"]
        try:
            id_token = self.id_token(**{"audience": client_id, "nonce": grant["nonce"], **self.token_claims})
        finally:
            self.person = saved
        return json_response({"access_token": access_token, "token_type": "Bearer", "expires_in": 3600,
                              "scope": "openid email profile", "id_token": id_token},
                             headers={"Cache-Control": "no-store"})

    def _userinfo(self, request: Request) -> Response:
        auth = request.headers.get("Authorization", "")
        person = self.access_tokens.get(auth.removeprefix("Bearer ")) if auth.startswith("Bearer ") else None
        if person is None:
            return json_response({"error": "invalid_token"}, 401, headers={"WWW-Authenticate": "Bearer"})
        return json_response(person)


@pytest.fixture(name="oidc_provider")
def oidc_provider_fixture() -> Iterator[OIDCProvider]:
    """A running local OpenID Connect provider for one test. The app's cache of provider documents is emptied: an
    earlier test's provider may have listened on the same port."""
    from app.blueprints.auth.oauth_providers import documents

    documents.clear()
    provider = OIDCProvider()
    with live_server(provider.wsgi) as provider.url:
        yield provider
