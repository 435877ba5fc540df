"""The HTML search page: filters, prices in the display currency, sorting, pagination, empty state and bad input."""

from __future__ import annotations

import html
import re
from datetime import date, timedelta

import pytest

from app import money, rates
from app.blueprints.calendar import services as calendar
from app.blueprints.calendar.ranges import NightRange

from ..support.factories import make_listing, make_user


def page(client, query: str = "", status: int = 200) -> str:
    response = client.get(f"/search?{query}")
    assert response.status_code == status, response.get_data(as_text=True)[:2000]
    return html.unescape(response.get_data(as_text=True))


def shown(client, query: str = "") -> list[str]:
    """Titles of the result cards, in page order."""
    return re.findall(r'class="stretched-link" aria-label="([^"]+)"', page(client, query))


def place(title: str, city: str, country: str, **overrides):
    return make_listing(title=title, address={"city": city, "state": "", "country": country}, **overrides)


def test_search_page_shows_card_with_place_rating_price_and_link(client, app):
    listing = make_listing(title="Canal loft")
    body = page(client, "currency=EUR")
    assert "1 stay" in body and "Canal loft" in body and "Amsterdam, Netherlands" in body
    assert "New" in body and "€125.00" in body and "night" in body
    assert f"/listings/{listing.id}" in body
    assert "per night at the listing" not in body  # same currency: one price only


@pytest.mark.parametrize("term", ["ams", "AMSTER", "Netherlands", "nl"])
def test_search_location_prefix_any_case_keeps_only_matching(client, app, term):
    place("Amsterdam loft", "Amsterdam", "NL")
    place("Lisbon flat", "Lisbon", "PT", latitude=38.7, longitude=-9.1)
    assert shown(client, f"location={term}") == ["Amsterdam loft"]


def test_search_dates_exclude_listing_with_blocked_night_and_pass_dates_to_card(client, app):
    free, busy = make_listing(title="Free one"), make_listing(title="Busy one")
    start = date.today() + timedelta(days=10)
    calendar.set_availability(
        busy,
        actor=busy.host,
        ranges=[
            NightRange(start + timedelta(days=1), start + timedelta(days=2), available=False)
        ],
    )
    end = start + timedelta(days=3)
    body = page(client, f"check_in={start}&check_out={end}&guests=2")
    assert "Free one" in body and "Busy one" not in body
    assert f"/listings/{free.id}?check_in={start}&check_out={end}&guests=2" in body
    assert f'value="{start}"' in body and f'value="{end}"' in body  # the bar keeps the dates


def test_search_guests_type_amenities_and_instant_book_filter(client, app):
    make_listing(title="Small flat", max_guests=2)
    make_listing(title="Big house", property_type="house", max_guests=8, amenities=["wifi", "pool"], instant_book=False)
    assert shown(client, "guests=5") == ["Big house"]
    assert shown(client, "property_type=house") == ["Big house"]
    assert shown(client, "amenities=pool&amenities=wifi") == ["Big house"]
    assert shown(client, "amenities=kitchen") == ["Small flat"]
    assert shown(client, "amenities=wifi,pool") == ["Big house"]  # the API's comma form works too
    assert shown(client, "instant_book=true") == ["Small flat"]
    body = page(client, "property_type=house&amenities=pool&instant_book=true")
    assert "No stays match your search" in body
    assert re.search(r'<option selected value="house">', body)
    assert re.search(r'checked[^>]*value="pool"|value="pool"[^>]*checked', body)


def test_search_price_filter_reads_major_units_of_display_currency(client, app):
    make_listing(title="Cheap", price_per_night={"amount": 8000, "currency": "EUR"}, cleaning_fee=None)
    make_listing(title="Dear", price_per_night={"amount": 20050, "currency": "EUR"}, cleaning_fee=None)
    assert shown(client, "currency=EUR&max_price=150") == ["Cheap"]
    assert shown(client, "currency=EUR&min_price=200.50") == ["Dear"]
    assert shown(client, "currency=EUR&min_price=200.51") == []
    rates.set_rate("JPY", "150")
    rates.set_rate("EUR", "0.8")
    # 80 EUR = 100 USD = 15,000 JPY
    assert shown(client, "currency=JPY&min_price=15000&max_price=15000") == ["Cheap"]
    body = page(client, "currency=JPY&max_price=150.5", status=400)
    assert "JPY prices take whole amounts only." in body


