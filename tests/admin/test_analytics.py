"""The dashboard's analytics page: figures of a known small data set in its tables and CSV downloads, who may
see it, bad dates flashed (never a 500), and searches counted per day in Redis for the conversion figure."""

from __future__ import annotations

import csv
import io
from datetime import date, timedelta

import pytest

from app.blueprints.bookings import services as bookings
from app.blueprints.payments import services as payments
from app.extensions import db
from app.models.base import utcnow
from app.money import to_major
from app.redis_client import get_redis
from app.search_stats import key_for

from ..support.factories import make_listing, make_user
from ..support.pages import text_of

TODAY = utcnow().date()
SOON = date.today() + timedelta(days=30)
URL = "/admin/analytics/"
RANGE = {"from": TODAY.isoformat(), "to": (TODAY + timedelta(days=59)).isoformat()}  # 60 days


def book(listing, nights: int, start: date, *, pay: bool = False):
    booking, _ = bookings.create_booking(guest=make_user(), listing_id=listing.id, check_in=start,
                                         check_out=start + timedelta(days=nights), guests=1)
    if pay:
        payments.create_payment(booking.guest, booking_id=booking.id, payment_method="pm_card_visa",
                                idempotency_key=f"k{booking.id}")
        db.session.refresh(booking)
    return booking


@pytest.fixture
def data_set(app, admin):
    """Lisbon: one listing booked 2 + 3 nights (the first paid); Porto: one listing, no bookings."""
    lisbon = make_listing(title="Lisbon loft", instant_book=True, min_nights=1,
                          address={"line1": "1 Rua", "city": "Lisbon", "country": "PT", "postal_code": "1000"},
                          latitude=38.72, longitude=-9.14, timezone="Europe/Lisbon")
    make_listing(title="Porto flat", address={"line1": "2 Rua", "city": "Porto", "country": "PT",
                                              "postal_code": "4000"}, latitude=41.15, longitude=-8.61)
    paid = book(lisbon, 2, SOON, pay=True)
    book(lisbon, 3, SOON + timedelta(days=5))
    return paid


def table_rows(client, name: str, params: dict) -> list[list[str]]:
    response = client.get(URL, query_string={**params, "format": "csv", "table": name})
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    return list(csv.reader(io.StringIO(response.get_data(as_text=True))))


def test_analytics_shows_the_figures_of_the_range_in_tables_and_csv(admin_client, data_set):
    page = admin_client.get(URL, query_string=RANGE)
    assert page.status_code == 200
    text = text_of(page)
    assert "Lisbon 5 60 8.3" in text and "Porto 0 60 0.0" in text  # nights booked / available / occupancy %
    assert "vendor/chartjs/chart.umd.js" in page.get_data(as_text=True)

    assert table_rows(admin_client, "bookings", RANGE)[:2] == [["Day", "Bookings", "Nights"],
                                                               [TODAY.isoformat(), "2", "5"]]
    assert table_rows(admin_client, "occupancy", RANGE)[1:] == [["Lisbon", "5", "60", "8.3"],
                                                                ["Porto", "0", "60", "0.0"]]
    assert table_rows(admin_client, "top_cities", RANGE)[1:] == [["Lisbon", "5", "2"]]
    listing_rows = table_rows(admin_client, "top_listings", RANGE)[1:]
    assert [row[1:] for row in listing_rows] == [["Lisbon loft", "Lisbon", "5"]]
    users = table_rows(admin_client, "new_users", RANGE)
    assert users[0] == ["Day", "guest", "host", "admin"] and users[1] == [TODAY.isoformat(), "2", "2", "1"]
    revenue = table_rows(admin_client, "revenue", RANGE)
    assert revenue[1][:3] == ["EUR", str(to_major(data_set.total_amount, "EUR")), "0.00"]
    assert table_rows(admin_client, "revenue_all_time", RANGE)[1:] == revenue[1:]


def test_revenue_of_a_range_holds_only_what_moved_on_its_days(admin_client, data_set):
    before = {"from": (TODAY - timedelta(days=40)).isoformat(), "to": (TODAY - timedelta(days=1)).isoformat()}
    assert table_rows(admin_client, "revenue", before)[1:] == []
    all_time = table_rows(admin_client, "revenue_all_time", before)[1:]
    assert all_time[0][:2] == ["EUR", str(to_major(data_set.total_amount, "EUR"))]


def test_a_stay_partly_inside_the_range_counts_only_its_nights_inside(admin_client, data_set):
    ends_mid_stay = {"from": TODAY.isoformat(), "to": (SOON + timedelta(days=5)).isoformat()}  # 1 of the 3 nights
    days = (SOON + timedelta(days=5) - TODAY).days + 1
    rows = table_rows(admin_client, "occupancy", ends_mid_stay)
    assert rows[1][:3] == ["Lisbon", "3", str(days)]


def test_a_long_range_is_shown_per_week(admin_client, data_set):
    long = {"from": (TODAY - timedelta(days=120)).isoformat(), "to": TODAY.isoformat()}
    rows = table_rows(admin_client, "bookings", long)
    assert rows[0][0] == "Week of"
    monday = max(TODAY - timedelta(days=TODAY.weekday()), TODAY - timedelta(days=120))
    assert [monday.isoformat(), "2", "5"] in rows and len(rows) <= 20


def test_the_default_range_is_the_last_30_days(admin_client):
    rows = table_rows(admin_client, "bookings", {})
    assert rows[1][0] == (TODAY - timedelta(days=29)).isoformat() and rows[-1][0] == TODAY.isoformat()


@pytest.mark.parametrize("params", [{"from": "yesterday", "to": "2026-13-40"}, {"from": "2026-05-01"},
                                    {"from": "2026-05-10", "to": "2026-05-01"},
                                    {"from": "2000-01-01", "to": "2026-01-01"}])
def test_bad_dates_are_flashed_and_the_default_range_shown(admin_client, params):
    response = admin_client.get(URL, query_string=params)
    assert response.status_code == 200
    text = text_of(response)
    assert "Showing the last 30 days" in text and f"{(TODAY - timedelta(days=29)).isoformat()} to" in text


def test_an_unknown_csv_table_is_not_found(admin_client):
    assert admin_client.get(URL, query_string={"format": "csv", "table": "nope"}).status_code == 404


@pytest.mark.parametrize("role", ["guest", "host"])
def test_analytics_sends_anonymous_to_login_and_refuses_guests_and_hosts(app, client, login, role):
    response = client.get(URL, query_string={"format": "csv", "table": "revenue"})
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    login(client, make_user(role=role))
    assert client.get(URL).status_code == 403
    assert client.get(URL, query_string={"format": "csv", "table": "revenue"}).status_code == 403


def test_searches_are_counted_per_day_and_feed_the_conversion(app, admin_client, data_set):
    redis = get_redis()
    if redis is None:
        pytest.skip("counting in Redis needs REDIS_URL; without it: tests/admin/test_search_counts.py")
    assert admin_client.get("/api/v1/search", query_string={"location": "Lisbon"}).status_code == 200
    assert admin_client.get("/api/v1/search", query_string={"location": "Lisbon"}).status_code == 200  # cached
    assert admin_client.get("/search", query_string={"location": "Porto"}).status_code == 200
    assert int(redis.get(key_for(TODAY))) == 3
    redis.set(key_for(TODAY), 8)
    rows = table_rows(admin_client, "conversion", RANGE)
    assert rows[0] == ["Day", "Searches", "Bookings", "Conversion %"]
    assert rows[1] == [TODAY.isoformat(), "8", "2", "25.0"]
