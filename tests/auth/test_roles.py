"""The role decorators: JSON 401/403 on the API, login redirect or 403 page in the browser."""

from __future__ import annotations

import pytest
from flask import Blueprint

from app.authz import admin_required, host_required

from ..support.factories import make_user


@pytest.fixture
def guarded(make_app):
    app = make_app()
    api = Blueprint("probe_api", __name__)
    pages = Blueprint("probe", __name__)

    @api.get("/api/v1/_hosts-only")
    @host_required
    def api_hosts():
        return {"ok": True}

    @pages.get("/_admins-only")
    @admin_required
    def page_admins():
        return "admins"

    app.register_blueprint(api)
    app.register_blueprint(pages)
    return app


@pytest.mark.parametrize("role, status", [("guest", 403), ("host", 200), ("admin", 200)])
def test_api_role_guard_by_role(guarded, auth_headers, role, status):
    response = guarded.test_client().get("/api/v1/_hosts-only", headers=auth_headers(make_user(role=role)))
    assert response.status_code == status
    if status == 403:
        assert response.get_json()["error"]["code"] == "forbidden"


def test_api_role_guard_anonymous_is_401_not_403(guarded):
    response = guarded.test_client().get("/api/v1/_hosts-only")
    assert response.status_code == 401 and response.get_json()["error"]["code"] == "unauthorized"


def test_page_role_guard_anonymous_redirects_to_login(guarded):
    response = guarded.test_client().get("/_admins-only")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_page_role_guard_non_admin_gets_403_page(guarded, login):
    client = guarded.test_client()
    login(client, make_user(role="host"))
    response = client.get("/_admins-only")
    assert response.status_code == 403 and "text/html" in response.content_type


def test_page_role_guard_admin_passes(guarded, login):
    client = guarded.test_client()
    login(client, make_user(role="admin"))
    assert client.get("/_admins-only").get_data(as_text=True) == "admins"
