"""The committed migrations build exactly the schema the models describe, on an empty database."""

from __future__ import annotations

import os
import uuid
from datetime import date, datetime, timedelta
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

MIGRATIONS = str(Path(__file__).resolve().parents[2] / "migrations")


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


def test_0004_fills_the_search_keys_of_existing_listings(empty_database_url):
    app = create_app(TestingConfig, SQLALCHEMY_DATABASE_URI=empty_database_url)
    today = date.today()
    with app.app_context():
        upgrade(directory=MIGRATIONS, revision="0003")
        now = datetime.now().replace(microsecond=0)
        db.session.execute(text(
            "INSERT INTO users (id, email, name, role, is_active, preferred_currency, preferred_language, created_at,"
            " updated_at) VALUES (1, 'h@example.com', 'H', 'host', 1, 'USD', 'en', :now, :now)"), {"now": now})
        for listing_id, status in ((1, "active"), (2, "deleted")):
            db.session.execute(text(
                "INSERT INTO properties (id, host_id, status, title, description, property_type, address_line1, city,"
                " state, country, postal_code, timezone, currency, price_per_night_amount, cleaning_fee_amount,"
                " max_guests, bedrooms, beds, bathrooms, min_nights, max_nights, cancellation_policy, instant_book,"
                " rating_count, rating_sum, price_usd_micros, rating_score, rank_score, created_at, updated_at)"
                " VALUES (:id, 1, :status, 'T', '', 'house', '', 'Porto', 'Norte', 'PT', '', 'UTC', 'EUR', 9000, 0,"
                " 4, 1, 1, 1, 2, 30, 'flexible', 1, 0, 0, 97826087, 0, 5, :now, :now)"),
                {"id": listing_id, "status": status, "now": now})
        wifi, pool = (db.session.scalar(select(Amenity.id).where(Amenity.code == code)) for code in ("wifi", "pool"))
        db.session.execute(text("INSERT INTO property_amenities VALUES (1, :a), (1, :b)"), {"a": wifi, "b": pool})
        db.session.execute(text("INSERT INTO night_holds (property_id, night) VALUES (1, :a), (1, :b), (1, :old)"),
                           {"a": today + timedelta(days=1), "b": today + timedelta(days=3),
                            "old": today - timedelta(days=5)})
        db.session.commit()
        upgrade(directory=MIGRATIONS)
        row = db.session.execute(text("SELECT amenity_mask, held_from, held_nights FROM properties WHERE id = 1")).one()
        assert (row.amenity_mask, str(row.held_from), row.held_nights) == (
            (1 << (wifi - 1)) | (1 << (pool - 1)), (today - timedelta(days=1)).isoformat(), "00101")
        places = db.session.execute(text(
            "SELECT kind, place, property_id, max_guests, price_usd_micros, rank_score, held_nights"
            " FROM property_places ORDER BY kind, place")).all()
        assert [tuple(place) for place in places] == [
            ("city", "porto", 1, 4, 97826087, 5, "00101"), ("code", "pt", 1, 4, 97826087, 5, "00101"),
            ("country", "portugal", 1, 4, 97826087, 5, "00101"),
            ("state", "norte", 1, 4, 97826087, 5, "00101")]  # not the deleted one
        db.session.remove()
        downgrade(directory=MIGRATIONS, revision="base")
        db.engine.dispose()


def test_0007_keeps_the_provider_keys_rows_were_sent_with_and_freezes_the_time_zone(empty_database_url):
    app = create_app(TestingConfig, SQLALCHEMY_DATABASE_URI=empty_database_url)
    with app.app_context():
        upgrade(directory=MIGRATIONS, revision="0006")
        now = datetime.now().replace(microsecond=0)
        db.session.execute(text(
            "INSERT INTO users (id, email, name, role, is_active, preferred_currency, preferred_language, created_at,"
            " updated_at) VALUES (1, 'h@example.com', 'H', 'host', 1, 'USD', 'en', :now, :now)"), {"now": now})
        db.session.execute(text(
            "INSERT INTO properties (id, host_id, status, title, description, property_type, address_line1, city,"
            " state, country, postal_code, timezone, currency, price_per_night_amount, cleaning_fee_amount,"
            " max_guests, bedrooms, beds, bathrooms, min_nights, max_nights, cancellation_policy, instant_book,"
            " rating_count, rating_sum, price_usd_micros, rating_score, rank_score, held_nights, amenity_mask,"
            " created_at, updated_at) VALUES (1, 1, 'active', 'T', '', 'house', '', 'Porto', 'Norte', 'PT', '',"
            " 'America/Adak', 'EUR', 9000, 0, 4, 1, 1, 1, 1, 30, 'flexible', 1, 0, 0, 97826087, 0, 5, '', 0, :now,"
            " :now)"), {"now": now})
        db.session.execute(text(
            "INSERT INTO bookings (id, property_id, guest_id, check_in, check_out, nights, guests, status, currency,"
            " nightly_amount, cleaning_fee_amount, service_fee_amount, total_amount, cancellation_policy,"
            " instant_book, paid_amount, created_at, updated_at) VALUES (7, 1, 1, '2027-01-02', '2027-01-03', 1, 1,"
            " 'confirmed', 'EUR', 9000, 0, 1080, 10080, 'flexible', 1, 10080, :now, :now)"), {"now": now})
        db.session.execute(text(
            "INSERT INTO payments (id, booking_id, guest_id, provider, amount, currency, status, refunded_amount,"
            " key_hash, request_hash, created_at, updated_at) VALUES (3, 7, 1, 'stripe', 10080, 'EUR', 'succeeded',"
            " 0, 'k', 'r', :now, :now)"), {"now": now})
        db.session.commit()
        upgrade(directory=MIGRATIONS)
        assert db.session.execute(text("SELECT provider_key FROM payments")).scalar() == "abode-payment-3"
        assert db.session.execute(text("SELECT timezone FROM bookings")).scalar() == "America/Adak"
        db.session.remove()
        downgrade(directory=MIGRATIONS, revision="base")
        db.engine.dispose()
