"""The browser's sign-in with Google and Facebook: Authlib's Flask client does the redirect to the provider and back.

Google goes through OpenID Connect discovery (OAUTH_GOOGLE_METADATA_URL) with scopes `openid email profile`, state,
nonce and PKCE (S256); Authlib checks the ID token it gets back (signature by a published key, issuer, audience,
expiry, nonce). Facebook goes through plain OAuth 2 (the OAUTH_FACEBOOK_* URLs) and its access token is then checked
like a mobile app's (oauth_providers.verify_facebook_token: token debugging for this app, then `me`).

The state of each flow — Authlib's (nonce, PKCE verifier, redirect URI) and ours (where to go next, whether the
person is linking a provider to the account they are signed in to) — is kept in the cache (Redis in production)
under a key the session cookie names, and deleted when the callback reads it: a replayed callback finds nothing,
even with an old copy of the cookie, and any app process can finish a flow another one started.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import requests
from authlib.common.errors import AuthlibBaseError
from authlib.integrations.base_client import MismatchingStateError
from authlib.integrations.flask_client import OAuth
from flask import Flask, current_app, request, session
from joserfc.errors import JoseError
from redis.exceptions import RedisError
from werkzeug.wrappers import Response

from ...cache_backend import strict_cache
from ...errors import DomainError
from .oauth_providers import TIMEOUT, ProviderIdentity, google_identity, verify_facebook_token

logger = logging.getLogger(__name__)

EXTENSION = "authlib.integrations.flask_client"
STATE_SECONDS = 15 * 60  # a person has this long at the provider's page before the flow expires


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
    registry = OAuth(app, cache=strict_cache)  # a lost flow state must show as "down", not a miss
    google = registry.register(
        "google", server_metadata_url=app.config["OAUTH_GOOGLE_METADATA_URL"],
        client_kwargs={"scope": "openid email profile", "code_challenge_method": "S256", "default_timeout": TIMEOUT})
    facebook = registry.register(
        "facebook", authorize_url=app.config["OAUTH_FACEBOOK_AUTHORIZE_URL"],
        access_token_url=app.config["OAUTH_FACEBOOK_TOKEN_URL"], api_base_url=app.config["OAUTH_FACEBOOK_API_BASE"],
        # Facebook's token endpoint takes the app secret in the request, not in an Authorization header.
        client_kwargs={"scope": "email public_profile", "token_endpoint_auth_method": "client_secret_post",
                       "default_timeout": TIMEOUT})
    for client in (google, facebook):
        client.framework.expires_in = STATE_SECONDS


def _client(provider: str):
    return current_app.extensions[EXTENSION].create_client(provider)


def start(provider: str, callback_url: str, *, next_url: str | None, link_user_id: int | None = None) -> Response:
    """The redirect to the provider's sign-in page; the flow's state is saved for the callback.

    Raises FlowProblem "unavailable" when Google's discovery document cannot be read, "down" when the cache that
    keeps the state cannot be written."""
    client = _client(provider)
    try:
        answer = client.create_authorization_url(callback_url)
    except (requests.RequestException, ValueError) as exc:
        logger.warning("%s sign-in cannot start: %s", provider, type(exc).__name__)
        raise FlowProblem(provider, "unavailable") from None
    try:
        client.save_authorize_data(redirect_uri=callback_url, abode_next=next_url, abode_link_user=link_user_id,
                                   **answer)
    except RedisError as exc:
        logger.error("%s sign-in cannot keep its state: the cache is down (%s)", provider, type(exc).__name__)
        raise FlowProblem(provider, "down") from None
    logger.info("%s sign-in started%s", provider, " (linking)" if link_user_id else "")
    return Response(status=302, headers={"Location": answer["url"]})


def finish(provider: str) -> FinishedFlow:
    """Read the provider's answer on the callback: exchange the code, check what came back, return whom it names.

    Raises FlowCancelled, FlowProblem with kind "state" (missing, expired or replayed state), "provider" (the
    provider refused the code or sent something that does not verify), "unavailable" (it did not answer) or "down"
    (the cache that keeps the state is unreachable)."""
    client = _client(provider)
    if request.args.get("error"):
        logger.info("%s sign-in ended at the provider: %s", provider, request.args.get("error"))
        raise FlowCancelled(provider) if request.args["error"] == "access_denied" else FlowProblem(provider, "provider")
    try:
        saved = client.framework.get_state_data(session, request.args.get("state")) or {}
        token = client.authorize_access_token()
        identity = _identity(provider, token)
    except MismatchingStateError:
        logger.warning("%s sign-in callback with a missing, expired or used state", provider)
        raise FlowProblem(provider, "state") from None
    except requests.RequestException as exc:
        logger.warning("%s did not answer the code exchange: %s", provider, type(exc).__name__)
        raise FlowProblem(provider, "unavailable") from None
    except RedisError as exc:
        logger.error("%s sign-in cannot read its state: the cache is down (%s)", provider, type(exc).__name__)
        raise FlowProblem(provider, "down") from None
    except (AuthlibBaseError, JoseError, ValueError, KeyError, TypeError) as exc:
        logger.warning("%s sign-in refused: %s %s", provider, type(exc).__name__, exc)
        raise FlowProblem(provider, "provider") from None
    return FinishedFlow(identity, saved.get("abode_next"), saved.get("abode_link_user"))


def _identity(provider: str, token: dict) -> ProviderIdentity:
    if provider == "google":
        claims = token.get("userinfo")  # set by Authlib once the ID token verified, nonce included
        if not claims or not claims.get("sub"):
            raise ValueError("the token answer has no verified ID token")
        return google_identity(claims)
    try:
        return verify_facebook_token(str(token["access_token"]))
    except DomainError as exc:  # the API's 401 or 503 becomes this flow's page
        raise FlowProblem(provider, "unavailable" if exc.status_code == 503 else "provider") from None
