"""The home page: search bar and the newest listings."""

from __future__ import annotations

from ..support.factories import make_listing


def test_home_shows_newest_listings_with_price_and_link(client, app):
    listing = make_listing(title="Canal house with garden")
    page = client.get("/").get_data(as_text=True)
    assert "New on Abode" in page and "Canal house with garden" in page
    assert "€125.00" in page and f"/listings/{listing.id}" in page


def test_home_hides_deleted_listings(client, app, auth_headers):
    listing = make_listing(title="Soon gone flat")
    client.delete(f"/api/v1/properties/{listing.id}", headers=auth_headers(listing.host))
    assert "Soon gone flat" not in client.get("/").get_data(as_text=True)
