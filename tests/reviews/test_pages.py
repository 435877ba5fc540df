"""Review pages with CSRF on: the Trips page's button, the review form, the reviews on the listing page, and the
host's Reviews page with its reply form."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import Listing, Notification, Review

from ..support.factories import make_listing, make_user
from ..support.pages import another_client, page_of, submit, text_of
from ..support.stays import completed_stay

SCRIPT = '<script>alert("x")</script>'


@pytest.fixture
def host(app):
    return make_user(role="host", name="Hana Host")


@pytest.fixture
def listing(host):
    return make_listing(host, title="Canal loft", min_nights=1)


@pytest.fixture
def guest(app):
    return make_user(name="Gus Guest")


def test_trips_offer_a_review_only_while_the_window_is_open_and_not_yet_reviewed(client, login, guest, listing):
    open_stay = completed_stay(guest, listing)
    closed_stay = completed_stay(guest, make_listing(min_nights=1, title="Old barn"), ended_days_ago=20)
    unfinished = completed_stay(guest, make_listing(min_nights=1, title="Late hut"), ended_days_ago=3,
                                complete=False)
    login(client, guest)
    past = page_of(client.get("/trips?tab=past"))
    assert f'href="/bookings/{open_stay.id}/review"' in past
    assert f'/bookings/{closed_stay.id}/review' not in past and f'/bookings/{unfinished.id}/review' not in past
    assert past.count("Leave a review") == 1 and "Reviewed" not in past
    closed = client.get(f"/bookings/{closed_stay.id}/review")
    assert closed.status_code == 200 and "reviews close 14 days after check-out" in text_of(closed)
    assert 'name="rating"' not in page_of(closed)

    response = submit(client, f"/bookings/{open_stay.id}/review", {"rating": "4", "comment": "Nice"})
    assert response.status_code == 302
    past = page_of(client.get("/trips?tab=past"))
    assert "Leave a review" not in past and "Reviewed" in past
    again = client.get(f"/bookings/{open_stay.id}/review")
    assert "already been reviewed" in text_of(again) and 'name="rating"' not in page_of(again)


def test_a_review_left_through_the_form_shows_escaped_on_the_listing_page(client, login, guest, listing, host):
    stay = completed_stay(guest, listing)
    login(client, guest)
    response = submit(client, f"/bookings/{stay.id}/review",
                      {"rating": "5", "cleanliness": "4", "value": "", "comment": f"  Loved it {SCRIPT}  "})
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/listings/{listing.id}#reviews")
    review = db.session.scalar(select(Review))
    assert (review.rating, review.cleanliness, review.value) == (5, 4, None)
    assert review.comment == f"Loved it {SCRIPT}"
    page = client.get(f"/listings/{listing.id}")
    html = page_of(page)
    assert 'id="reviews"' in html and SCRIPT not in html
    assert "Loved it &lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in html
    text = text_of(page)
    assert "5.00 · 1 review" in text and "Gus Guest" in text and "Cleanliness 4.0" in text
    assert db.session.get(Listing, listing.id).rating_count == 1
    note = db.session.scalar(select(Notification).where(Notification.type == "review_received"))
    assert note.user_id == host.id and note.data["url"] == "/host/reviews"


def test_the_form_shows_its_errors_and_saves_nothing(client, login, guest, listing):
    stay = completed_stay(guest, listing)
    login(client, guest)
    url = f"/bookings/{stay.id}/review"
    for data in ({"comment": "no rating"}, {"rating": "9"}, {"rating": "abc"}, {"rating": "3", "location": "7"},
                 {"rating": "3", "comment": "x" * 2001}):
        response = submit(client, url, data)
        assert response.status_code == 200, data
        assert "is-invalid" in page_of(response) or "invalid-feedback" in page_of(response), data
    assert db.session.scalar(select(Review)) is None


def test_only_the_guest_sees_the_review_form_and_only_hosts_the_reviews_page(client, login, guest, listing, host):
    stay = completed_stay(guest, listing)
    assert client.get(f"/bookings/{stay.id}/review").status_code == 302  # to the login page
    login(client, guest)
    assert client.get("/host/reviews").status_code == 403
    assert client.get("/bookings/99999/review").status_code == 404
    host_client = another_client(client, login, host)
    assert host_client.get(f"/bookings/{stay.id}/review").status_code == 403


def test_the_host_replies_from_the_reviews_page_and_the_reply_shows_under_the_review(client, login, guest,
                                                                                    listing, host):
    stay = completed_stay(guest, listing)
    login(client, guest)
    submit(client, f"/bookings/{stay.id}/review", {"rating": "3", "comment": "Noisy street"})
    review = db.session.scalar(select(Review))
    host_client = another_client(client, login, host)
    nav = page_of(host_client.get("/host/listings"))
    assert 'href="/host/reviews"' in nav
    page = host_client.get("/host/reviews")
    assert page.status_code == 200 and "Noisy street" in text_of(page) and "Canal loft" in text_of(page)
    assert f'action="/host/reviews/{review.id}/respond"' in page_of(page)
    empty = submit(host_client, f"/host/reviews/{review.id}/respond", {"body": "  "}, form_url="/host/reviews",
                   follow_redirects=True)
    assert "Write your reply" in text_of(empty) and db.session.get(Review, review.id).response_body is None
    done = submit(host_client, f"/host/reviews/{review.id}/respond", {"body": f"Sorry! {SCRIPT}"},
                  form_url="/host/reviews", follow_redirects=True)
    assert "Your reply is posted" in text_of(done)
    assert f'action="/host/reviews/{review.id}/respond"' not in page_of(done)
    listing_page = page_of(host_client.get(f"/listings/{listing.id}"))
    assert "Response from Hana Host" in listing_page and SCRIPT not in listing_page
    assert "Sorry! &lt;script&gt;" in listing_page
    note = db.session.scalar(select(Notification).where(Notification.type == "review_response"))
    assert note.user_id == guest.id
