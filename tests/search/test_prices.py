"""Prices in search: display_price is the exact conversion rounded once, and min_price/max_price keep exactly the
listings whose shown price is within them (the total too), whichever way the search is answered."""

from __future__ import annotations

import random
from decimal import ROUND_HALF_EVEN, Decimal

import pytest

from app import rates

from ..support.factories import make_listing, make_user
from ..support.search import search

# The test fixtures load the default rates: 0.92 EUR, 6.9 DKK, 0.79 GBP, 150 JPY per USD.
DKK_PER_EUR = Decimal("6.9") / Decimal("0.92")  # 7.5 exactly: every odd number of euro cents is a tie in DKK
WAYS = {"plain": "", "by place": "location=amsterdam&"}  # the listing rows, or the place rows


def shown_dkk(euro_cents: int) -> int:
    return int((euro_cents * DKK_PER_EUR).to_integral_value(rounding=ROUND_HALF_EVEN))


def found(client, query: str) -> tuple[dict[int, int], int]:
    """({id: display amount} of every match, total) of a search, over all its pages."""
    shown, total, page = {}, None, 1
    while True:
        body = search(client, f"{query}&per_page=100&page={page}")
        total = body["total"] if total is None else total
        shown.update({item["id"]: item["display_price"]["amount"] for item in body["items"]})
        if page >= body["pages"]:
            return shown, total
        page += 1


@pytest.mark.parametrize("way", sorted(WAYS))
def test_display_price_is_the_exact_conversion_rounded_once(client, app, way):
    listing = make_listing(title="Tie", price_per_night={"amount": 12503, "currency": "EUR"}, cleaning_fee=None)
    item = search(client, f"{WAYS[way]}currency=DKK")["items"][0]
    assert (item["id"], item["display_price"]) == (listing.id, {"amount": 93772, "currency": "DKK"})  # 937.725


@pytest.mark.parametrize("way", sorted(WAYS))
def test_price_bounds_meet_the_shown_price_at_its_edge(client, app, way):
    listing = make_listing(title="Tie", price_per_night={"amount": 12503, "currency": "EUR"}, cleaning_fee=None)
    where = f"{WAYS[way]}currency=DKK"
    for bounds, expected in [("min_price=93772", [listing.id]), ("min_price=93773", []),
                             ("max_price=93772", [listing.id]), ("max_price=93771", []),
                             ("min_price=93772&max_price=93772", [listing.id])]:
        body = search(client, f"{where}&{bounds}")
        assert ([item["id"] for item in body["items"]], body["total"]) == (expected, len(expected)), bounds


@pytest.fixture
def near_ties(app):
    """Listings in four currencies whose DKK prices sit on and beside half-cent ties, and the DKK each shows."""
    rng, host = random.Random(11), make_user(role="host")
    prices = [("EUR", cents) for cents in (12501, 12503, 12505, 12502, 99_999)]
    prices += [("EUR", rng.randrange(1001, 60_000, 2)) for _ in range(7)]
    prices += [("USD", rng.randint(1000, 60_000)) for _ in range(4)] + [("DKK", 93772), ("DKK", 93773)]
    prices += [("GBP", rng.randint(1000, 60_000)) for _ in range(3)] + [("JPY", rng.randint(1000, 90_000))]
    made = {}
    for currency, amount in prices:
        listing = make_listing(host, price_per_night={"amount": amount, "currency": currency}, cleaning_fee=None)
        made[listing.id] = shown_dkk(amount) if currency == "EUR" else None
    return made


@pytest.mark.parametrize("way", sorted(WAYS))
def test_bounds_keep_exactly_the_listings_shown_within_them(client, near_ties, way):
    where = f"{WAYS[way]}currency=DKK"
    shown, total = found(client, where)
    assert total == len(near_ties) == len(shown)
    assert all(shown[listing_id] == dkk for listing_id, dkk in near_ties.items() if dkk is not None)
    for edge in sorted(set(shown.values())):
        for bounds, keep in [(f"min_price={edge}", lambda price, e=edge: price >= e),
                             (f"min_price={edge + 1}", lambda price, e=edge: price > e),
                             (f"max_price={edge}", lambda price, e=edge: price <= e),
                             (f"max_price={max(edge - 1, 0)}", lambda price, e=edge: price < max(e, 1))]:
            expected = {listing_id for listing_id, price in shown.items() if keep(price)}
            matched, matched_total = found(client, f"{where}&{bounds}")
            assert (set(matched), matched_total) == (expected, len(expected)), bounds


@pytest.mark.parametrize("way", sorted(WAYS))
def test_price_sorts_follow_the_shown_prices(client, near_ties, way):
    for sort, step in (("price_asc", 1), ("price_desc", -1)):
        prices = [item["display_price"]["amount"] for item in
                  search(client, f"{WAYS[way]}currency=DKK&sort={sort}&per_page=100")["items"]]
        assert len(prices) == len(near_ties) and prices == sorted(prices)[::step], sort


@pytest.mark.parametrize("way", sorted(WAYS))
def test_bounds_part_two_listings_that_share_the_edge_micro(client, app, way):
    # 125.03 EUR shows as 937.72 DKK and 1000.00 SEK (at 7.358234) as 937.73 DKK, yet both are 135.902174 USD
    # normalised: only the exact edge can keep one and drop the other.
    rates.set_rate("SEK", "7.358234")
    euro = make_listing(price_per_night={"amount": 12503, "currency": "EUR"}, cleaning_fee=None)
    krona = make_listing(price_per_night={"amount": 100_000, "currency": "SEK"}, cleaning_fee=None)
    assert euro.price_usd_micros == krona.price_usd_micros
    where = f"{WAYS[way]}currency=DKK"
    assert found(client, where)[0] == {euro.id: 93772, krona.id: 93773}
    assert found(client, f"{where}&min_price=93773") == ({krona.id: 93773}, 1)
    assert found(client, f"{where}&max_price=93772") == ({euro.id: 93772}, 1)
    assert found(client, f"{where}&min_price=93772&max_price=93773")[1] == 2
