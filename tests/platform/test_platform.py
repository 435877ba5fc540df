"""Cross-cutting behaviour: error bodies, request ids, health, discovery, OpenAPI, config safety."""

from __future__ import annotations

import json

import pytest

from app import create_app
from config import ProductionConfig, TestingConfig


def test_unknown_api_route_is_404_json(client):
    response = client.get("/api/v1/nope")
    assert response.status_code == 404
    assert response.get_json()["error"]["code"] == "not_found"


def test_wrong_method_is_405_json_with_allow(client):
    response = client.delete("/api/v1/health")
    assert response.status_code == 405
    assert response.get_json()["error"]["code"] == "method_not_allowed"
    assert "GET" in response.headers["Allow"]


def test_oversized_body_is_413_json(client, app):
    app.config["MAX_CONTENT_LENGTH"] = 1024
    response = client.post("/api/v1/register", data="x" * 5000, content_type="application/json")
    assert response.status_code == 413
    assert response.get_json()["error"]["code"] == "payload_too_large"


def test_unexpected_exception_is_500_json_without_traceback(make_app):
    app = make_app(PROPAGATE_EXCEPTIONS=False)

    @app.get("/api/v1/_boom")
    def boom():
        raise RuntimeError("secret internals")

    response = app.test_client().get("/api/v1/_boom")
    assert response.status_code == 500
    error = response.get_json()["error"]
    assert error["code"] == "internal_error" and error["request_id"] == response.headers["X-Request-ID"]
    assert "secret internals" not in response.get_data(as_text=True)
    assert "Traceback" not in response.get_data(as_text=True)


def test_browser_404_is_html_page(client):
    response = client.get("/no-such-page")
    assert response.status_code == 404
    assert "text/html" in response.content_type and "find that page" in response.get_data(as_text=True)


def test_request_id_generated_or_echoed(client):
    generated = client.get("/api/v1/health").headers["X-Request-ID"]
    assert len(generated) >= 16
    assert client.get("/", headers={"X-Request-ID": "abc-123"}).headers["X-Request-ID"] == "abc-123"
    forged = client.get("/", headers={"X-Request-ID": "<script>" + "x" * 300}).headers["X-Request-ID"]
    assert "<" not in forged and len(forged) <= 128


def test_log_lines_carry_request_id_as_json(make_app, capsys):
    app = make_app(LOG_FORMAT="json")
    app.test_client().get("/api/v1/health", headers={"X-Request-ID": "trace-me-42"})
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.startswith("{")]
    access = [entry for entry in lines if entry["logger"] == "abode.access"]
    assert access and access[-1]["request_id"] == "trace-me-42" and access[-1]["status"] == 200


def test_health_ok(client, app):
    response = client.get("/api/v1/health")
    assert response.status_code == 200
    redis = "ok" if app.config["REDIS_URL"] else "not_configured"
    assert response.get_json() == {"status": "ok", "database": "ok", "cache": "ok", "redis": redis}


def test_health_503_when_database_down(app):
    down = create_app(TestingConfig, SQLALCHEMY_DATABASE_URI="mysql+pymysql://nobody@127.0.0.1:1/none",
                      SQLALCHEMY_ENGINE_OPTIONS={"connect_args": {"connect_timeout": 1}})
    response = down.test_client().get("/api/v1/health")
    assert response.status_code == 503
    assert response.get_json()["database"] == "error"


def test_amenities_lists_catalogue(client):
    codes = {a["code"] for a in client.get("/api/v1/amenities").get_json()}
    assert {"wifi", "pool", "pets_allowed", "kitchen", "parking", "air_conditioning", "washer", "tv"} <= codes


def test_currencies_list_minor_units(client):
    currencies = {c["code"]: c["minor_units"] for c in client.get("/api/v1/currencies").get_json()}
    assert currencies["USD"] == 2 and currencies["EUR"] == 2 and currencies["GBP"] == 2 and currencies["JPY"] == 0


def test_openapi_documents_every_api_route(client, app):
    spec = client.get("/api/openapi.json").get_json()
    assert spec["openapi"].startswith("3.")
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith("/api/v1"):
            view = app.view_functions[rule.endpoint]
            assert getattr(view, "openapi", None), f"{rule.rule} has no @api_doc"
            path = rule.rule.replace("<int:", "{").replace("<", "{").replace(">", "}")
            assert path in spec["paths"], path
    register = spec["paths"]["/api/v1/register"]["post"]
    assert "201" in register["responses"] and "409" in register["responses"]
    assert register["requestBody"]["content"]["application/json"]["schema"]


def test_production_refuses_default_secrets(monkeypatch):
    monkeypatch.delenv("DATABASE_URL", raising=False)
    with pytest.raises(RuntimeError, match="SECRET_KEY"):
        create_app(ProductionConfig)


def test_production_refuses_sqlite(monkeypatch):
    monkeypatch.setenv("DATABASE_URL", "sqlite:///prod.db")
    with pytest.raises(RuntimeError, match="DATABASE_URL"):
        create_app(ProductionConfig, SECRET_KEY="s" * 40, JWT_SECRET_KEY="j" * 40, DATA_ENCRYPTION_KEY="d" * 40,
                   SQLALCHEMY_DATABASE_URI="sqlite:///prod.db")


def test_production_starts_with_real_settings(monkeypatch):
    monkeypatch.setenv("DATABASE_URL", "mysql+pymysql://u:p@db.internal/abode?charset=utf8mb4")
    app = create_app(ProductionConfig, SECRET_KEY="s" * 40, JWT_SECRET_KEY="j" * 40, DATA_ENCRYPTION_KEY="d" * 40,
                     SQLALCHEMY_DATABASE_URI="mysql+pymysql://u:p@db.internal/abode?charset=utf8mb4")
    assert app.config["SESSION_COOKIE_SECURE"] is True



def test_ids_beyond_int_range_are_404_not_500(client):
    assert client.get("/api/v1/properties/9223372036854775808").status_code == 404
    assert client.get("/api/v1/properties/2147483648").status_code == 404
