"""Browser sign-in with Google (/auth/oauth/google) against the local OpenID Connect provider: the redirect carries
state, nonce and PKCE; the callback signs in, creates or links by the account rules; every way a flow can end badly
ends on a clear page; providers are linked and unlinked from the profile."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from flask import g
from sqlalchemy import select

from app.blueprints.auth import oauth_accounts, oauth_providers, services
from app.extensions import db
from app.models import OAuthIdentity, User

from ..support.factories import DEFAULT_PASSWORD, make_user
from ..support.oidc_provider import CLIENT_ID, DEFAULT_PERSON, MOBILE_CLIENT_ID, OIDCProvider
from ..support.pages import page_of, submit, text_of
from ..support.threads import Pause, in_thread

START = "/auth/oauth/google"


@pytest.fixture
def app(make_app, oidc_provider: OIDCProvider):
    return make_app(**oidc_provider.settings())


def query(url: str) -> dict[str, str]:
    return {name: values[0] for name, values in parse_qs(urlsplit(url).query).items()}


def to_provider(client, url: str = START):
    """Start the flow; returns the provider's authorization URL the browser is sent to."""
    response = client.get(url)
    assert response.status_code == 302, page_of(response)[:300]
    return response.headers["Location"]


def at_provider(authorize_url: str) -> str:
    """What the provider's page does (the person signs in, or refuses): the callback path and query it sends back."""
    answer = requests.get(authorize_url, allow_redirects=False, timeout=10)
    assert answer.status_code == 302, answer.text
    back = urlsplit(answer.headers["Location"])
    assert back.path == "/auth/oauth/google/callback"
    return f"{back.path}?{back.query}"


def sign_in(client, url: str = START):
    """The whole round trip; returns the callback's response."""
    return client.get(at_provider(to_provider(client, url)))


def new_browser(app):
    """Another browser (the test's app context keeps the last signed-in user and CSRF token in g: drop them)."""
    g.pop("_login_user", None)
    g.pop("csrf_token", None)
    return app.test_client()


def identities() -> list[tuple[int, str, str]]:
    return [(row.user_id, row.provider, row.subject) for row in db.session.scalars(select(OAuthIdentity))]


def test_the_redirect_asks_for_openid_email_profile_with_state_nonce_and_pkce(client, oidc_provider):
    location = to_provider(client)
    assert location.startswith(f"{oidc_provider.url}/authorize?")
    asked = query(location)
    assert asked["client_id"] == CLIENT_ID and asked["response_type"] == "code"
    assert asked["scope"].split() == ["openid", "email", "profile"]
    assert asked["code_challenge_method"] == "S256" and len(asked["code_challenge"]) >= 43
    assert len(asked["state"]) >= 20 and len(asked["nonce"]) >= 20
    assert asked["redirect_uri"] == "http://localhost/auth/oauth/google/callback"
    # Each flow gets its own state and nonce.
    again = query(to_provider(client))
    assert again["state"] != asked["state"] and again["nonce"] != asked["nonce"]


def test_a_new_person_becomes_a_signed_in_guest_with_the_providers_name_and_picture(client, oidc_provider):
    oidc_provider.person["picture"] = oidc_provider.picture_url("ada")
    response = sign_in(client)
    assert response.status_code == 302 and response.headers["Location"] == "/"
    user = db.session.scalar(select(User).where(User.email == DEFAULT_PERSON["email"]))
    assert user.name == "Ada Lovelace" and user.role == "guest" and user.password_hash is None
    assert user.avatar_key is not None  # the picture, fetched and stored like an upload
    assert identities() == [(user.id, "google", DEFAULT_PERSON["sub"])]
    assert "Welcome to Abode, Ada Lovelace!" in text_of(client.get("/"))
    profile = client.get("/profile")
    assert profile.status_code == 200 and "Ada Lovelace" in text_of(profile)


