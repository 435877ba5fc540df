"""`flask seed`: demo accounts and listings with photos, and nothing twice."""

from __future__ import annotations

from sqlalchemy import func, select

from app.extensions import db
from app.models import Booking, Listing, ListingImage, Review, User


def test_seed_creates_demo_logins_and_listings_once(app):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["seed", "--listings", "3", "--users", "2"])
    assert result.exit_code == 0, result.output
    assert "host@example.com" in result.output and "abode-demo-2026" in result.output
    assert {u.role for u in User.query.all()} == {"admin", "host", "guest"}
    listings = Listing.query.all()
    assert len(listings) == 3
    assert len({(p.country, p.currency) for p in listings}) == 3
    assert all(len(p.images) == 3 and p.amenities for p in listings)
    client = app.test_client()
    cover = listings[0].images[0]
    assert client.get(f"/uploads/{cover.key}").content_type == "image/jpeg"

    # each demo guest: a confirmed trip, a paid request awaiting its host, and two past stays with reviews
    bookings = Booking.query.filter(Booking.status != "completed").all()
    assert "4 new booking(s)" in result.output and len(bookings) == 4
    assert sorted((b.status, b.awaiting_approval) for b in bookings) == [
        ("confirmed", False), ("confirmed", False), ("pending", True), ("pending", True)]
    assert_reviews_match_ratings()
    assert "4 new review(s)" in result.output

    again = runner.invoke(args=["seed", "--listings", "3", "--users", "2"])
    assert again.exit_code == 0, again.output
    assert "Seeded 0 new user(s), 0 new listing(s), 0 new booking(s) and 0 new review(s)" in again.output
    assert Listing.query.count() == 3 and ListingImage.query.count() == 9
    assert User.query.count() == 7 and Booking.query.count() == 8 and Review.query.count() == 4
    assert_reviews_match_ratings()


def assert_reviews_match_ratings() -> None:
    """Every completed demo stay has its review, some with sub-ratings and replies, and each listing's rating is
    the sum and count of its reviews."""
    completed = Booking.query.filter_by(status="completed").all()
    reviews = Review.query.all()
    assert len(completed) == 4 and {r.booking_id for r in reviews} == {b.id for b in completed}
    assert any(r.cleanliness for r in reviews) and any(r.cleanliness is None for r in reviews)
    assert any(r.response_body for r in reviews) and any(r.response_body is None for r in reviews)
    per_listing = {listing_id: (count, int(total)) for listing_id, count, total in db.session.execute(
        select(Review.listing_id, func.count(), func.sum(Review.rating)).group_by(Review.listing_id))}
    for listing in Listing.query.all():
        assert (listing.rating_count, listing.rating_sum) == per_listing.get(listing.id, (0, 0))


def test_seed_logins_work(app):
    app.test_cli_runner().invoke(args=["seed", "--listings", "0"])
    response = app.test_client().post("/api/v1/login", json={"email": "host@example.com",
                                                             "password": "abode-demo-2026"})
    assert response.status_code == 200 and response.get_json()["user"]["role"] == "host"
