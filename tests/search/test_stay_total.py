"""With dates, each search result says what the whole stay costs, as the listing's quote would (nights at their own
prices, cleaning fee, service fee), in the search's currency; without dates there is no total."""

from __future__ import annotations

from datetime import date, timedelta

from app.blueprints.calendar import services as calendar
from app.blueprints.calendar.ranges import NightRange

from ..support.factories import make_listing
from ..support.pages import text_of

CHECK_IN = date.today() + timedelta(days=30)
CHECK_OUT = CHECK_IN + timedelta(days=3)
DATES = f"check_in={CHECK_IN}&check_out={CHECK_OUT}"


def test_a_dated_search_shows_the_stays_total_as_the_quote_says(client):
    listing = make_listing(price_per_night={"amount": 10000, "currency": "EUR"},
                           cleaning_fee={"amount": 2500, "currency": "EUR"}, min_nights=1)
    calendar.set_availability(listing, actor=listing.host, ranges=[NightRange(
        CHECK_IN, CHECK_IN + timedelta(days=1), price={"amount": 16000, "currency": "EUR"})])
    quote = client.get(f"/api/v1/properties/{listing.id}/quote?{DATES}&guests=1").get_json()["price"]
    found = client.get(f"/api/v1/search?location=Amsterdam&{DATES}&currency=EUR").get_json()["items"]
    assert [item["id"] for item in found] == [listing.id]
    assert found[0]["stay_total"] == quote["total"] == {"amount": 36000 + 2500 + quote["service_fee"]["amount"],
                                                       "currency": "EUR"}
    page = client.get(f"/search?location=Amsterdam&{DATES}&currency=EUR")
    assert "€120.00 night · €" in text_of(page)
    assert f"{quote['total']['amount'] / 100:,.2f} total" in text_of(page)


def test_without_dates_there_is_no_total(client):
    make_listing()
    items = client.get("/api/v1/search?location=Amsterdam").get_json()["items"]
    assert items and items[0]["stay_total"] is None
    assert " total" not in text_of(client.get("/search?location=Amsterdam"))
