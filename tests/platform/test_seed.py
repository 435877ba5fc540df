"""`flask seed`: demo accounts and listings with photos, and nothing twice."""

from __future__ import annotations

from app.models import Booking, Listing, ListingImage, User


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

    bookings = Booking.query.all()  # each demo guest: a confirmed trip and a paid request awaiting its host
    assert "4 new booking(s)" in result.output and len(bookings) == 4
    assert sorted((b.status, b.awaiting_approval) for b in bookings) == [
        ("confirmed", False), ("confirmed", False), ("pending", True), ("pending", True)]

    again = runner.invoke(args=["seed", "--listings", "3", "--users", "2"])
    assert again.exit_code == 0 and "Seeded 0 new user(s), 0 new listing(s) and 0 new booking(s)" in again.output
    assert Listing.query.count() == 3 and ListingImage.query.count() == 9
    assert User.query.count() == 7 and Booking.query.count() == 4


def test_seed_logins_work(app):
    app.test_cli_runner().invoke(args=["seed", "--listings", "0"])
    response = app.test_client().post("/api/v1/login", json={"email": "host@example.com",
                                                             "password": "abode-demo-2026"})
    assert response.status_code == 200 and response.get_json()["user"]["role"] == "host"