def test_a_picture_that_is_not_an_image_is_skipped_not_an_error(client, oidc_provider):
    oidc_provider.person["picture"] = f"{oidc_provider.url}/jwks"  # JSON, not an image
    assert sign_in(client).status_code == 302
    user = db.session.scalar(select(User).where(User.email == DEFAULT_PERSON["email"]))
    assert user.avatar_key is None and client.get("/profile").status_code == 200


@pytest.mark.parametrize("picture, limit", [("moved", None), ("ada", 100)], ids=["redirect", "too-large"])
def test_a_picture_behind_a_redirect_or_too_large_is_skipped(make_app, oidc_provider, picture, limit):
    app = make_app(**oidc_provider.settings(**({"AVATAR_MAX_BYTES": limit} if limit else {})))
    oidc_provider.person["picture"] = oidc_provider.picture_url(picture)
    client = app.test_client()
    assert sign_in(client).status_code == 302 and client.get("/profile").status_code == 200
    assert db.session.scalar(select(User).where(User.email == DEFAULT_PERSON["email"])).avatar_key is None
    assert oidc_provider.hits("/pictures/ada.png") == (0 if picture == "moved" else 1)


def test_a_returning_person_is_found_by_subject_even_after_changing_email_and_name(client, oidc_provider, app):
    assert sign_in(client).status_code == 302
    first = db.session.scalar(select(User).where(User.email == DEFAULT_PERSON["email"]))
    other_browser = new_browser(app)
    oidc_provider.person.update(email="ada.new@gmail.example", name="Countess of Lovelace")
    assert sign_in(other_browser).status_code == 302
    assert "Welcome back, " + first.name in text_of(other_browser.get("/"))
    assert db.session.scalar(select(db.func.count()).select_from(User)) == 1
    # Someone else with the first person's old name is another person.
    third = new_browser(app)
    oidc_provider.person.update(sub="999", email="other@gmail.example", name="Ada Lovelace")
    assert sign_in(third).status_code == 302
    assert db.session.scalar(select(db.func.count()).select_from(User)) == 2


@pytest.mark.parametrize("next_url, lands_on", [
    ("/trips", "/trips"), ("/search?location=Paris", "/search?location=Paris"), ("//evil.example/x", "/"),
    ("https://evil.example/", "/"), ("/\\evil.example", "/"),
])
def test_next_after_sign_in_is_followed_only_to_local_paths(client, next_url, lands_on):
    response = sign_in(client, f"{START}?next={requests.utils.quote(next_url, safe='')}")
    assert response.status_code == 302 and response.headers["Location"] == lands_on


def test_the_login_page_button_carries_next(client):
    page = page_of(client.get("/login?next=/trips"))
    assert 'href="/auth/oauth/google?next=/trips"' in page or 'href="/auth/oauth/google?next=%2Ftrips"' in page


def test_a_verified_email_links_the_existing_password_account(client):
    user = make_user(email=DEFAULT_PERSON["email"], name="Ada (password)")
    assert sign_in(client).status_code == 302
    assert identities() == [(user.id, "google", DEFAULT_PERSON["sub"])]
    assert client.get("/profile").status_code == 200
    assert db.session.scalar(select(db.func.count()).select_from(User)) == 1


def test_a_second_google_account_with_the_same_verified_email_is_not_linked_beside_the_first(client, oidc_provider,
                                                                                             app):
    """A reused mailbox (a new Google account for an address that already has one linked) proves nothing about the
    account: the person signs in with a way in they have and links from the profile."""
    user = make_user(email=DEFAULT_PERSON["email"])
    assert sign_in(client).status_code == 302
    browser = new_browser(app)
    oidc_provider.person["sub"] = "a-new-google-account"
    response = sign_in(browser)
    assert response.status_code == 302 and response.headers["Location"].startswith("/login?next=")
    assert identities() == [(user.id, "google", DEFAULT_PERSON["sub"])]


