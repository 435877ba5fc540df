"""The browser's sign-in with Google and Facebook: Authlib's Flask client builds the redirect to the provider and
exchanges the code it sends back.

Google goes through OpenID Connect discovery (OAUTH_GOOGLE_METADATA_URL) with scopes `openid email profile`, state,
nonce and PKCE (S256); the ID token it returns is checked like a mobile app's (oauth_providers.verify_google_id_token:
signature by a published key, issuer, audience — here the web client only — expiry and issue time) and must carry
this flow's nonce. Facebook goes through plain OAuth 2 (the OAUTH_FACEBOOK_* URLs) and its access token is then
checked like a mobile app's (verify_facebook_token: token debugging for this app, then `me`).

Each flow's state (PKCE verifier, nonce, redirect URI, where to go next, and whether the person is linking a provider
to the account they are signed in to) is kept in the cache (Redis in production) under its `state`, which the session
cookie also lists: the callback needs both, so a callback from another browser is refused (no login CSRF), and the
first callback to delete the entry is the only one that goes on (a replay finds nothing, even with an old copy of
the cookie, and two callbacks at once cannot both pass). Any app process can finish a flow another one started.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass

import requests
from authlib.common.errors import AuthlibBaseError
from authlib.integrations.flask_client import OAuth
from flask import Flask, current_app, request, session
from redis.exceptions import RedisError
from werkzeug.wrappers import Response

from ...cache_backend import strict_cache
from ...errors import DomainError
from .oauth_providers import (
    TIMEOUT,
    ProviderIdentity,
    google_metadata,
    verify_facebook_token,
    verify_google_id_token,
)

logger = logging.getLogger(__name__)

EXTENSION = "authlib.integrations.flask_client"
STATE_SECONDS = 15 * 60  # a person has this long at the provider's page before the flow expires
SESSION_KEY = "oauth_flows"  # the states of this browser's flows still open (the newest few)
OPEN_FLOWS = 5


class FlowProblem(Exception):
    """A browser sign-in that cannot finish; `kind` picks the page that explains it."""

    def __init__(self, provider: str, kind: str) -> None:
        super().__init__(f"{provider} sign-in: {kind}")
        self.provider, self.kind = provider, kind


class FlowCancelled(FlowProblem):
    """The person said no at the provider."""

    def __init__(self, provider: str) -> None:
        super().__init__(provider, "cancelled")


@dataclass(frozen=True)
class FinishedFlow:
    """What the callback learnt: whom the provider vouched for, and what the flow was started for."""

    identity: ProviderIdentity
    next_url: str | None
    link_user_id: int | None


def init_oauth(app: Flask) -> None:
    """Register Authlib's client for each provider on `app` (credentials come from GOOGLE_* and FACEBOOK_* config).

    Registered whether or not they are configured: the routes ask oauth_providers.is_configured first.
    """
    registry = OAuth(app)
    registry.register(
        "google", server_metadata_url=app.config["OAUTH_GOOGLE_METADATA_URL"],
        client_kwargs={"scope": "openid email profile", "code_challenge_method": "S256", "default_timeout": TIMEOUT})
    registry.register(
        "facebook", authorize_url=app.config["OAUTH_FACEBOOK_AUTHORIZE_URL"],
        access_token_url=app.config["OAUTH_FACEBOOK_TOKEN_URL"], api_base_url=app.config["OAUTH_FACEBOOK_API_BASE"],
        # Facebook's token endpoint takes the app secret in the request, not in an Authorization header.
        client_kwargs={"scope": "email public_profile", "token_endpoint_auth_method": "client_secret_post",
                       "default_timeout": TIMEOUT})


def _client(provider: str):
    return current_app.extensions[EXTENSION].create_client(provider)


def _cache_key(state: str) -> str:
    return f"oauth-flow:{state}"


def start(provider: str, callback_url: str, *, next_url: str | None, link_user_id: int | None = None) -> Response:
    """The redirect to the provider's sign-in page; the flow's state is saved for the callback.

    Raises FlowProblem "unavailable" when Google's discovery document cannot be read (or is not one), "down" when
    the cache that keeps the state cannot be written."""
    try:
        if provider == "google":
            google_metadata()  # checked and cached by us first: Authlib would trip over a malformed one
        answer = _client(provider).create_authorization_url(callback_url)
    except (DomainError, requests.RequestException, AuthlibBaseError, ValueError, TypeError, KeyError,
            RuntimeError) as exc:
        logger.warning("%s sign-in cannot start: %s", provider, type(exc).__name__)
        raise FlowProblem(provider, "unavailable") from None
    flow = {"provider": provider, "redirect_uri": callback_url, "code_verifier": answer.get("code_verifier"),
            "nonce": answer.get("nonce"), "next": next_url, "link_user": link_user_id}
    try:
        strict_cache.set(_cache_key(answer["state"]), json.dumps(flow), timeout=STATE_SECONDS)
    except RedisError as exc:
        logger.error("%s sign-in cannot keep its state: the cache is down (%s)", provider, type(exc).__name__)
        raise FlowProblem(provider, "down") from None
    session[SESSION_KEY] = [*session.get(SESSION_KEY, [])[-(OPEN_FLOWS - 1):], answer["state"]]
    logger.info("%s sign-in started%s", provider, " (linking)" if link_user_id else "")
    return Response(status=302, headers={"Location": answer["url"]})


def _claim_flow(provider: str) -> dict:
    """This browser's flow named by the callback's state, taken out of the cache (only one caller can). Raises
    FlowProblem "state" for a state missing, not this browser's, expired, used or of another provider."""
    state = request.args.get("state") or ""
    mine = session.get(SESSION_KEY, [])
    if state not in mine:
        logger.warning("%s sign-in callback with a state this browser did not start", provider)
        raise FlowProblem(provider, "state")
    session[SESSION_KEY] = [other for other in mine if other != state]
    try:
        raw = strict_cache.get(_cache_key(state))
        claimed = bool(strict_cache.delete(_cache_key(state)))  # the one delete that finds the entry wins
    except RedisError as exc:
        logger.error("%s sign-in cannot read its state: the cache is down (%s)", provider, type(exc).__name__)
        raise FlowProblem(provider, "down") from None
    flow = json.loads(raw) if raw and claimed else None
    if not flow or flow.get("provider") != provider:
        logger.warning("%s sign-in callback with an expired or used state", provider)
        raise FlowProblem(provider, "state")
    return flow


