"""Fixtures: one fresh schema per run (MariaDB when TEST_DATABASE_URL is set), clean tables per test, real Redis.
Under pytest-xdist each worker has its own database and Redis db (tests/support/workers.py)."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable, Iterator

import pytest
from flask import Flask
from flask.testing import FlaskClient

# Without TEST_DATABASE_URL the suite runs on an SQLite file of its own (an in-memory one would vanish per app).
if not os.environ.get("TEST_DATABASE_URL"):
    os.environ["TEST_DATABASE_URL"] = f"sqlite:///{tempfile.mkdtemp(prefix='abode-test-')}/test.db"
os.environ["APP_CONFIG"] = "testing"
# A development app a test builds keeps the keys it generates out of the checkout's instance/ folder.
os.environ.setdefault("DEV_SECRETS_FILE", f"{tempfile.mkdtemp(prefix='abode-dev-keys-')}/secrets.json")
from .support.workers import ensure_database, use_test_resources  # noqa: E402

use_test_resources()  # before config.py reads the environment

from app import create_app  # noqa: E402
from app.extensions import db  # noqa: E402
from app.models import Amenity  # noqa: E402
from app.models.listing import DEFAULT_AMENITIES  # noqa: E402
from config import TestingConfig  # noqa: E402

from .support.cleanup import empty_tables  # noqa: E402
from .support.facebook_stub import facebook_stub_fixture  # noqa: E402, F401 (registers the facebook_stub fixture)
from .support.factories import DEFAULT_PASSWORD  # noqa: E402
from .support.oidc_provider import oidc_provider_fixture  # noqa: E402, F401 (registers the oidc_provider fixture)
from .support.pages import submit  # noqa: E402
from .support.paypal_stub import paypal_stub_fixture  # noqa: E402, F401 (registers the paypal_stub fixture)
from .support.stripe_stub import stripe_stub_fixture  # noqa: E402, F401 (registers the stripe_stub fixture)


@pytest.fixture(scope="session", autouse=True)
def _schema(tmp_path_factory) -> Iterator[None]:
    """Drop and create every table once per run, and load the amenity catalogue."""
    ensure_database(TestingConfig.SQLALCHEMY_DATABASE_URI)
    app = create_app(TestingConfig, UPLOAD_FOLDER=str(tmp_path_factory.mktemp("uploads")))
    with app.app_context():
        db.drop_all()
        db.create_all()
        db.session.add_all(Amenity(code=code, name=name) for code, name in DEFAULT_AMENITIES)
        db.session.commit()
    yield
    with app.app_context():
        db.drop_all()
        db.engine.dispose()


def _clean(app: Flask) -> None:
    with app.app_context():
        empty_tables()


@pytest.fixture
def make_app(tmp_path) -> Iterator[Callable[..., Flask]]:
    """Build an app with config overrides, its context pushed; tables and Redis are cleaned afterwards."""
    made: list[tuple[Flask, object]] = []

    def factory(**overrides) -> Flask:
        overrides.setdefault("UPLOAD_FOLDER", str(tmp_path / "uploads"))
        app = create_app(TestingConfig, **overrides)
        if not made:
            _clean(app)
        ctx = app.app_context()
        ctx.push()
        made.append((app, ctx))
        return app

    yield factory
    for _app, ctx in reversed(made):
        db.session.remove()
        ctx.pop()
    if made:
        _clean(made[0][0])
        for made_app, _ctx in made:
            with made_app.app_context():
                db.engine.dispose()


@pytest.fixture
def app(make_app) -> Flask:
    return make_app()


@pytest.fixture
def mariadb_app(make_app) -> Flask:
    """An app with a pool big enough for a few threads at once, for tests of row locks and races: MariaDB only
    (SQLite has no row locks and enforces no foreign keys here), skipped elsewhere."""
    app = make_app(SQLALCHEMY_ENGINE_OPTIONS={"pool_size": 5, "max_overflow": 2, "pool_pre_ping": True})
    if db.engine.dialect.name not in ("mysql", "mariadb"):
        pytest.skip("runs against MariaDB (set TEST_DATABASE_URL)")
    return app


@pytest.fixture
def client(app) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def login() -> Callable:
    """login(client, user, password=...) signs in through the HTML form."""

    def do_login(client: FlaskClient, user, password: str = DEFAULT_PASSWORD):
        response = submit(client, "/login", {"email": user.email, "password": password})
        assert response.status_code == 302, response.get_data(as_text=True)[:500]
        return response

    return do_login


@pytest.fixture
def auth_headers(app) -> Callable[..., dict]:
    """auth_headers(user) -> {"Authorization": "Bearer <access token>"} of a fresh session."""
    from app.blueprints.auth.services import start_session

    def headers(user) -> dict:
        return {"Authorization": f"Bearer {start_session(user)['access_token']}"}

    return headers
