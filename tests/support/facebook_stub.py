"""A local Facebook for the tests: the OAuth 2 dialog and token endpoint, and the Graph API's `me` and `debug_token`,
answering with Facebook's shapes (`data.app_id`, `is_valid`, `user_id`, `expires_at`; errors as OAuthException).

Several apps share one Facebook, so a token of another app is told apart the way Facebook does: debug_token names
the app it was issued to. Levers: `person` is who signs in at the dialog next; `deny_next` answers the dialog with
the user's refusal; `issue_token(...)` mints a user token directly (what the mobile SDK hands the app), of this app
or another, valid or expired; `revoke(token)` invalidates one.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import threading
import time
from collections.abc import Iterator
from urllib.parse import urlencode

import pytest
from werkzeug.wrappers import Request, Response

from .images import make_png
from .local_server import live_server

APP_ID = "1234567890123456"
APP_SECRET = "fb-test-app-secret"
OTHER_APP_ID = "6543210987654321"
OTHER_APP_SECRET = "fb-other-app-secret"
DEFAULT_PERSON = {"id": "10158000000000001", "name": "Grace Hopper", "email": "grace@fb.example"}


def graph_error(message: str, code: int = 190, status: int = 400, kind: str = "OAuthException") -> Response:
    body = {"error": {"message": message, "type": kind, "code": code, "fbtrace_id": secrets.token_urlsafe(8)}}
    return Response(json.dumps(body), status, mimetype="application/json",
                    headers={"WWW-Authenticate": f'OAuth "Facebook Platform" "invalid_token" "{message}"'})


def ok(body: dict) -> Response:
    return Response(json.dumps(body), 200, mimetype="application/json")


class FacebookStub:
    """The stub's state and levers; `url` is set once the server listens (Graph API base = url)."""

    def __init__(self) -> None:
        self.url = ""
        self.apps = {APP_ID: APP_SECRET, OTHER_APP_ID: OTHER_APP_SECRET}
        self.person = dict(DEFAULT_PERSON)
        self.deny_next = False
        self.codes: dict[str, dict] = {}
        self.tokens: dict[str, dict] = {}  # token -> {"app_id", "person", "expires_at", "valid"}
        self.requests: list[tuple[str, dict]] = []  # (path, query) of every request
        self._lock = threading.Lock()

    def settings(self, **extra) -> dict:
        """App settings that point Facebook sign-in here."""
        return {"FACEBOOK_CLIENT_ID": APP_ID, "FACEBOOK_CLIENT_SECRET": APP_SECRET,
                "OAUTH_FACEBOOK_AUTHORIZE_URL": f"{self.url}/dialog/oauth",
                "OAUTH_FACEBOOK_TOKEN_URL": f"{self.url}/oauth/access_token", "OAUTH_FACEBOOK_API_BASE": self.url,
                **extra}

    def issue_token(self, person: dict | None = None, *, app_id: str = APP_ID, expires_in: int = 5184000) -> str:
        """A user access token of `app_id` for `person` (default: `self.person`); expires_in <= 0: expired."""
        token = "EAA" + secrets.token_urlsafe(40)
        with self._lock:
            self.tokens[token] = {"app_id": app_id, "person": dict(person or self.person),
                                  "expires_at": int(time.time()) + expires_in, "valid": True}
        return token

    def revoke(self, token: str) -> None:
        with self._lock:
            self.tokens[token]["valid"] = False

    def _live(self, token: str | None) -> dict | None:
        grant = self.tokens.get(token or "")
        return grant if grant and grant["valid"] and grant["expires_at"] > time.time() else None

    @Request.application
    def wsgi(self, request: Request) -> Response:
        params = {**request.args.to_dict(), **request.form.to_dict()}
        with self._lock:
            self.requests.append((request.path, params))
        if request.path.startswith("/pictures/"):
            return Response(make_png(80, 80), mimetype="image/png")
        handler = {"/dialog/oauth": self._dialog, "/oauth/access_token": self._access_token, "/me": self._me,
                   "/debug_token": self._debug_token}.get(request.path)
        if handler is None:
            return graph_error(f"Unknown path components: {request.path}", code=2500)
        return handler(params)

    def _dialog(self, params: dict) -> Response:
        redirect_uri = params.get("redirect_uri")
        if params.get("client_id") not in self.apps or not redirect_uri:
            return graph_error("Invalid App ID", code=101)
        answer = {"state": params["state"]} if "state" in params else {}
        if self.deny_next:
            self.deny_next = False
            answer.update(error="access_denied", error_code="200", error_reason="user_denied",
                          error_description="Permissions error")
        else:
            code = secrets.token_urlsafe(32)
            with self._lock:
                self.codes[code] = {"app_id": params["client_id"], "redirect_uri": redirect_uri,
                                    "person": dict(self.person)}
            answer["code"] = code
        return Response(status=302, headers={"Location": f"{redirect_uri}?{urlencode(answer)}"})

    def _access_token(self, params: dict) -> Response:
        app_id = params.get("client_id")
        if app_id not in self.apps or self.apps[app_id] != params.get("client_secret"):
            return graph_error("Error validating client secret.", code=1)
        with self._lock:
            grant = self.codes.pop(params.get("code", ""), None)
        if grant is None or grant["app_id"] != app_id or grant["redirect_uri"] != params.get("redirect_uri"):
            return graph_error("This authorization code has been used.", code=100)
        token = self.issue_token(grant["person"], app_id=app_id)
        return ok({"access_token": token, "token_type": "bearer", "expires_in": 5183999})

    def _me(self, params: dict) -> Response:
        token = params.get("access_token")
        grant = self._live(token)
        if grant is None:
            return graph_error("Invalid OAuth access token - Cannot parse access token")
        proof = params.get("appsecret_proof")
        expected = hmac.new(self.apps[grant["app_id"]].encode(), token.encode(), hashlib.sha256).hexdigest()
        if proof is not None and not hmac.compare_digest(proof, expected):
            return graph_error("Invalid appsecret_proof provided in the API argument", code=100)
        person, fields = grant["person"], params.get("fields", "id,name").split(",")
        body = {name: person[name] for name in fields if name in person}
        if "picture" in fields:
            body["picture"] = {"data": {"height": 50, "width": 50, "is_silhouette": False,
                                        "url": f"{self.url}/pictures/{person['id']}.jpg"}}
        return ok(body)

    def _debug_token(self, params: dict) -> Response:
        app_id, _, secret = (params.get("access_token") or "").partition("|")
        if self.apps.get(app_id) != secret or not secret:
            return graph_error("Invalid OAuth access token signature.")
        grant = self.tokens.get(params.get("input_token") or "")
        if grant is None:
            return ok({"data": {"error": {"code": 190, "message": "Invalid OAuth access token."},
                                "is_valid": False, "scopes": []}})
        live = self._live(params["input_token"]) is not None
        data = {"app_id": grant["app_id"], "type": "USER", "application": "Abode test app",
                "data_access_expires_at": grant["expires_at"] + 7776000, "expires_at": grant["expires_at"],
                "is_valid": live, "issued_at": grant["expires_at"] - 5184000, "scopes": ["email", "public_profile"],
                "user_id": grant["person"]["id"]}
        if not live:
            data["error"] = {"code": 190, "message": "Error validating access token: Session has expired.",
                             "subcode": 463}
        return ok({"data": data})


@pytest.fixture(name="facebook_stub")
def facebook_stub_fixture() -> Iterator[FacebookStub]:
    """A running local Facebook (dialog, token endpoint, Graph API) for one test."""
    stub = FacebookStub()
    with live_server(stub.wsgi) as stub.url:
        yield stub
