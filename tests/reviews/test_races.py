"""Races on MariaDB: two reviews of one stay at once, two replies to one review at once; one wins, the other is
told why, and the listing's rating counts the review once."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import Listing, ListingPlace, Notification, Review

from ..support.factories import make_listing, make_user
from ..support.stays import completed_stay

TRIES = 8


@pytest.fixture
def race_app(make_app):
    app = make_app(SQLALCHEMY_ENGINE_OPTIONS={"pool_size": 12, "max_overflow": 4, "pool_pre_ping": True})
    if db.engine.dialect.name not in ("mysql", "mariadb"):
        pytest.skip("the race runs against MariaDB (set TEST_DATABASE_URL)")
    return app


def at_once(app, requests: list[tuple[str, dict, dict]]) -> list[tuple[int, dict]]:
    """POST every (url, headers, body) at the same moment, one thread, client and session each."""
    barrier, results = threading.Barrier(len(requests)), [None] * len(requests)

    def run(index: int, url: str, headers: dict, body: dict) -> None:
        client = app.test_client()
        barrier.wait()
        response = client.post(url, json=body, headers=headers)
        results[index] = (response.status_code, response.get_json())

    threads = [threading.Thread(target=run, args=(n, *request)) for n, request in enumerate(requests)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results


def test_two_reviews_of_one_stay_at_once_one_201_one_409_counted_once(race_app, auth_headers):
    host = make_user(role="host")
    for attempt in range(TRIES):
        listing = make_listing(host=host, min_nights=1)
        guest = make_user()
        booking = completed_stay(guest, listing)
        headers = auth_headers(guest)
        results = at_once(race_app, [("/api/v1/reviews", headers, {"booking_id": booking.id, "rating": r})
                                     for r in (2, 5)])
        statuses = sorted(status for status, _body in results)
        assert statuses == [201, 409], (attempt, results)
        assert [body["error"]["code"] for status, body in results if status == 409] == ["already_reviewed"]
        db.session.expire_all()
        row = db.session.get(Listing, listing.id)
        winner = next(body for status, body in results if status == 201)
        assert (row.rating_count, row.rating_sum, row.rating_score) == (1, winner["rating"], winner["rating"] * 100)
        assert db.session.scalar(select(func.count()).select_from(Review)
                                 .where(Review.booking_id == booking.id)) == 1
        copies = {(p.rating_score, p.rating_count) for p in
                  db.session.scalars(select(ListingPlace).where(ListingPlace.listing_id == listing.id))}
        assert copies == {(winner["rating"] * 100, 1)}
        assert db.session.scalar(select(func.count()).select_from(Notification).where(
            Notification.type == "review_received", Notification.user_id == host.id)) == attempt + 1


def test_two_replies_at_once_only_one_is_kept(race_app, auth_headers):
    host = make_user(role="host")
    headers = auth_headers(host)
    for attempt in range(TRIES):
        guest = make_user()
        listing = make_listing(host=host, min_nights=1)
        review = race_app.test_client().post(
            "/api/v1/reviews", json={"booking_id": completed_stay(guest, listing).id, "rating": 4},
            headers=auth_headers(guest)).get_json()
        url = f"/api/v1/reviews/{review['id']}/response"
        results = at_once(race_app, [(url, headers, {"body": text}) for text in ("First", "Second")])
        assert sorted(status for status, _body in results) == [201, 409], (attempt, results)
        loser = next(body for status, body in results if status == 409)
        assert loser["error"]["code"] == "already_responded"
        winner = next(body for status, body in results if status == 201)
        db.session.expire_all()
        assert db.session.get(Review, review["id"]).response_body == winner["response"]["body"]
        assert db.session.scalar(select(func.count()).select_from(Notification).where(
            Notification.type == "review_response", Notification.user_id == guest.id)) == 1
