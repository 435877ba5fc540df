"""The committed migrations build exactly the schema the models describe, on an empty database."""

from __future__ import annotations

import os
import uuid
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade
from sqlalchemy import create_engine, make_url, select, text

from app import create_app
from app.extensions import db
from app.models import Amenity
from config import TestingConfig

MIGRATIONS = str(Path(__file__).resolve().parent.parent / "migrations")


@pytest.fixture
def empty_database_url(tmp_path):
    url = make_url(os.environ["TEST_DATABASE_URL"])
    if url.get_backend_name() == "sqlite":
        yield f"sqlite:///{tmp_path / 'migrated.db'}"
        return
    name = f"abode_migrations_{uuid.uuid4().hex[:8]}"  # concurrent runs must not drop each other's database
    server = create_engine(url.set(database=None))
    with server.begin() as conn:
        conn.execute(text(f"DROP DATABASE IF EXISTS {name}"))
        conn.execute(text(f"CREATE DATABASE {name} CHARACTER SET utf8mb4"))
    yield url.set(database=name).render_as_string(hide_password=False)
    with server.begin() as conn:
        conn.execute(text(f"DROP DATABASE IF EXISTS {name}"))
    server.dispose()


def test_upgrade_on_empty_database_matches_models(empty_database_url):
    app = create_app(TestingConfig, SQLALCHEMY_DATABASE_URI=empty_database_url)
    with app.app_context():
        upgrade(directory=MIGRATIONS)
        with db.engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"compare_type": True})
            diff = compare_metadata(context, db.metadata)
        assert diff == [], f"models and migrations differ: {diff}"
        codes = set(db.session.scalars(select(Amenity.code)))
        assert {"wifi", "pool", "pets_allowed", "kitchen", "parking", "air_conditioning", "washer", "tv"} <= codes
        db.session.remove()
        downgrade(directory=MIGRATIONS, revision="base")
        db.engine.dispose()
