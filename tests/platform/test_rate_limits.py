"""Rate limits on sign-in (run with limits on, against the real Redis when REDIS_URL is set)."""

from __future__ import annotations

from ..support.factories import DEFAULT_PASSWORD, make_user
from ..support.pages import submit


def test_login_failures_for_one_email_get_429_with_retry_after(make_app):
    app = make_app(RATELIMIT_ENABLED=True, LOGIN_FAILURE_LIMIT="3 per 15 minutes")
    make_user(email="bo@example.com")
    client = app.test_client()
    bad = {"email": "bo@example.com", "password": "wrong-password"}
    statuses = [client.post("/api/v1/login", json=bad).status_code for _ in range(3)]
    assert statuses == [401, 401, 401]
    blocked = client.post("/api/v1/login", json={"email": "BO@example.com", "password": DEFAULT_PASSWORD})
    assert blocked.status_code == 429
    assert blocked.get_json()["error"]["code"] == "rate_limited"
    assert 60 < int(blocked.headers["Retry-After"]) <= 900
    other = client.post("/api/v1/login", json={"email": "other@example.com", "password": "wrong-password"})
    assert other.status_code == 401  # another email is not blocked by bo's failures


def test_successful_logins_are_not_counted(make_app):
    app = make_app(RATELIMIT_ENABLED=True, LOGIN_FAILURE_LIMIT="2 per minute")
    make_user(email="bo@example.com")
    client = app.test_client()
    good = {"email": "bo@example.com", "password": DEFAULT_PASSWORD}
    assert [client.post("/api/v1/login", json=good).status_code for _ in range(4)] == [200] * 4


def test_login_failures_from_one_address_get_429(make_app):
    app = make_app(RATELIMIT_ENABLED=True, LOGIN_ADDRESS_FAILURE_LIMIT="4 per minute")
    client = app.test_client()
    for n in range(4):
        response = client.post("/api/v1/login", json={"email": f"u{n}@example.com", "password": "x" * 12})
        assert response.status_code == 401
    assert client.post("/api/v1/login", json={"email": "new@example.com", "password": "x" * 12}).status_code == 429


def test_login_page_failures_are_limited_too(make_app):
    app = make_app(RATELIMIT_ENABLED=True, LOGIN_FAILURE_LIMIT="2 per minute")
    make_user(email="bo@example.com")
    client = app.test_client()
    for _ in range(2):
        assert submit(client, "/login", {"email": "bo@example.com", "password": "wrong-password"}).status_code == 200
    response = submit(client, "/login", {"email": "bo@example.com", "password": DEFAULT_PASSWORD})
    assert response.status_code == 429 and "Too many attempts" in response.get_data(as_text=True)


def test_login_limit_is_per_client_behind_a_proxy(make_app):
    app = make_app(RATELIMIT_ENABLED=True, LOGIN_ADDRESS_FAILURE_LIMIT="2 per minute", PROXY_COUNT=1)
    client = app.test_client()

    def attempt(address: str, n: int) -> int:
        return client.post("/api/v1/login", json={"email": f"u{n}@example.com", "password": "x" * 12},
                           headers={"X-Forwarded-For": address}).status_code

    assert [attempt("203.0.113.5", n) for n in range(3)] == [401, 401, 429]
    assert attempt("198.51.100.7", 9) == 401  # another client behind the same balancer is not locked out


def test_email_spellings_share_one_failure_budget(make_app):
    app = make_app(RATELIMIT_ENABLED=True, LOGIN_FAILURE_LIMIT="2 per minute")
    client = app.test_client()
    for email in ("Bo@Example.com", " bo@example.COM "):
        assert client.post("/api/v1/login", json={"email": email, "password": "x" * 12}).status_code == 401
    assert client.post("/api/v1/login", json={"email": "bo@example.com", "password": "x" * 12}).status_code == 429


def test_refused_provider_tokens_and_failed_logins_share_one_budget_per_address(make_app, oidc_provider):
    """Two wrong passwords and one forged Google token spend a budget of three: then even a good token is refused
    from that address, until the window passes. Good tokens before that did not use the budget up."""
    app = make_app(RATELIMIT_ENABLED=True, LOGIN_ADDRESS_FAILURE_LIMIT="3 per 15 minutes",
                   **oidc_provider.settings())
    make_user(email="bo@example.com")
    client = app.test_client()
    for _ in range(4):  # good tokens are given back
        assert client.post("/api/v1/auth/oauth/google", json={"id_token": oidc_provider.id_token()}).status_code in (
            200, 201)
    for _ in range(2):
        assert client.post("/api/v1/login", json={"email": "bo@example.com", "password": "wrong-password"}
                           ).status_code == 401
    forged = oidc_provider.id_token(signed_by="forged")
    assert client.post("/api/v1/auth/oauth/google", json={"id_token": forged}).status_code == 401
    blocked = client.post("/api/v1/auth/oauth/google", json={"id_token": oidc_provider.id_token()})
    assert blocked.status_code == 429 and blocked.get_json()["error"]["code"] == "rate_limited"
    assert client.post("/api/v1/login", json={"email": "bo@example.com", "password": DEFAULT_PASSWORD}
                       ).status_code == 429