def test_an_unverified_email_meeting_an_account_asks_for_the_password_first(client, oidc_provider):
    make_user(email=DEFAULT_PERSON["email"])
    oidc_provider.person["email_verified"] = False
    response = sign_in(client)
    assert response.status_code == 302 and response.headers["Location"].startswith("/login?next=")
    page = text_of(client.get(response.headers["Location"]))
    assert "Sign in with your password, then link Google from your profile." in page
    assert identities() == [] and client.get("/profile").status_code == 302  # not signed in


def test_a_suspended_account_is_refused_with_the_password_logins_page(client, login, app):
    user = make_user(email=DEFAULT_PERSON["email"])
    assert sign_in(client).status_code == 302  # linked
    submit(client, "/logout", {}, form_url="/profile")
    services.set_active(user, False)
    response = sign_in(client)
    assert response.status_code == 302 and response.headers["Location"] == "/login"
    oauth_page = text_of(client.get("/login"))
    assert "This account is suspended." in oauth_page
    assert client.get("/profile").status_code == 302
    # The password login of the same account says the same.
    password_login = submit(new_browser(app), "/login", {"email": user.email, "password": DEFAULT_PASSWORD})
    assert "This account is suspended." in text_of(password_login)


def test_cancelling_at_the_provider_ends_on_the_login_page_saying_so(client, oidc_provider):
    oidc_provider.deny_next = True
    response = sign_in(client)
    assert response.status_code == 302 and response.headers["Location"] == "/login"
    assert "You cancelled signing in with Google. Nothing was changed." in text_of(client.get("/login"))
    assert db.session.scalar(select(db.func.count()).select_from(User)) == 0


def test_a_replayed_callback_is_refused_even_with_the_old_cookie(client):
    callback = at_provider(to_provider(client))
    cookie = client.get_cookie("session").value
    assert client.get(callback).status_code == 302
    submit(client, "/logout", {}, form_url="/profile")
    replay = client.get(callback)
    assert replay.status_code == 400
    assert "This sign-in has expired or was already used" in text_of(replay)
    client.set_cookie("session", cookie)  # the cookie as it was before the first callback
    replay = client.get(callback)
    assert replay.status_code == 400 and client.get("/profile").status_code == 302


def test_a_sign_in_finished_after_signing_in_as_someone_else_does_not_swap_accounts(client, login):
    """A flow started before this browser signed in to another account (another tab): the sign-in started a new
    session, which holds none of the old flows, so the callback is refused and Bob stays signed in."""
    callback = at_provider(to_provider(client))
    bob = make_user(email="bob@example.com", name="Bob")
    login(client, bob)
    response = client.get(callback)
    assert response.status_code == 400 and "expired or was already used" in text_of(response)
    assert "Bob" in text_of(client.get("/profile"))
    assert identities() == [] and db.session.scalar(select(db.func.count()).select_from(User)) == 1


def test_a_callback_without_state_or_from_another_browser_is_refused(client, app):
    callback = at_provider(to_provider(client))
    assert new_browser(app).get(callback).status_code == 400  # another browser's session holds no such state
    path, _query = callback.split("?", 1)
    response = client.get(f"{path}?code={query(callback)['code']}")
    assert response.status_code == 400 and "Try Google again" in text_of(response)
    assert db.session.scalar(select(db.func.count()).select_from(User)) == 0


def test_a_code_the_provider_refuses_ends_on_a_clear_page(client):
    callback = at_provider(to_provider(client))
    forged = callback.replace(f"code={query(callback)['code']}", "code=made-up")
    response = client.get(forged)
    assert response.status_code == 502
    assert "Google could not confirm who you are" in text_of(response)


def test_a_provider_error_in_the_callback_ends_on_a_clear_page(client):
    state = query(to_provider(client))["state"]
    response = client.get(f"/auth/oauth/google/callback?state={state}&error=server_error")
    assert response.status_code == 502 and "Google could not confirm who you are" in text_of(response)