def test_search_signed_in_guest_sees_preferred_currency_and_listing_price(client, app, login):
    make_listing(title="Euro place")
    guest = make_user(preferred_currency="GBP")
    login(client, guest)
    body = page(client)
    expected = rates.convert(12500, "EUR", "GBP", rates.current_rates())
    assert money.format_money(expected, "GBP") in body
    assert "€125.00 per night at the listing" in body
    assert '<option selected value="GBP">' in body
    assert "€125.00" in page(client, "currency=EUR")  # the argument wins over the preference


def test_search_anonymous_visitor_sees_usd(client, app):
    make_listing(price_per_night={"amount": 10000, "currency": "USD"}, cleaning_fee=None)
    assert "$100.00" in page(client)


@pytest.mark.parametrize(
    ("sort", "expected"), [("price_asc", ["Cheap", "Mid", "Dear"]), ("price_desc", ["Dear", "Mid", "Cheap"])]
)
def test_search_sort_by_price_orders_cards(client, app, sort, expected):
    for title, amount in (("Mid", 10000), ("Dear", 30000), ("Cheap", 5000)):
        make_listing(title=title, price_per_night={"amount": amount, "currency": "USD"}, cleaning_fee=None)
    assert shown(client, f"sort={sort}&currency=USD") == expected


def test_search_sort_menu_keeps_filters(client, app):
    make_listing()
    body = page(client, "location=ams&amenities=wifi&page=1")
    assert "/search?location=ams&amenities=wifi&sort=price_desc" in body


def test_search_pagination_links_keep_every_filter(client, app):
    for n in range(5):
        make_listing(title=f"Flat {n}", amenities=["wifi", "pool"])
    make_listing(title="No pool")
    body = page(client, "location=ams&amenities=wifi&amenities=pool&sort=newest&per_page=2&page=2")
    assert "5 stays" in body and "No pool" not in body
    for number in (1, 3):
        assert f"/search?location=ams&amenities=wifi&amenities=pool&sort=newest&per_page=2&page={number}" in body
    assert 'aria-current="page"' in body and len(shown(client, "amenities=pool&per_page=2&page=3")) == 1


def test_search_with_no_match_shows_empty_state_and_clear_link(client, app):
    make_listing()
    body = page(client, "location=ams&property_type=cabin&sort=rating")
    assert "No stays match your search" in body and "Try removing a filter or changing dates" in body
    assert 'href="/search?location=ams&sort=rating"' in body  # clear filters keeps the search bar and sort
    assert "0 stays" in body


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("check_in={later}&check_out={soon}", "Must be after check in."),
        ("page=abc", "page must be a number."),
        ("min_price=abc", "Enter an amount like 125 or 125.50."),
        ("location=" + "x" * 10_000, "Use at most 100 characters."),
        ("max_price=10&min_price=20", "Must not be below min price."),
        ("sort=cheapest", "sort: choose one of"),
    ],
)
def test_search_bad_input_shows_message_and_form_without_results(client, app, query, message):
    make_listing(title="Canal loft")
    soon, later = date.today() + timedelta(days=5), date.today() + timedelta(days=9)
    body = page(client, query.format(soon=soon, later=later), status=400)
    assert message in body
    assert "Canal loft" not in body and "Correct the highlighted input" in body
    assert 'id="search-form"' in body


def test_search_unreadable_price_and_bad_dates_are_both_reported(client, app):
    soon, later = date.today() + timedelta(days=5), date.today() + timedelta(days=9)
    body = page(client, f"check_in={later}&check_out={soon}&max_price=12,50", status=400)
    assert "Must be after check in." in body and "Enter an amount like 125 or 125.50." in body


def test_search_bad_input_keeps_the_users_values(client, app):
    body = page(client, "location=Paris&min_price=abc&guests=3", status=400)
    assert 'value="Paris"' in body and 'value="abc"' in body and 'value="3"' in body
    assert 'class="collapse d-lg-block show"' in body  # the filter panel opens on phones to show the error


def test_home_page_search_form_submits_to_search_page(client, app):
    body = client.get("/").get_data(as_text=True)
    form = re.search(r'<form[^>]*role="search"[^>]*>', body).group(0)
    assert 'action="/search"' in form and 'method="get"' in form
    for name in ("location", "check_in", "check_out", "guests"):
        assert f'name="{name}"' in body
