"""Sign-in throttling with limits on (the real Redis when REDIS_URL is set): attempts are charged before the password
is checked, so concurrency cannot overshoot; the API and the log-in page share one budget per email; a spent budget
holds the email for growing periods, but not a client that signed in to that account before."""

from __future__ import annotations

import threading

from flask import g
from limits import parse

from app.blueprints.auth import services
from app.blueprints.auth.throttle import DEVICE_COOKIE
from app.extensions import limiter

from ..support.factories import DEFAULT_PASSWORD, make_user
from ..support.pages import submit, text_of

WRONG = {"email": "bo@example.com", "password": "wrong-password"}
RIGHT = {"email": "bo@example.com", "password": DEFAULT_PASSWORD}


def counting_verifications(monkeypatch) -> list[int]:
    """Count the password hashes the app verifies (the real verification still runs)."""
    calls: list[int] = []
    real = services.verify_password

    def counted(password_hash, password):
        calls.append(1)
        return real(password_hash, password)

    monkeypatch.setattr(services, "verify_password", counted)
    return calls


def test_parallel_wrong_guesses_verify_at_most_the_limits_number_of_passwords(make_app, monkeypatch):
    app = make_app(RATELIMIT_ENABLED=True, LOGIN_FAILURE_LIMIT="3 per 15 minutes")
    make_user(email="bo@example.com")
    verified = counting_verifications(monkeypatch)
    guesses = 12
    start, statuses = threading.Barrier(guesses), []

    def guess() -> None:
        client = app.test_client()
        start.wait(10)
        statuses.append(client.post("/api/v1/login", json=WRONG).status_code)

    threads = [threading.Thread(target=guess) for _ in range(guesses)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert sorted(statuses) == [401] * 3 + [429] * (guesses - 3)
    assert len(verified) == 3


def test_the_api_and_the_login_page_share_one_budget_per_email(make_app):
    app = make_app(RATELIMIT_ENABLED=True, LOGIN_FAILURE_LIMIT="4 per 15 minutes")
    make_user(email="bo@example.com")
    api, browser = app.test_client(), app.test_client()
    assert [api.post("/api/v1/login", json=WRONG).status_code for _ in range(2)] == [401, 401]
    assert [submit(browser, "/login", WRONG).status_code for _ in range(2)] == [200, 200]
    refused = api.post("/api/v1/login", json=RIGHT)
    assert refused.status_code == 429 and int(refused.headers["Retry-After"]) > 0
    g.pop("csrf_token", None)  # the app context the test pushed caches the first browser's CSRF token
    page = submit(app.test_client(), "/login", RIGHT)
    assert page.status_code == 429 and "Too many attempts" in text_of(page) and "Retry-After" in page.headers


def let_the_hold_pass(email: str) -> None:
    """What the clock does when a hold and its spent budget run out (both keys expire)."""
    limiter.limiter.storage.clear(f"abode:limits/login-hold/{email}")
    limiter.limiter.clear(parse("2 per 10 minutes"), "login-email", email)


def test_each_spent_budget_holds_the_email_twice_as_long_as_the_one_before(make_app):
    app = make_app(RATELIMIT_ENABLED=True, LOGIN_FAILURE_LIMIT="2 per 10 minutes")
    make_user(email="bo@example.com")
    client = app.test_client()
    holds = []
    for _round in range(3):
        assert [client.post("/api/v1/login", json=WRONG).status_code for _ in range(2)] == [401, 401]
        held = client.post("/api/v1/login", json=RIGHT)  # even the right password waits
        assert held.status_code == 429
        holds.append(int(held.headers["Retry-After"]))
        let_the_hold_pass("bo@example.com")
    assert 590 <= holds[0] <= 600 and 1190 <= holds[1] <= 1200 and 2390 <= holds[2] <= 2400
    assert client.post("/api/v1/login", json=RIGHT).status_code == 200


def test_a_client_that_signed_in_before_is_not_held_by_strangers_guesses(make_app):
    app = make_app(RATELIMIT_ENABLED=True, LOGIN_FAILURE_LIMIT="3 per 15 minutes")
    make_user(email="bo@example.com")
    owner, owners_browser, stranger = app.test_client(), app.test_client(), app.test_client()
    assert owner.post("/api/v1/login", json=RIGHT).status_code == 200
    assert submit(owners_browser, "/login", RIGHT).status_code == 302
    assert owner.get_cookie(DEVICE_COOKIE) is not None and owners_browser.get_cookie(DEVICE_COOKIE) is not None
    assert [stranger.post("/api/v1/login", json=WRONG).status_code for _ in range(4)] == [401] * 3 + [429]
    assert stranger.post("/api/v1/login", json=RIGHT).status_code == 429  # an unknown device is held
    assert owner.post("/api/v1/login", json=RIGHT).status_code == 200
    owners_browser.delete_cookie("session")  # signed out, the device cookie kept
    g.pop("_login_user", None)
    g.pop("csrf_token", None)
    assert submit(owners_browser, "/login", RIGHT).status_code == 302


def test_a_forged_device_cookie_counts_as_an_unknown_device(make_app):
    app = make_app(RATELIMIT_ENABLED=True, LOGIN_FAILURE_LIMIT="2 per 15 minutes")
    make_user(email="bo@example.com")
    stranger = app.test_client()
    stranger.set_cookie(DEVICE_COOKIE, '{"d": "x", "u": [1]}')
    assert [stranger.post("/api/v1/login", json=WRONG).status_code for _ in range(3)] == [401, 401, 429]