@pytest.mark.parametrize("claims", [
    {"nonce": "another-flows-nonce"}, {"nonce": None}, {"audience": "someone-else.apps.example"},
    {"audience": "someone-else.apps.example", "azp": CLIENT_ID}, {"audience": MOBILE_CLIENT_ID},
    {"iss": "https://evil.example"}, {"signed_by": "forged"}, {"signed_by": "unknown"},
    {"exp": 1_000_000_000, "iat": 999_996_400},
], ids=["nonce", "no-nonce", "audience", "audience-azp", "mobile-audience", "issuer", "forged", "unknown-key",
        "expired"])
def test_an_id_token_that_does_not_verify_signs_no_one_in(client, oidc_provider, claims):
    oidc_provider.token_claims = claims
    response = sign_in(client)
    assert response.status_code == 502 and "Google could not confirm who you are" in text_of(response)
    assert identities() == [] and client.get("/profile").status_code == 302


def test_an_id_token_signed_by_a_rotated_key_is_accepted(client, oidc_provider, monkeypatch):
    monkeypatch.setattr(oauth_providers, "REFETCH_MIN_SECONDS", 0)  # the rotation comes within the same second
    assert sign_in(client).status_code == 302  # the keys are now cached
    submit(client, "/logout", {}, form_url="/profile")
    oidc_provider.rotate()
    assert sign_in(client).status_code == 302 and client.get("/profile").status_code == 200


def test_a_discovery_document_that_is_not_one_ends_on_a_clear_page(make_app, oidc_provider):
    broken = make_app(**oidc_provider.settings(OAUTH_GOOGLE_METADATA_URL=f"{oidc_provider.url}/jwks"))
    response = broken.test_client().get(START)
    assert response.status_code == 503 and "Google is not answering right now" in text_of(response)


def test_a_provider_that_does_not_answer_ends_on_a_clear_page(make_app, oidc_provider):
    closed = make_app(**oidc_provider.settings(OAUTH_GOOGLE_METADATA_URL="http://127.0.0.1:9/.well-known/x"))
    response = closed.test_client().get(START)
    assert response.status_code == 503 and response.headers["Retry-After"] == "60"
    assert "Google is not answering right now" in text_of(response)


def test_a_cache_that_is_down_ends_on_a_clear_page_not_a_500(client, make_app, oidc_provider):
    """The flow's state lives in the cache (Redis in production): without it no flow can start or finish."""
    callback = at_provider(to_provider(client))  # started while the cache worked
    cookie = client.get_cookie("session").value
    down = make_app(**oidc_provider.settings(CACHE_TYPE="RedisCache", CACHE_REDIS_URL="redis://127.0.0.1:9/0"))
    browser = down.test_client()
    response = browser.get(START)
    assert response.status_code == 503 and "Sign-in with Google is not available right now" in text_of(response)
    browser.set_cookie("session", cookie)  # the same browser, on a process whose cache is down
    response = browser.get(callback)
    assert response.status_code == 503 and "Sign-in with Google is not available right now" in text_of(response)


def test_with_all_of_redis_down_sign_in_with_google_is_a_clear_503_page(make_app, oidc_provider):
    """Redis down for everything at once: the rate limits count in memory, and the flow state, which cannot, says so."""
    make_app()  # empties the tables and the live Redis first
    down = make_app(**oidc_provider.settings(REDIS_URL="redis://127.0.0.1:9/0", RATELIMIT_ENABLED=True))
    response = down.test_client().get(START)
    assert response.status_code == 503 and "Sign-in with Google is not available right now" in text_of(response)


def test_a_token_endpoint_that_fails_mid_flow_ends_on_a_clear_page(client, oidc_provider):
    callback = at_provider(to_provider(client))
    oidc_provider.token_down = True
    response = client.get(callback)
    assert response.status_code == 503 and response.headers["Retry-After"] == "60"
    assert "Google is not answering right now" in text_of(response) and client.get("/profile").status_code == 302


