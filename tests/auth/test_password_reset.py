"""Password reset by email, end to end through the outbox and a real SMTP server (aiosmtpd): the same 202 for any
email, the link in the email's text and HTML parts, the reset form it opens, one use, one hour, a hashed token, and
every older token and session refused afterwards; asking is rate-limited per email and per address."""

from __future__ import annotations

import re
from datetime import timedelta
from urllib.parse import urlsplit

from flask import g
from sqlalchemy import select, update

from app.blueprints.auth.services import start_session
from app.blueprints.notifications.delivery import deliver_due
from app.extensions import db
from app.models import OutboxEmail, PasswordReset, utcnow

from ..support.factories import DEFAULT_PASSWORD, make_user
from ..support.pages import submit, text_of
from ..support.smtp_server import smtp_server_fixture  # noqa: F401 (registers the smtp_server fixture)

SITE = "https://abode.test"
NEW_PASSWORD = "a-brand-new-passphrase"
LINK = re.compile(re.escape(SITE) + r"/password/reset/([A-Za-z0-9._-]+)")


def bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


def emailed_token(smtp_server, count: int = 1) -> str:
    """Deliver what the outbox owes and read the reset token from the newest email's link (both parts agree)."""
    deliver_due()
    email = smtp_server.wait_for(count)[-1]
    tokens = {LINK.search(email.part("plain")).group(1), LINK.search(email.part("html")).group(1)}
    assert len(tokens) == 1
    return tokens.pop()


def test_forgot_answers_202_for_any_email_and_emails_a_link_only_to_an_account(make_app, smtp_server):
    app = make_app(**smtp_server.settings(), SITE_URL=SITE)
    user = make_user(email="bo@example.com", name="Bo")
    client = app.test_client()
    assert client.post("/api/v1/password/forgot", json={"email": "nobody@example.com"}).status_code == 202
    assert client.post("/api/v1/password/forgot", json={"email": "BO@example.com"}).status_code == 202
    assert deliver_due().sent == 1
    (email,) = smtp_server.emails
    assert email.rcpt_tos == [user.email] and email.message["Subject"] == "Reset your Abode password"
    assert "List-Unsubscribe" not in email.message and "Hi Bo," in email.part("plain")
    token = LINK.search(email.part("plain")).group(1)
    stored = db.session.scalars(select(PasswordReset)).one()
    assert token not in {stored.token_hash, stored.nonce}  # the database never holds the token itself
    assert db.session.scalars(select(OutboxEmail)).one().kind == "password_reset"


def test_the_reset_ends_every_older_token_and_session_and_works_once(make_app, smtp_server, login):
    app = make_app(**smtp_server.settings(), SITE_URL=SITE)
    user = make_user(email="bo@example.com")
    browser = app.test_client()
    login(browser, user)
    old = start_session(user)
    api = app.test_client()
    api.post("/api/v1/password/forgot", json={"email": user.email})
    token = emailed_token(smtp_server)
    weak = api.post("/api/v1/password/reset", json={"token": token, "password": "short"})
    assert weak.status_code == 422 and "password" in weak.get_json()["error"]["fields"]  # the link still works
    assert api.post("/api/v1/password/reset", json={"token": token, "password": NEW_PASSWORD}).status_code == 204
    again = api.post("/api/v1/password/reset", json={"token": token, "password": "another-new-passphrase"})
    assert again.status_code == 422 and "token" in again.get_json()["error"]["fields"]
    g.pop("_login_user", None)
    assert browser.get("/profile").status_code == 302
    assert api.get("/api/v1/profile", headers=bearer(old["access_token"])).status_code == 401
    assert api.post("/api/v1/token/refresh", headers=bearer(old["refresh_token"])).status_code == 401
    assert api.post("/api/v1/login", json={"email": user.email, "password": NEW_PASSWORD}).status_code == 200
    assert api.post("/api/v1/login", json={"email": user.email, "password": DEFAULT_PASSWORD}).status_code == 401


def test_a_link_older_than_an_hour_or_mistyped_is_refused(make_app, smtp_server):
    app = make_app(**smtp_server.settings(), SITE_URL=SITE)
    user = make_user(email="bo@example.com")
    client = app.test_client()
    client.post("/api/v1/password/forgot", json={"email": user.email})
    token = emailed_token(smtp_server)
    for bad in (token[:-2] + "xx", "12.abc", "not-a-token", "9" * 40):
        answer = client.post("/api/v1/password/reset", json={"token": bad, "password": NEW_PASSWORD})
        assert answer.status_code == 422, bad
    db.session.execute(update(PasswordReset).values(expires_at=utcnow() - timedelta(seconds=1)))
    db.session.commit()
    assert client.post("/api/v1/password/reset", json={"token": token, "password": NEW_PASSWORD}).status_code == 422
    assert client.get(f"/password/reset/{token}").status_code == 422


def test_the_pages_forgot_link_form_email_and_reset_form(make_app, smtp_server):
    app = make_app(**smtp_server.settings(), SITE_URL=SITE)
    user = make_user(email="bo@example.com")
    browser = app.test_client()
    login_page = browser.get("/login").get_data(as_text=True)
    assert 'href="/password/forgot"' in login_page and "Forgot your password?" in login_page
    asked = submit(browser, "/password/forgot", {"email": user.email})
    assert asked.status_code == 302
    assert "a reset link is on its way" in text_of(browser.get(asked.headers["Location"]))
    deliver_due()
    link_path = urlsplit(LINK.search(smtp_server.wait_for(1)[-1].part("html")).group(0)).path
    form = browser.get(link_path)
    assert form.status_code == 200 and "Choose a new password" in text_of(form)
    differ = submit(browser, link_path, {"password": NEW_PASSWORD, "confirm": "something-else"})
    assert "The passwords differ." in text_of(differ)
    done = submit(browser, link_path, {"password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert done.status_code == 302 and done.headers["Location"].endswith("/login")
    assert submit(browser, "/login", {"email": user.email, "password": NEW_PASSWORD}).status_code == 302
    g.pop("_login_user", None)
    assert "not valid any more" in text_of(browser.get(link_path))


def test_asking_for_resets_is_limited_per_email_and_per_address(make_app):
    app = make_app(RATELIMIT_ENABLED=True, PASSWORD_RESET_EMAIL_LIMIT="2 per hour",
                   PASSWORD_RESET_ADDRESS_LIMIT="3 per hour")
    make_user(email="bo@example.com")
    client = app.test_client()

    def ask(email: str) -> int:
        return client.post("/api/v1/password/forgot", json={"email": email}).status_code

    assert [ask("bo@example.com"), ask("Bo@Example.com"), ask("bo@example.com")] == [202, 202, 429]
    limited = client.post("/api/v1/password/forgot", json={"email": "someone@example.com"})
    assert limited.status_code == 429 and int(limited.headers["Retry-After"]) > 0  # the address's fourth ask
    assert len(db.session.scalars(select(PasswordReset)).all()) == 2
