"""/api/v1 reviews: who may review which stay and until when, the host's one reply, the listing's rating (its page,
search sort=rating) right after, and an admin hiding a review."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import select

from app.blueprints.bookings import services as bookings
from app.blueprints.listings import services as listings
from app.blueprints.reviews import services
from app.blueprints.reviews.services import window_closes_at
from app.errors import NotFoundError, PermissionDenied
from app.extensions import db
from app.models import Listing, ListingPlace, Notification, Review

from ..support.factories import make_listing, make_user
from ..support.stays import completed_stay


@pytest.fixture
def stay(app):
    """(guest, host, listing, a completed booking that ended two days ago)."""
    host = make_user(role="host", name="Hana Host")
    listing = make_listing(host=host, min_nights=1, title="Canal loft")
    guest = make_user(name="Gus Guest")
    return guest, host, listing, completed_stay(guest, listing)


def post_review(client, headers, booking_id, **body):
    return client.post("/api/v1/reviews", json={"booking_id": booking_id, "rating": 5, "comment": "Lovely", **body},
                       headers=headers)


def rating_everywhere(client, listing_id: int) -> tuple:
    """(the Property's rating, search's rating of it, the row's score, its place rows' (score, count))."""
    prop = client.get(f"/api/v1/properties/{listing_id}").get_json()["rating"]
    found = client.get("/api/v1/search", query_string={"location": "Amsterdam", "sort": "rating"}).get_json()
    searched = next(item["rating"] for item in found["items"] if item["id"] == listing_id)
    db.session.expire_all()
    listing = db.session.get(Listing, listing_id)
    rows = {(p.rating_score, p.rating_count)
            for p in db.session.scalars(select(ListingPlace).where(ListingPlace.listing_id == listing_id))}
    return prop, searched, listing.rating_score, rows


def test_the_guest_reviews_a_completed_stay_and_every_rating_agrees_at_once(client, auth_headers, stay):
    guest, host, listing, booking = stay
    client.get("/api/v1/search", query_string={"location": "Amsterdam", "sort": "rating"})  # cached before
    response = post_review(client, auth_headers(guest), booking.id, rating=4, comment="  Great <b>view</b>  ",
                           cleanliness=5, value=None)
    assert response.status_code == 201
    review = response.get_json()
    assert review["booking_id"] == booking.id and review["property_id"] == listing.id
    assert review["author"] == {"id": guest.id, "name": "Gus Guest", "avatar_url": None,
                                "created_at": review["author"]["created_at"]}
    assert review["rating"] == 4 and review["comment"] == "Great <b>view</b>" and review["response"] is None
    assert review["sub_ratings"] == {"cleanliness": 5, "accuracy": None, "communication": None, "location": None,
                                     "check_in": None, "value": None}
    assert review["created_at"].endswith("Z")
    prop, searched, score, rows = rating_everywhere(client, listing.id)
    assert prop["average"] == 4.0 and prop["count"] == 1 and prop["sub_ratings"]["cleanliness"] == 5.0
    assert searched == {"average": 4.0, "count": 1}
    assert score == 400 and rows == {(400, 1)}
    assert client.get(f"/api/v1/reviews/{review['id']}").get_json() == review
    host_notes = db.session.scalars(select(Notification).where(Notification.type == "review_received")).all()
    assert [(n.user_id, n.data["review_id"], n.data["rating"]) for n in host_notes] == [(host.id, review["id"], 4)]


def test_search_sort_rating_puts_the_better_rated_listing_first_right_after(client, auth_headers, stay):
    guest, host, listing, booking = stay
    other = make_listing(host=host, min_nights=1, title="Second loft")
    other_booking = completed_stay(guest, other)
    assert post_review(client, auth_headers(guest), booking.id, rating=3).status_code == 201
    assert post_review(client, auth_headers(guest), other_booking.id, rating=5).status_code == 201
    found = client.get("/api/v1/search", query_string={"location": "Amsterdam", "sort": "rating"}).get_json()
    assert [item["id"] for item in found["items"]] == [other.id, listing.id]


@pytest.mark.parametrize("rating", [0, 6, "five", 4.5, True, None, "5", -1])
def test_a_rating_that_is_not_a_whole_number_from_1_to_5_is_422(client, auth_headers, stay, rating):
    guest, _host, listing, booking = stay
    response = post_review(client, auth_headers(guest), booking.id, rating=rating)
    assert response.status_code == 422
    assert response.get_json()["error"]["code"] == "validation_error"
    assert "rating" in response.get_json()["error"]["fields"]
    assert db.session.scalar(select(Review.id)) is None
    assert client.get(f"/api/v1/properties/{listing.id}").get_json()["rating"]["count"] == 0


def test_a_missing_rating_a_bad_sub_rating_and_a_long_comment_name_their_fields(client, auth_headers, stay):
    guest, _host, _listing, booking = stay
    headers = auth_headers(guest)
    missing = client.post("/api/v1/reviews", json={"booking_id": booking.id}, headers=headers)
    assert missing.status_code == 422 and "rating" in missing.get_json()["error"]["fields"]
    bad_sub = post_review(client, headers, booking.id, location=9)
    assert bad_sub.status_code == 422 and "location" in bad_sub.get_json()["error"]["fields"]
    long = post_review(client, headers, booking.id, comment="x" * 2001)
    assert long.status_code == 422 and "comment" in long.get_json()["error"]["fields"]
    assert post_review(client, headers, booking.id, comment="  " + "x" * 2000 + "  ").status_code == 201


def test_bad_bodies_are_400_or_422_never_500(client, auth_headers, stay):
    guest, *_ = stay
    headers = auth_headers(guest)
    assert client.post("/api/v1/reviews", data="{", content_type="application/json", headers=headers).status_code == 400
    assert client.post("/api/v1/reviews", json=[1], headers=headers).status_code == 422
    for booking_id in ("1", None, 0, 2**40):
        response = post_review(client, headers, booking_id)
        assert response.status_code == 422 and "booking_id" in response.get_json()["error"]["fields"]


def test_only_the_guest_reviews_and_only_once(client, auth_headers, stay):
    guest, host, _listing, booking = stay
    assert post_review(client, {}, booking.id).status_code == 401
    for other in (host, make_user()):
        response = post_review(client, auth_headers(other), booking.id)
        assert response.status_code == 403 and response.get_json()["error"]["code"] == "forbidden"
    assert post_review(client, auth_headers(guest), 99999).status_code == 404
    assert post_review(client, auth_headers(guest), booking.id).status_code == 201
    again = post_review(client, auth_headers(guest), booking.id, rating=1)
    assert again.status_code == 409 and again.get_json()["error"]["code"] == "already_reviewed"
    assert db.session.get(Listing, booking.listing_id).rating_count == 1


def test_a_stay_not_completed_is_422_whatever_its_dates(client, auth_headers, app):
    listing = make_listing(min_nights=1)
    guest = make_user()
    over_but_confirmed = completed_stay(guest, listing, complete=False)  # check-out passed, jobs not run yet
    response = post_review(client, auth_headers(guest), over_but_confirmed.id)
    assert response.status_code == 422 and "booking_id" in response.get_json()["error"]["fields"]
    canceled, _ = bookings.create_booking(guest=guest, listing_id=listing.id, check_in=listing_day(30),
                                          check_out=listing_day(33), guests=1)
    bookings.cancel_booking(canceled.id, guest)
    assert post_review(client, auth_headers(guest), canceled.id).status_code == 422


def listing_day(days: int) -> date:
    return date.today() + timedelta(days=days)


def test_the_window_closes_14_days_after_check_out_at_11_listing_time(client, auth_headers, stay):
    guest, _host, listing, booking = stay
    closes = window_closes_at(booking)
    assert closes.hour == 10 and closes.date() == booking.check_out + timedelta(days=14)  # 11:00 Amsterdam, CET
    with pytest.raises(services.ValidationFailed):
        services.create_review(author=guest, booking_id=booking.id, rating=5, now=closes + timedelta(seconds=1))
    assert services.create_review(author=guest, booking_id=booking.id, rating=5, now=closes).id
    late = completed_stay(guest, make_listing(min_nights=1), ended_days_ago=15)
    response = post_review(client, auth_headers(guest), late.id)
    assert response.status_code == 422 and "booking_id" in response.get_json()["error"]["fields"]


def test_a_listings_reviews_are_paginated_newest_first_and_a_deleted_listing_is_404(client, auth_headers, stay):
    guest, host, listing, booking = stay
    others = [make_user() for _ in range(2)]
    first = post_review(client, auth_headers(guest), booking.id, rating=2).get_json()
    stays = [completed_stay(user, listing, ended_days_ago=6 + 2 * n, nights=1) for n, user in enumerate(others)]
    later = [services.create_review(author=user, booking_id=stays[n].id, rating=4,
                                    now=first_time(first) + timedelta(minutes=n + 1))
             for n, user in enumerate(others)]
    page = client.get(f"/api/v1/properties/{listing.id}/reviews", query_string={"per_page": 2}).get_json()
    assert [item["id"] for item in page["items"]] == [later[1].id, later[0].id]
    assert (page["page"], page["per_page"], page["total"], page["pages"]) == (1, 2, 3, 2)
    second = client.get(f"/api/v1/properties/{listing.id}/reviews?page=2&per_page=2").get_json()
    assert [item["id"] for item in second["items"]] == [first["id"]]
    assert client.get(f"/api/v1/properties/{listing.id}/reviews?per_page=500").get_json()["per_page"] == 100
    assert client.get(f"/api/v1/properties/{listing.id}/reviews?page=x").status_code == 400
    assert client.get("/api/v1/properties/99999/reviews").status_code == 404
    listings.delete_listing(db.session.get(Listing, listing.id), actor=host)
    assert client.get(f"/api/v1/properties/{listing.id}/reviews").status_code == 404


def first_time(review: dict) -> datetime:
    return datetime.fromisoformat(review["created_at"].removesuffix("Z"))


def test_the_host_replies_once_and_the_guest_is_told(client, auth_headers, stay):
    guest, host, _listing, booking = stay
    review = post_review(client, auth_headers(guest), booking.id).get_json()
    url = f"/api/v1/reviews/{review['id']}/response"
    assert client.post(url, json={"body": "Thanks"}).status_code == 401
    for other in (guest, make_user(role="host")):
        assert client.post(url, json={"body": "Thanks"}, headers=auth_headers(other)).status_code == 403
    for body in ({}, {"body": ""}, {"body": "   "}, {"body": "x" * 2001}, {"body": 5}):
        response = client.post(url, json=body, headers=auth_headers(host))
        assert response.status_code == 422 and "body" in response.get_json()["error"]["fields"], body
    answered = client.post(url, json={"body": "  Thanks for staying!  "}, headers=auth_headers(host))
    assert answered.status_code == 201
    assert answered.get_json()["response"]["body"] == "Thanks for staying!"
    again = client.post(url, json={"body": "Again"}, headers=auth_headers(host))
    assert again.status_code == 409 and again.get_json()["error"]["code"] == "already_responded"
    missing = client.post("/api/v1/reviews/99999/response", json={"body": "x"}, headers=auth_headers(host))
    assert missing.status_code == 404
    notes = db.session.scalars(select(Notification).where(Notification.type == "review_response")).all()
    assert [(n.user_id, n.data["review_id"]) for n in notes] == [(guest.id, review["id"])]


def test_an_admin_hides_a_review_it_leaves_lists_and_ratings_and_unhide_restores(client, auth_headers, stay):
    guest, host, listing, booking = stay
    other = make_user()
    kept = services.create_review(author=other, booking_id=completed_stay(other, listing, ended_days_ago=5).id,
                                  rating=2)
    review = post_review(client, auth_headers(guest), booking.id, rating=5, accuracy=4).get_json()
    admin = make_user(role="admin")
    with pytest.raises(PermissionDenied):
        services.hide_review(review["id"], admin=host, reason="no")
    with pytest.raises(NotFoundError):
        services.hide_review(99999, admin=admin)
    assert rating_everywhere(client, listing.id)[2] == 350
    services.hide_review(review["id"], admin=admin, reason="Off-topic")
    services.hide_review(review["id"], admin=admin, reason="twice changes nothing")
    prop, searched, score, rows = rating_everywhere(client, listing.id)
    assert prop["average"] == 2.0 and prop["count"] == 1 and prop["sub_ratings"]["accuracy"] is None
    assert searched == {"average": 2.0, "count": 1} and score == 200 and rows == {(200, 1)}
    listed = client.get(f"/api/v1/properties/{listing.id}/reviews").get_json()
    assert [item["id"] for item in listed["items"]] == [kept.id]
    assert client.get(f"/api/v1/reviews/{review['id']}").status_code == 404
    assert client.post(f"/api/v1/reviews/{review['id']}/response", json={"body": "x"},
                       headers=auth_headers(host)).status_code == 404
    hidden = db.session.get(Review, review["id"])
    assert hidden.hidden_by_id == admin.id and hidden.hidden_reason == "Off-topic"
    with pytest.raises(PermissionDenied):
        services.unhide_review(review["id"], admin=guest)
    services.unhide_review(review["id"], admin=admin)
    prop, searched, score, rows = rating_everywhere(client, listing.id)
    assert prop["count"] == 2 and prop["average"] == 3.5 and searched["count"] == 2 and rows == {(350, 2)}
    assert len(client.get(f"/api/v1/properties/{listing.id}/reviews").get_json()["items"]) == 2