def test_a_provider_without_credentials_is_hidden_and_404(make_app):
    bare = make_app(GOOGLE_CLIENT_ID=None, GOOGLE_CLIENT_SECRET=None)
    browser = bare.test_client()
    assert "Continue with Google" not in page_of(browser.get("/login"))
    assert "Continue with Google" not in page_of(browser.get("/register"))
    assert browser.get(START).status_code == 404
    assert browser.get("/auth/oauth/google/callback?code=x&state=y").status_code == 404
    assert browser.get("/auth/oauth/twitter").status_code == 404


def test_a_configured_provider_shows_on_login_and_register(client):
    for url in ("/login", "/register"):
        assert "Continue with Google" in text_of(client.get(url))
    assert "Continue with Facebook" not in text_of(client.get("/login"))


# -- linking from the profile ----------------------------------------------------------------------------------------

def link(client):
    response = submit(client, "/profile/sign-in-methods/google/link", {}, form_url="/profile")
    assert response.status_code == 302, page_of(response)[:300]
    return client.get(at_provider(response.headers["Location"]))


def test_a_password_account_links_google_and_then_signs_in_with_it(client, login, oidc_provider, app):
    user = make_user(email="ada.work@example.com")  # another email than Google's: linking is by proof, not email
    login(client, user)
    assert "Not linked" in text_of(client.get("/profile"))
    response = link(client)
    assert response.status_code == 302 and response.headers["Location"] == "/profile#sign-in-methods"
    profile = text_of(client.get("/profile"))
    assert "Google is linked" in profile and f"Linked as {DEFAULT_PERSON['email']}" in profile
    assert identities() == [(user.id, "google", DEFAULT_PERSON["sub"])]
    other = new_browser(app)
    assert sign_in(other).status_code == 302
    assert f"Welcome back, {user.name}." in text_of(other.get("/"))


def test_unlinking_leaves_the_password_and_the_last_way_in_cannot_be_unlinked(client, login):
    user = make_user()
    login(client, user)
    link(client)
    response = submit(client, "/profile/sign-in-methods/google/unlink", {}, form_url="/profile")
    assert response.status_code == 302 and identities() == []
    assert "Google is unlinked." in text_of(client.get("/profile"))


def test_an_account_made_with_google_cannot_unlink_its_only_way_in(client):
    sign_in(client)
    page = text_of(client.get("/profile"))
    assert "Your only way to sign in" in page and "Unlink Google" not in page
    response = submit(client, "/profile/sign-in-methods/google/unlink", {}, form_url="/profile")
    assert response.status_code == 302
    assert "Google is the only way you sign in." in text_of(client.get("/profile"))
    assert len(identities()) == 1


def test_a_google_account_that_opens_another_abode_account_is_not_linked(client, login, app):
    assert sign_in(new_browser(app)).status_code == 302  # Ada's Google opens Ada's account
    bob = make_user(email="bob@example.com")
    client = new_browser(app)
    login(client, bob)
    link(client)
    assert "This Google account signs in to another Abode account." in text_of(client.get("/profile"))
    assert [row for row in identities() if row[0] == bob.id] == []


def test_a_link_finished_in_another_session_is_refused(client, login, app):
    user = make_user()
    login(client, user)
    response = submit(client, "/profile/sign-in-methods/google/link", {}, form_url="/profile")
    callback = at_provider(response.headers["Location"])
    submit(client, "/logout", {}, form_url="/profile")
    finished = client.get(callback)
    assert finished.status_code == 302 and finished.headers["Location"].startswith("/login")
    assert identities() == []


def test_linking_needs_the_forms_csrf_token(client, login, oidc_provider):
    login(client, make_user())
    response = client.post("/profile/sign-in-methods/google/link")
    assert response.status_code == 400 and "Location" not in response.headers
    assert oidc_provider.hits("/.well-known/openid-configuration") == 0  # no flow was started
    with client.session_transaction() as cookie:
        assert not cookie.get("oauth_flows")


