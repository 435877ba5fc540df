"""Searches counted per day in the database when the app runs without Redis (search_days), feeding the analytics'
search-to-booking conversion on the embedded defaults; parallel searches lose no count."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlalchemy import select

from app import search_stats
from app.extensions import db
from app.models import SearchDay
from app.models.base import utcnow
from app.redis_client import get_redis

from ..support.factories import make_listing
from ..support.threads import in_thread
from .test_analytics import RANGE, URL, book, table_rows

TODAY = utcnow().date()


@pytest.fixture
def app(make_app):
    """The app as the embedded defaults run it: no REDIS_URL."""
    return make_app(REDIS_URL=None, SQLALCHEMY_ENGINE_OPTIONS={"pool_size": 12, "max_overflow": 4})


def counted() -> dict:
    db.session.expire_all()
    return dict(db.session.execute(select(SearchDay.day, SearchDay.searches)).all())


def test_without_redis_each_answered_search_is_counted_in_the_database(app, admin_client):
    assert get_redis() is None
    make_listing(title="Canal loft", min_nights=1)
    assert admin_client.get("/api/v1/search", query_string={"location": "Amsterdam"}).status_code == 200
    assert admin_client.get("/api/v1/search", query_string={"location": "Amsterdam"}).status_code == 200  # cached
    assert admin_client.get("/search", query_string={"location": "Lisbon"}).status_code == 200
    assert admin_client.get("/api/v1/search", query_string={"guests": "many"}).status_code in (400, 422)  # unanswered
    assert counted() == {TODAY: 3}


def test_the_conversion_table_reads_the_database_counts(app, admin_client):
    listing = make_listing(title="Canal loft", min_nights=1)
    book(listing, 2, TODAY + timedelta(days=30))
    book(listing, 2, TODAY + timedelta(days=40))
    db.session.add_all([SearchDay(day=TODAY, searches=8), SearchDay(day=TODAY - timedelta(days=400), searches=99)])
    db.session.commit()
    rows = table_rows(admin_client, "conversion", RANGE)
    assert rows[0] == ["Day", "Searches", "Bookings", "Conversion %"]
    assert rows[1] == [TODAY.isoformat(), "8", "2", "25.0"]
    assert rows[2][:3] == [(TODAY + timedelta(days=1)).isoformat(), "0", "0"]
    assert "could not be read" not in admin_client.get(URL, query_string=RANGE).get_data(as_text=True)


def test_searches_on_answers_every_day_asked_for(app):
    db.session.add(SearchDay(day=TODAY, searches=5))
    db.session.commit()
    days = [TODAY - timedelta(days=1), TODAY]
    assert search_stats.searches_on(days) == {days[0]: 0, TODAY: 5}
    assert search_stats.searches_on([]) == {}


def test_parallel_searches_lose_no_count(app):
    if db.engine.dialect.name == "sqlite":
        pytest.skip("writers queue on SQLite's file lock; the race is MariaDB's")
    start = threading.Barrier(8)

    def search_once() -> None:
        start.wait(10)  # the first row of the day is inserted by all eight at once
        search_stats.count_search()

    threads = [in_thread(app, search_once)[0] for _ in range(8)]
    for thread in threads:
        thread.join(20)
    assert counted() == {TODAY: 8}
