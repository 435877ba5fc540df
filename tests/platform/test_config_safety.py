"""Built-in keys: only the tests, `make run` and an explicit APP_CONFIG=development get past them, and the
development config replaces them with keys of its own (#16 defect 10)."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from app import create_app
from app.extensions import db
from config import DEV_DATA_KEY, DEV_JWT_SECRET, DEV_SECRET, DevelopmentConfig, TestingConfig

from ..support.factories import DEFAULT_PASSWORD, make_user
from ..support.pages import submit

REPO = Path(__file__).resolve().parents[2]


def test_wsgi_without_app_config_signs_with_keys_of_its_own_not_the_committed_ones(tmp_path):
    """What gunicorn wsgi:app does on a server where nobody set APP_CONFIG: development, with generated keys."""
    env = {key: value for key, value in os.environ.items()
           if key not in {"APP_CONFIG", "SECRET_KEY", "JWT_SECRET_KEY", "DATA_ENCRYPTION_KEY", "DATABASE_URL"}}
    env["DEV_SECRETS_FILE"] = str(tmp_path / "secrets.json")
    script = ("import wsgi; c = wsgi.app.config; "
              f"print(c['ENV_NAME'], c['SECRET_KEY'] == {DEV_SECRET!r}, c['JWT_SECRET_KEY'] == {DEV_JWT_SECRET!r}, "
              f"c['DATA_ENCRYPTION_KEY'].split(',')[0] == {DEV_DATA_KEY!r})")
    started = subprocess.run([sys.executable, "-c", script], cwd=REPO, env=env, capture_output=True, text=True,
                             timeout=120)
    assert started.returncode == 0, started.stderr[-2000:]
    assert started.stdout.split()[-4:] == ["development", "False", "False", "False"]
    assert (tmp_path / "secrets.json").exists()


@pytest.fixture
def development_app(make_app, tmp_path):
    """A development app on the test database, with its secrets file in tmp_path."""
    make_app()  # empties the tables
    app = create_app(DevelopmentConfig, DEV_SECRETS_FILE=str(tmp_path / "secrets.json"), REDIS_URL=None,
                     SQLALCHEMY_DATABASE_URI=TestingConfig.SQLALCHEMY_DATABASE_URI, UPLOAD_FOLDER=str(tmp_path),
                     RATELIMIT_ENABLED=False, MAIL_TRANSPORT="file", MAIL_FILE_DIR=str(tmp_path / "mail"))
    yield app
    with app.app_context():
        db.engine.dispose()


def test_development_generates_its_own_keys_once_readable_by_the_owner_only(development_app, tmp_path):
    secrets_file = tmp_path / "secrets.json"
    assert stat.S_IMODE(secrets_file.stat().st_mode) == 0o600
    config = development_app.config
    assert config["SECRET_KEY"] != DEV_SECRET and config["JWT_SECRET_KEY"] != DEV_JWT_SECRET
    assert config["DATA_ENCRYPTION_KEY"].split(",")[1] == DEV_DATA_KEY  # old dev data stays readable
    again = create_app(DevelopmentConfig, DEV_SECRETS_FILE=str(secrets_file), REDIS_URL=None,
                       SQLALCHEMY_DATABASE_URI=TestingConfig.SQLALCHEMY_DATABASE_URI)
    assert again.config["SECRET_KEY"] == config["SECRET_KEY"]  # the next start keeps the same keys


def test_token_and_session_signed_with_the_committed_keys_sign_in_nowhere(app, development_app):
    """The testing app signs with the committed keys, exactly what an attacker who read config.py can forge."""
    make_user(email="bo@example.com")
    forger = app.test_client()
    token = forger.post("/api/v1/login", json={"email": "bo@example.com", "password": DEFAULT_PASSWORD}).get_json()
    bearer = {"Authorization": f"Bearer {token['access_token']}"}
    assert forger.get("/api/v1/profile", headers=bearer).status_code == 200
    victim = development_app.test_client()
    assert victim.get("/api/v1/profile", headers=bearer).status_code == 401

    assert submit(forger, "/login", {"email": "bo@example.com", "password": DEFAULT_PASSWORD}).status_code == 302
    cookie = forger.get_cookie("session")
    victim.set_cookie("session", cookie.value)
    assert victim.get("/profile").status_code == 302  # back to the login page: the forged session is ignored