def test_a_link_finished_while_another_person_is_signed_in_is_refused(client, login, app):
    ada = make_user(email="ada.work@example.com")
    login(client, ada)
    started = submit(client, "/profile/sign-in-methods/google/link", {}, form_url="/profile")
    callback = at_provider(started.headers["Location"])
    submit(client, "/logout", {}, form_url="/profile")
    g.pop("_login_user", None)
    login(client, make_user(email="mallory@example.com"))
    finished = client.get(callback)  # Mallory's new session holds none of Ada's flows
    assert finished.status_code == 400
    assert identities() == []


def test_a_provider_without_credentials_is_not_counted_as_a_way_in(make_app, login):
    """Google is linked, so is Facebook, but Facebook's credentials were removed: Facebook opens nothing, so Google
    is the last way in of a password-less account."""
    app = make_app(**{"GOOGLE_CLIENT_ID": CLIENT_ID, "GOOGLE_CLIENT_SECRET": "s"})
    user = make_user()
    user.password_hash = None
    db.session.add_all([OAuthIdentity(user_id=user.id, provider="google", subject="g-1"),
                        OAuthIdentity(user_id=user.id, provider="facebook", subject="f-1")])
    db.session.commit()
    with pytest.raises(oauth_accounts.LastSignInMethod):
        oauth_accounts.unlink_identity(user, "google")
    oauth_accounts.unlink_identity(user, "facebook")  # what no longer opens anything may go
    assert [row[1] for row in identities()] == ["google"]
    assert app


def test_two_unlinks_at_once_never_leave_an_account_without_a_way_in(make_app, oidc_provider, monkeypatch):
    """A password-less account with Google and Facebook (both offered): unlinking both at once must leave one. The
    first unlink is held after its lock; the second must wait for it and then see that only one way in is left."""
    app = make_app(**oidc_provider.settings(FACEBOOK_CLIENT_ID="fb-app", FACEBOOK_CLIENT_SECRET="fb-secret"))
    user = make_user()
    user.password_hash = None
    db.session.add_all([OAuthIdentity(user_id=user.id, provider="google", subject="g-1"),
                        OAuthIdentity(user_id=user.id, provider="facebook", subject="f-1")])
    db.session.commit()
    user_id = user.id
    pause = Pause()  # holds the first unlink after it counted the other ways in, before it deletes its row
    count, held = oauth_accounts._other_ways_in, pause.wrap(lambda: None)

    def counted_then_held(user, provider):
        result = count(user, provider)
        held()  # the first caller waits here for release()
        return result

    monkeypatch.setattr(oauth_accounts, "_other_ways_in", counted_then_held)

    def unlink(provider):
        def work():
            try:
                oauth_accounts.unlink_identity(db.session.get(User, user_id), provider)
                return "unlinked"
            except oauth_accounts.LastSignInMethod:
                return "refused"
        return work

    first, first_result = in_thread(app, unlink("google"))
    assert pause.reached.wait(10)
    second, second_result = in_thread(app, unlink("facebook"))
    second.join(1.5)
    pause.release()
    first.join(20)
    second.join(20)
    assert sorted(first_result + second_result) == ["refused", "unlinked"]
    db.session.expire_all()
    assert len(identities()) == 1


def test_signing_in_with_google_starts_a_new_session_and_ends_with_a_password_reset(client, app):
    client.get("/login")
    with client.session_transaction() as session:
        session["planted"] = "by someone else"  # e.g. a fixation attempt
    assert sign_in(client).status_code == 302
    with client.session_transaction() as session:
        assert "planted" not in session and session.get("_user_id")
    user = db.session.scalar(select(User).where(User.email == DEFAULT_PERSON["email"]))
    assert "has no password yet" in text_of(client.get("/profile/password"))
    services.set_password(user, "a-brand-new-passphrase")  # what the reset link does
    db.session.commit()
    g.pop("_login_user", None)
    assert client.get("/profile").status_code == 302  # the Google session ended with it
