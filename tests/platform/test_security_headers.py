"""Security headers on every answer: CSP without inline script, nosniff, no framing, referrer and permissions
policies, HSTS in production only, and no Server header naming the software (#16 "Doors", defect 12)."""

from __future__ import annotations

import re

import pytest
import requests

from app import create_app
from config import ProductionConfig

from ..support.browser import live_server
from ..support.factories import make_listing

PAGES_AND_ANSWERS = ["/", "/login", "/search", "/api/v1/health", "/api/v1/search", "/api/v1/nowhere", "/nowhere",
                     "/static/css/abode.css", "/admin/"]


def directives(policy: str) -> dict[str, list[str]]:
    return {name: values for name, *values in (part.split() for part in policy.split(";") if part.strip())}


@pytest.mark.parametrize("path", PAGES_AND_ANSWERS)
def test_every_page_and_api_answer_carries_the_headers(client, path):
    response = client.get(path)
    headers = response.headers
    policy = directives(headers["Content-Security-Policy"])
    assert policy["default-src"] == ["'self'"] and policy["frame-ancestors"] == ["'none'"]
    assert "'unsafe-inline'" not in policy["script-src"] and "'unsafe-eval'" not in policy["script-src"]
    assert policy["style-src"] == ["'self'"] and policy["object-src"] == ["'none'"]
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["X-Frame-Options"] == "DENY"
    assert headers["Referrer-Policy"] == "strict-origin-when-cross-origin"
    assert "camera=()" in headers["Permissions-Policy"]
    assert "Strict-Transport-Security" not in headers  # outside production (plain http on a workstation)


def test_each_answer_has_its_own_nonce(client):
    first, second = (directives(client.get("/").headers["Content-Security-Policy"])["script-src"] for _ in range(2))
    assert [v for v in first if v.startswith("'nonce-")] != [v for v in second if v.startswith("'nonce-")]


def test_pages_have_no_inline_script_or_style_attribute(client, app):
    make_listing(title="Harbour loft")
    for path in ("/", "/login", "/register", "/search", "/listings/1"):
        html = client.get(path).get_data(as_text=True)
        for tag in re.findall(r"<script\b[^>]*>", html):
            assert "src=" in tag or 'type="application/json"' in tag, (path, tag)
        assert not re.search(r"<[^>]+\sstyle=", html), path
        assert not re.search(r"<[^>]+\son[a-z]+=", html), path


def test_stripe_origins_only_when_stripe_elements_is_on(make_app):
    plain = directives(make_app().test_client().get("/").headers["Content-Security-Policy"])
    assert not any("stripe" in value for values in plain.values() for value in values)
    stripe = make_app(PAYMENT_PROVIDER="stripe", STRIPE_SECRET_KEY="sk_test_x", STRIPE_PUBLISHABLE_KEY="pk_test_x")
    policy = directives(stripe.test_client().get("/").headers["Content-Security-Policy"])
    assert "https://js.stripe.com" in policy["script-src"] and "https://js.stripe.com" in policy["frame-src"]
    assert "https://api.stripe.com" in policy["connect-src"]


def test_production_adds_hsts(monkeypatch):
    url = "mysql+pymysql://u:p@db.internal/abode?charset=utf8mb4"
    monkeypatch.setenv("DATABASE_URL", url)
    app = create_app(ProductionConfig, SECRET_KEY="s" * 40, JWT_SECRET_KEY="j" * 40, DATA_ENCRYPTION_KEY="d" * 40,
                     SQLALCHEMY_DATABASE_URI=url)
    response = app.test_client().get("/static/css/abode.css")
    assert response.headers["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains"


def test_the_development_server_does_not_name_werkzeug_or_python(app):
    with live_server(app) as base:
        for path in ("/", "/api/v1/health", "/api/v1/nowhere"):
            server = requests.get(base + path, timeout=10).headers.get("Server", "")
            assert "werkzeug" not in server.lower() and "python" not in server.lower(), server