def finish(provider: str) -> FinishedFlow:
    """Read the provider's answer on the callback: exchange the code, check what came back, return whom it names.

    Raises FlowCancelled, FlowProblem with kind "state" (missing, expired, replayed or another browser's state),
    "provider" (the provider refused the code or sent something that does not verify), "unavailable" (it did not
    answer) or "down" (the cache that keeps the state is unreachable)."""
    flow = _claim_flow(provider)
    if request.args.get("error"):
        logger.info("%s sign-in ended at the provider: %s", provider, request.args.get("error"))
        raise FlowCancelled(provider) if request.args["error"] == "access_denied" else FlowProblem(provider, "provider")
    try:
        token = _client(provider).fetch_access_token(redirect_uri=flow["redirect_uri"], code=request.args.get("code"),
                                                     code_verifier=flow["code_verifier"])
        identity = _identity(provider, token, flow)
    except requests.RequestException as exc:
        logger.warning("%s did not answer the code exchange: %s", provider, type(exc).__name__)
        raise FlowProblem(provider, "unavailable") from None
    except DomainError as exc:  # the token check's 401 or 503
        raise FlowProblem(provider, "unavailable" if exc.status_code == 503 else "provider") from None
    except (AuthlibBaseError, ValueError, KeyError, TypeError, RuntimeError) as exc:
        logger.warning("%s sign-in refused: %s %s", provider, type(exc).__name__, exc)
        raise FlowProblem(provider, "provider") from None
    return FinishedFlow(identity, flow.get("next"), flow.get("link_user"))


def _identity(provider: str, token: dict, flow: dict) -> ProviderIdentity:
    if provider == "google":
        if not isinstance(token.get("id_token"), str) or not flow.get("nonce"):
            raise ValueError("the token answer has no ID token")
        return verify_google_id_token(token["id_token"], browser_nonce=flow["nonce"])
    return verify_facebook_token(str(token["access_token"]))
