"""Races on MariaDB: many sessions booking the same and overlapping nights at once never share a night."""

from __future__ import annotations

import threading
from collections import Counter
from datetime import date, timedelta

import pytest
from sqlalchemy import text

from app.blueprints.bookings import services
from app.blueprints.calendar import services as calendar
from app.blueprints.calendar.ranges import NightRange
from app.blueprints.listings import services as listings
from app.errors import Conflict
from app.extensions import db
from app.models import Listing, User

from ..support.factories import make_listing, make_user

THREADS = 48
ROUNDS = 4


@pytest.fixture
def race_app(make_app):
    app = make_app(SQLALCHEMY_ENGINE_OPTIONS={"pool_size": THREADS + 4, "max_overflow": 8, "pool_pre_ping": True})
    if db.engine.dialect.name not in ("mysql", "mariadb"):
        pytest.skip("the race runs against MariaDB (set TEST_DATABASE_URL)")
    return app


def _race(app, requests: list[tuple[dict, dict]]) -> list[tuple[int, dict]]:
    """Send every (headers, body) POST /api/v1/bookings at the same moment, one thread and session each."""
    barrier, results = threading.Barrier(len(requests)), [None] * len(requests)

    def run(index: int, headers: dict, body: dict) -> None:
        client = app.test_client()
        barrier.wait()
        response = client.post("/api/v1/bookings", json=body, headers=headers)
        results[index] = (response.status_code, response.get_json())

    threads = [threading.Thread(target=run, args=(n, *request)) for n, request in enumerate(requests)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return results


def audit() -> tuple[list, list]:
    """(pairs of live bookings of one listing that share a night, live bookings not holding exactly their nights)"""
    live = "('pending', 'confirmed')"
    shared = db.session.execute(text(
        f"SELECT a.id, b.id FROM bookings a JOIN bookings b ON a.listing_id = b.listing_id AND a.id < b.id"
        f" AND a.check_in < b.check_out AND b.check_in < a.check_out"
        f" WHERE a.status IN {live} AND b.status IN {live}")).all()
    wrong = db.session.execute(text(
        f"SELECT b.id FROM bookings b LEFT JOIN night_holds h ON h.booking_id = b.id"
        f" AND h.listing_id = b.listing_id AND h.night >= b.check_in AND h.night < b.check_out"
        f" WHERE b.status IN {live} GROUP BY b.id, b.nights HAVING COUNT(h.night) <> b.nights")).all()
    return shared, wrong


def test_concurrent_bookings_never_share_a_night(race_app, auth_headers):
    listing = make_listing(min_nights=1, max_nights=30, max_guests=4)
    guests = [auth_headers(make_user(email=f"racer{n}@example.com")) for n in range(THREADS)]
    for round_ in range(ROUNDS):
        start = date.today() + timedelta(days=30 + 40 * round_)

        def stay(offset: int, nights: int, start: date = start) -> dict:
            check_in = start + timedelta(days=offset)
            return {"property_id": listing.id, "check_in": check_in.isoformat(),
                    "check_out": (check_in + timedelta(days=nights)).isoformat(), "guests": 2}

        # three different stays that all take the third night (so exactly one can win), and two stays further
        # on that many guests ask for at once
        shapes = [stay(0, 3), stay(1, 3), stay(2, 4), stay(10, 2), stay(20, 5)]
        bodies = [shapes[n % len(shapes)] for n in range(THREADS)]
        results = _race(race_app, list(zip(guests, bodies, strict=True)))
        statuses = Counter(status for status, _body in results)
        assert set(statuses) <= {201, 409}, statuses  # no 500, nothing else
        assert all(body["error"]["code"] == "dates_unavailable" for status, body in results if status == 409)
        won = [body for status, body in results if status == 201]
        by_dates = Counter((body["check_in"], body["check_out"]) for body in won)
        assert all(count == 1 for count in by_dates.values()), by_dates  # identical asks: one winner each
        assert sum(1 for body in won if body["check_in"] < stay(6, 0)["check_in"]) == 1  # the overlapping three
        assert by_dates[(stay(10, 2)["check_in"], stay(10, 2)["check_out"])] == 1
        assert by_dates[(stay(20, 5)["check_in"], stay(20, 5)["check_out"])] == 1
        db.session.rollback()
        assert audit() == ([], [])


def test_parallel_retries_with_one_idempotency_key_make_one_booking(race_app, auth_headers):
    listing = make_listing(min_nights=1, max_nights=30)
    headers = {**auth_headers(make_user(email="retrier@example.com")), "Idempotency-Key": "same-click"}
    check_in = date.today() + timedelta(days=12)
    body = {"property_id": listing.id, "check_in": check_in.isoformat(),
            "check_out": (check_in + timedelta(days=2)).isoformat(), "guests": 1}
    results = _race(race_app, [(headers, body)] * 24)
    assert {status for status, _body in results} == {201}
    assert len({body["id"] for _status, body in results}) == 1
    db.session.rollback()
    assert db.session.execute(text("SELECT COUNT(*) FROM bookings")).scalar() == 1


def _elsewhere(app, work) -> None:
    """Run `work` in another thread with its own session, committed before this returns."""
    def run() -> None:
        with app.app_context():
            work()
            db.session.remove()

    thread = threading.Thread(target=run)
    thread.start()
    thread.join(timeout=60)


def test_delete_sees_a_booking_committed_after_the_listing_was_read(race_app):
    listing = make_listing(min_nights=1)
    guest = make_user(email="late@example.com")
    listing_id, guest_id, host = listing.id, guest.id, listing.host
    loaded = listings.get_listing(listing_id)  # this session has read: REPEATABLE READ would keep this view
    check_in = date.today() + timedelta(days=5)

    def book() -> None:
        services.create_booking(guest=db.session.get(User, guest_id), listing_id=listing_id, check_in=check_in,
                                check_out=check_in + timedelta(days=2), guests=1)

    _elsewhere(race_app, book)
    with pytest.raises(Conflict) as refused:
        listings.delete_listing(loaded, actor=host)
    assert refused.value.code == "has_active_bookings"


def test_booking_pays_the_night_price_committed_after_the_listing_was_read(race_app):
    listing = make_listing(min_nights=1, price_per_night={"amount": 10000, "currency": "EUR"}, cleaning_fee=None)
    guest = make_user(email="payer@example.com")
    listing_id, host_id = listing.id, listing.host_id
    listings.get_listing(listing_id)
    night = date.today() + timedelta(days=8)

    def raise_price() -> None:
        calendar.set_availability(db.session.get(Listing, listing_id), actor=db.session.get(User, host_id),
                                  ranges=[NightRange(night, night + timedelta(days=1),
                                                     price={"amount": 50000, "currency": "EUR"})])

    _elsewhere(race_app, raise_price)
    booking, _ = services.create_booking(guest=guest, listing_id=listing_id, check_in=night,
                                         check_out=night + timedelta(days=1), guests=1)
    assert booking.nightly_amount == 50000
