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
from sqlalchemy import column, create_engine, make_url, select, table, text

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
        upgrade(directory=MIGRATIONS)  # through 0009 too: the keys survive the rename to listings
        row = db.session.execute(text("SELECT amenity_mask, held_from, held_nights FROM listings WHERE id = 1")).one()
        assert (row.amenity_mask, str(row.held_from), row.held_nights) == (
            (1 << (wifi - 1)) | (1 << (pool - 1)), (today - timedelta(days=1)).isoformat(), "00101")
        places = db.session.execute(text(
            "SELECT kind, place, listing_id, max_guests, price_usd_micros, rank_score, held_nights"
            " FROM listing_places ORDER BY kind, place")).all()
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


def test_0009_renames_properties_to_listings_and_keeps_their_rows(empty_database_url):
    app = create_app(TestingConfig, SQLALCHEMY_DATABASE_URI=empty_database_url)
    with app.app_context():
        upgrade(directory=MIGRATIONS, revision="0008")
        now = datetime.now().replace(microsecond=0)
        db.session.execute(text(
            "INSERT INTO users (id, email, name, role, is_active, preferred_currency, preferred_language, created_at,"
            " updated_at) VALUES (1, 'h@example.com', 'H', 'host', 1, 'USD', 'en', :now, :now)"), {"now": now})
        db.session.execute(text(
            "INSERT INTO properties (id, host_id, status, title, description, property_type, address_line1, city,"
            " state, country, postal_code, timezone, currency, price_per_night_amount, cleaning_fee_amount,"
            " max_guests, bedrooms, beds, bathrooms, min_nights, max_nights, cancellation_policy, instant_book,"
            " rating_count, rating_sum, price_usd_micros, rating_score, rank_score, held_from, held_nights,"
            " amenity_mask, created_at, updated_at) VALUES (5, 1, 'active', 'Loft', '', 'house', '', 'Porto', 'Norte',"
            " 'PT', '', 'Europe/Lisbon', 'EUR', 9000, 0, 4, 1, 1, 1, 1, 30, 'flexible', 1, 0, 0, 97826087, 0, 5,"
            " '2027-01-01', '011', 1, :now, :now)"), {"now": now})
        wifi = db.session.scalar(select(Amenity.id).where(Amenity.code == "wifi"))
        db.session.execute(text("INSERT INTO property_amenities (property_id, amenity_id) VALUES (5, :a)"), {"a": wifi})
        images = table("property_images", *(column(name) for name in (
            "id", "property_id", "key", "thumbnail_key", "position", "width", "height", "created_at")))  # `key`: quoted
        db.session.execute(images.insert().values(id=3, property_id=5, key="k.jpg", thumbnail_key="t.jpg", position=0,
                                                  width=10, height=10, created_at=now))
        db.session.execute(text(
            "INSERT INTO property_places (kind, place, property_id, property_type, max_guests, min_nights, max_nights,"
            " instant_book, price_usd_micros, amenity_mask, rank_score, rating_score, rating_count, held_from,"
            " held_nights) VALUES ('city', 'porto', 5, 'house', 4, 1, 30, 1, 97826087, 1, 5, 0, 0, '2027-01-01',"
            " '011')"))
        db.session.execute(text(
            "INSERT INTO bookings (id, property_id, guest_id, check_in, check_out, nights, guests, status, currency,"
            " nightly_amount, cleaning_fee_amount, service_fee_amount, total_amount, cancellation_policy,"
            " instant_book, paid_amount, timezone, created_at, updated_at) VALUES (7, 5, 1, '2027-01-02',"
            " '2027-01-04', 2, 1, 'confirmed', 'EUR', 18000, 0, 2160, 20160, 'flexible', 1, 20160, 'Europe/Lisbon',"
            " :now, :now)"), {"now": now})
        db.session.execute(text("INSERT INTO night_holds (property_id, night, booking_id) VALUES"
                                " (5, '2027-01-02', 7), (5, '2027-01-03', 7), (5, '2027-02-01', NULL)"))
        db.session.execute(text("INSERT INTO night_prices (property_id, night, amount) VALUES (5, '2027-01-02', 9500)"))
        db.session.commit()

        def rows(listings, pictures, amenities, places, ref):
            return {
                "listing": tuple(db.session.execute(text(f"SELECT id, title, held_nights FROM {listings}")).one()),
                "image": tuple(db.session.execute(text(f"SELECT id, {ref}, thumbnail_key FROM {pictures}")).one()),
                "amenity": tuple(db.session.execute(text(f"SELECT {ref}, amenity_id FROM {amenities}")).one()),
                "place": tuple(db.session.execute(text(f"SELECT kind, place, {ref} FROM {places}")).one()),
                "booking": tuple(db.session.execute(text(f"SELECT id, {ref}, total_amount FROM bookings")).one()),
                "holds": [tuple(row) for row in db.session.execute(text(
                    f"SELECT {ref}, night, booking_id FROM night_holds ORDER BY night"))],
                "prices": [tuple(row) for row in db.session.execute(text(f"SELECT {ref}, amount FROM night_prices"))],
            }

        before = rows("properties", "property_images", "property_amenities", "property_places", "property_id")
        db.session.remove()
        upgrade(directory=MIGRATIONS, revision="0009")
        after = rows("listings", "listing_images", "listing_amenities", "listing_places", "listing_id")
        assert after == before
        assert [str(night) for _l, night, _b in after["holds"]] == ["2027-01-02", "2027-01-03", "2027-02-01"]
        assert after["booking"] == (7, 5, 20160) and after["holds"][0][2] == 7
        db.session.remove()
        downgrade(directory=MIGRATIONS, revision="0008")
        assert rows("properties", "property_images", "property_amenities", "property_places", "property_id") == before
        db.session.remove()
        downgrade(directory=MIGRATIONS, revision="base")
        db.engine.dispose()
