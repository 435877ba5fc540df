"""The home page's "Honest reviews" block shows the newest visible reviews and links each to the reviews of its
listing; hidden reviews and those of listings no longer open are not shown."""

from __future__ import annotations

from app.blueprints.listings import services as listings
from app.blueprints.reviews import services as reviews

from ..support.factories import make_listing, make_user
from ..support.pages import page_of, text_of
from ..support.stays import completed_stay


def reviewed(comment: str, **listing):
    place = make_listing(min_nights=1, **listing)
    guest = make_user(name="Gus Guest")
    stay = completed_stay(guest, place)
    return place, reviews.create_review(author=guest, booking_id=stay.id, rating=5, comment=comment)


def test_the_home_page_links_the_newest_visible_reviews_to_their_listings(client):
    admin = make_user(role="admin")
    loft, _ = reviewed("Quiet street, lovely host.", title="Canal loft")
    _, hidden = reviewed("Spam spam spam.", title="Spam shack")
    reviews.hide_review(hidden.id, admin=admin, reason="spam")
    gone, _ = reviewed("We loved the garden.", title="Garden house")
    listings.delete_listing(gone, actor=gone.host)
    page = client.get("/")
    assert page.status_code == 200
    text = text_of(page)
    assert "“Quiet street, lovely host.” — Gus Guest, on Canal loft" in text
    assert f'href="/listings/{loft.id}#reviews"' in page_of(page)
    assert "Spam spam spam." not in text and "We loved the garden." not in text


def test_without_reviews_the_block_only_explains_them(client):
    page = client.get("/")
    assert "Only guests who stayed can review" in text_of(page) and 'id="recent-reviews"' not in page_of(page)
