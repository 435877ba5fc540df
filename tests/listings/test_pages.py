"""Listing pages through the test client with CSRF on: dashboard, form, photos, calendar, public page."""

from __future__ import annotations

import io
import re
from datetime import date, timedelta

import pytest

from app.blueprints.bookings.state import check_out_at
from app.blueprints.calendar import services as calendar
from app.blueprints.listings import services
from app.extensions import db
from app.models import Booking, Listing

from ..support.factories import booking_holding, make_user
from ..support.images import make_jpeg, make_png
from ..support.pages import csrf_token, submit
from ..support.stays import paid_booking

VALID = {
    "title": "Sunny loft by the canal", "description": "Bright and quiet, two minutes from the tram.",
    "property_type": "apartment",
    "address": {"line1": "1 Canal Street", "city": "Amsterdam", "state": "North Holland", "country": "NL",
                "postal_code": "1011 AB"},
    "latitude": 52.37, "longitude": 4.89, "price_per_night": {"amount": 12500, "currency": "USD"},
    "cleaning_fee": {"amount": 3000, "currency": "USD"}, "max_guests": 4, "bedrooms": 2, "beds": 2, "bathrooms": 1,
    "amenities": ["wifi", "kitchen"], "min_nights": 2, "max_nights": 30, "cancellation_policy": "moderate",
    "instant_book": True, "timezone": "Europe/Amsterdam",
}
CELL = re.compile(r'class="cal-day cal-(\w+)[^"]*"\s+data-date="([\d-]+)"')
XHR = {"X-Requested-With": "XMLHttpRequest", "Accept": "application/json"}


def form_data(**overrides) -> dict:
    data = {"title": "Cabin in the woods", "description": "Wood stove, no neighbours.", "property_type": "cabin",
            "line1": "9 Forest Road", "city": "Asheville", "state": "NC", "country": "US", "postal_code": "28801",
            "latitude": "35.6", "longitude": "-82.5", "timezone": "America/New_York", "currency": "USD",
            "price_per_night": "125.50", "cleaning_fee": "40", "max_guests": "4", "bedrooms": "2", "beds": "3",
            "bathrooms": "1", "min_nights": "2", "max_nights": "14", "cancellation_policy": "strict",
            "instant_book": "y", "amenities": ["wifi", "parking"]}
    return {**data, **overrides}


@pytest.fixture
def host(app):
    return make_user(role="host", name="Hana Host")


@pytest.fixture
def listing(host):
    return services.create_listing(host=host, **VALID)


def page_of(response) -> str:
    return response.get_data(as_text=True)


def next_month_first(today: date | None = None) -> date:
    today = today or date.today()
    return (today.replace(day=1) + timedelta(days=32)).replace(day=1)


def upload_xhr(client, listing_id: int, payload: bytes, filename: str):
    token = csrf_token(client, f"/host/listings/{listing_id}/photos")
    return client.post(f"/host/listings/{listing_id}/photos", data={"image": (io.BytesIO(payload), filename)},
                       headers={**XHR, "X-CSRFToken": token}, content_type="multipart/form-data")


def test_dashboard_host_lists_only_own_listings(client, login, host, listing):
    services.create_listing(host=make_user(role="host"), **{**VALID, "title": "Someone else's barn"})
    login(client, host)
    page = page_of(client.get("/host/listings"))
    assert "Sunny loft by the canal" in page and "Someone else" not in page
    assert "$125.00" in page and "Amsterdam, Netherlands" in page and "0 photos" in page
    assert f"/host/listings/{listing.id}/calendar" in page and "My listings" in page


def test_dashboard_no_listings_shows_empty_state(client, login, host):
    login(client, host)
    assert "Create your first listing" in page_of(client.get("/host/listings"))


def test_dashboard_many_listings_paginates(client, login, host):
    for n in range(13):
        services.create_listing(host=host, **{**VALID, "title": f"Place number {n:02d}"})
    login(client, host)
    first, second = page_of(client.get("/host/listings")), page_of(client.get("/host/listings?page=2"))
    assert "Place number 12" in first and "Place number 00" not in first
    assert "Place number 00" in second and 'aria-label="Listing pages"' in second


def test_new_listing_valid_form_stores_minor_units_and_redirects_to_photos(client, login, host):
    login(client, host)
    response = submit(client, "/host/listings/new", form_data())
    created = db.session.query(Listing).filter_by(host_id=host.id).one()
    assert response.status_code == 302 and response.headers["Location"] == f"/host/listings/{created.id}/photos"
    assert (created.price_per_night_amount, created.cleaning_fee_amount, created.currency) == (12550, 4000, "USD")
    assert created.instant_book and created.country == "US" and created.timezone == "America/New_York"
    assert sorted(a.code for a in created.amenities) == ["parking", "wifi"]
    assert "is live" in page_of(client.get(response.headers["Location"]))


def test_new_listing_jpy_with_decimals_shows_form_error(client, login, host):
    login(client, host)
    response = submit(client, "/host/listings/new", form_data(currency="JPY", price_per_night="12500.5"))
    page = page_of(response)
    assert response.status_code == 200 and "JPY amounts take no decimals" in page and "invalid-feedback" in page
    assert db.session.query(Listing).count() == 0


def test_new_listing_form_and_service_errors_show_together(client, login, host):
    login(client, host)
    page = page_of(submit(client, "/host/listings/new", form_data(price_per_night="9.999", city="", title="Hi")))
    assert "USD amounts have at most 2 decimal places" in page and "Enter 3 to 120 characters" in page
    assert "This field is required." in page[page.index('id="city"'):page.index('id="state"')]
    assert "whole number of minor units" not in page  # no second message on the price field


def test_new_listing_bad_amount_text_shows_form_error(client, login, host):
    login(client, host)
    response = submit(client, "/host/listings/new", form_data(price_per_night="12,50 dollars"))
    assert "Enter an amount like 125.50" in page_of(response) and db.session.query(Listing).count() == 0


def test_new_listing_min_nights_above_max_shows_error_beside_field_and_keeps_input(client, login, host):
    login(client, host)
    response = submit(client, "/host/listings/new", form_data(min_nights="20", max_nights="10", title="Keep me"))
    page = page_of(response)
    assert response.status_code == 200 and "Must not be more than max_nights" in page
    assert re.search(r'id="min_nights"[^>]*class="[^"]*is-invalid|class="[^"]*is-invalid[^"]*"[^>]*id="min_nights"',
                     page)
    assert 'value="Keep me"' in page and 'value="125.50"' in page
    assert db.session.query(Listing).count() == 0


def test_new_listing_empty_city_shows_service_error_beside_city(client, login, host):
    login(client, host)
    page = page_of(submit(client, "/host/listings/new", form_data(city="", country="")))
    city_block = page[page.index('id="city"'):page.index('id="state"')]
    assert "This field is required." in city_block
    assert "ISO 3166" in page[page.index('id="country"'):page.index('id="postal_code"')]


def test_new_listing_guest_gets_403_page(client, login):
    login(client, make_user())
    response = client.get("/host/listings/new")
    assert response.status_code == 403 and "<html" in page_of(response)


def test_new_listing_anonymous_redirects_to_login(client):
    response = client.get("/host/listings/new")
    assert response.status_code == 302 and "/login?next=" in response.headers["Location"]


def test_edit_listing_prefilled_form_saves_and_redirects_to_dashboard(client, login, host, listing):
    login(client, host)
    page = page_of(client.get(f"/host/listings/{listing.id}/edit"))
    assert 'value="125.00"' in page and 'value="Sunny loft by the canal"' in page
    data = form_data(title="Sunny loft, renovated", price_per_night="99.99", cleaning_fee="")
    response = submit(client, f"/host/listings/{listing.id}/edit", data)
    assert response.status_code == 302 and response.headers["Location"] == "/host/listings"
    db.session.refresh(listing)
    assert (listing.title, listing.price_per_night_amount, listing.cleaning_fee_amount) == ("Sunny loft, renovated",
                                                                                           9999, 0)


@pytest.mark.parametrize("page", ["edit", "photos", "calendar"])
def test_manage_pages_other_host_gets_403(client, login, listing, page):
    login(client, make_user(role="host"))
    assert client.get(f"/host/listings/{listing.id}/{page}").status_code == 403


def test_manage_pages_admin_may_open(client, login, listing):
    login(client, make_user(role="admin"))
    assert client.get(f"/host/listings/{listing.id}/edit").status_code == 200


def test_photo_upload_plain_form_adds_photos_and_redirects(client, login, host, listing):
    login(client, host)
    url = f"/host/listings/{listing.id}/photos"
    response = submit(client, url, {"image": [(io.BytesIO(make_jpeg()), "a.jpg"), (io.BytesIO(make_png()), "b.png")]},
                      content_type="multipart/form-data")
    assert response.status_code == 302 and response.headers["Location"] == url
    page = page_of(client.get(url))
    assert "2 photos added" in page and page.count('class="col"') >= 2 and "Cover" in page
    assert len(listing.images) == 2


def test_photo_upload_plain_form_text_file_flashes_error(client, login, host, listing):
    login(client, host)
    url = f"/host/listings/{listing.id}/photos"
    response = submit(client, url, {"image": (io.BytesIO(b"hello, not an image"), "notes.txt")},
                      content_type="multipart/form-data", follow_redirects=True)
    assert "notes.txt:" in page_of(response) and "No photos yet" in page_of(response)


def test_photo_upload_xhr_returns_201_json_and_photo_shows(client, login, host, listing):
    login(client, host)
    response = upload_xhr(client, listing.id, make_jpeg(), "room.jpg")
    assert response.status_code == 201 and response.is_json
    body = response.get_json()
    assert body["position"] == 0 and body["url"].startswith("/uploads/")
    assert body["thumbnail_url"] in page_of(client.get(f"/host/listings/{listing.id}/photos"))
    assert body["url"] in page_of(client.get(f"/listings/{listing.id}"))


def test_photo_upload_xhr_text_file_returns_415_error_body(client, login, host, listing):
    login(client, host)
    response = upload_xhr(client, listing.id, b"just text", "notes.txt")
    assert response.status_code == 415
    assert response.get_json()["error"]["code"] == "unsupported_media_type"
    assert listing.images == []


def test_photo_upload_xhr_other_host_returns_403_json(client, login, listing):
    other = make_user(role="host")
    login(client, other)
    token = csrf_token(client, "/host/listings")
    response = client.post(f"/host/listings/{listing.id}/photos", data={"image": (io.BytesIO(make_jpeg()), "a.jpg")},
                           headers={**XHR, "X-CSRFToken": token}, content_type="multipart/form-data")
    assert response.status_code == 403 and response.get_json()["error"]["code"] == "forbidden"


def test_photo_upload_xhr_without_csrf_token_is_refused(client, login, host, listing):
    login(client, host)
    response = client.post(f"/host/listings/{listing.id}/photos", headers=XHR, content_type="multipart/form-data",
                           data={"image": (io.BytesIO(make_jpeg()), "a.jpg")})
    assert response.status_code == 400 and listing.images == []


def test_photo_move_to_front_makes_cover(client, login, host, listing):
    first, second = (services.add_image(listing, actor=host, file=io.BytesIO(make_jpeg())) for _ in range(2))
    login(client, host)
    url = f"/host/listings/{listing.id}/photos"
    response = submit(client, f"{url}/{second.id}/move", {"position": "0"}, form_url=url)
    assert response.status_code == 302
    db.session.refresh(listing)
    assert [image.id for image in listing.images] == [second.id, first.id]
    assert "New cover photo set" in page_of(client.get(url))


def test_photo_delete_removes_photo(client, login, host, listing):
    image = services.add_image(listing, actor=host, file=io.BytesIO(make_jpeg()))
    login(client, host)
    url = f"/host/listings/{listing.id}/photos"
    submit(client, f"{url}/{image.id}/delete", {}, form_url=url)
    db.session.refresh(listing)
    assert listing.images == [] and "Photo deleted" in page_of(client.get(url))


def test_calendar_page_shows_month_grid_with_prices(client, login, host, listing):
    login(client, host)
    first = next_month_first()
    page = page_of(client.get(f"/host/listings/{listing.id}/calendar?month={first:%Y-%m}"))
    assert first.strftime("%B %Y") in page and "$125.00" in page and "until (not included)" in page.lower()
    cells = dict((day, state) for state, day in CELL.findall(page))
    assert cells[first.isoformat()] == "free" and len(cells) >= 28


@pytest.mark.parametrize("month", ["9999-12", "9999-11", "0001-01", "2000-02"])
def test_calendar_month_out_of_reach_shows_this_month_with_a_message(client, login, host, listing, month):
    login(client, host)
    page = page_of(client.get(f"/host/listings/{listing.id}/calendar?month={month}"))
    assert "The calendar covers one year back to three years ahead." in page
    assert f"{date.today():%B %Y}" in page or f"{next_month_first():%B %Y}" in page  # the listing's this month


def test_calendar_block_range_marks_cells_blocked(client, login, host, listing):
    login(client, host)
    first = next_month_first()
    url = f"/host/listings/{listing.id}/calendar?month={first:%Y-%m}"
    start, end = first + timedelta(days=2), first + timedelta(days=5)
    response = submit(client, url, {"start": start.isoformat(), "end": end.isoformat(), "action": "block"})
    assert response.status_code == 302 and response.headers["Location"].endswith(f"month={first:%Y-%m}")
    page = page_of(client.get(url))
    cells = dict((day, state) for state, day in CELL.findall(page))
    blocked = sorted(day for day, state in cells.items() if state == "blocked")
    assert blocked == [(start + timedelta(days=n)).isoformat() for n in range(3)] and "Blocked the nights" in page
    days = calendar.get_calendar(listing, first, first + timedelta(days=7))
    assert [day.hold for day in days] == [None, None, "blocked", "blocked", "blocked", None, None]


def test_calendar_set_price_shows_price(client, login, host, listing):
    login(client, host)
    first = next_month_first()
    url = f"/host/listings/{listing.id}/calendar?month={first:%Y-%m}"
    submit(client, url, {"start": first.isoformat(), "end": (first + timedelta(days=1)).isoformat(),
                         "action": "price", "price": "180"})
    page = page_of(client.get(url))
    assert "$180.00" in page and "cal-custom-price" in page
    assert calendar.get_calendar(listing, first, first + timedelta(days=1))[0].price == 18000


def test_calendar_past_start_shows_error_beside_field(client, login, host, listing):
    login(client, host)
    url = f"/host/listings/{listing.id}/calendar"
    yesterday = date.today() - timedelta(days=1)
    response = submit(client, url, {"start": yesterday.isoformat(), "end": date.today().isoformat(),
                                    "action": "block"})
    page = page_of(response)
    assert response.status_code == 200 and "Past nights cannot be changed" in page and "is-invalid" in page


def test_calendar_block_booked_night_flashes_conflict(client, login, host, listing):
    night = next_month_first()
    booking_holding(listing, night)
    login(client, host)
    url = f"/host/listings/{listing.id}/calendar?month={night:%Y-%m}"
    response = submit(client, url, {"start": night.isoformat(), "end": (night + timedelta(days=2)).isoformat(),
                                    "action": "block"})
    assert "is booked" in page_of(response) and 'cal-booked' in page_of(response)


def test_detail_page_shows_title_price_amenities_and_rules(client, listing):
    page = page_of(client.get(f"/listings/{listing.id}"))
    assert "Sunny loft by the canal" in page and "$125.00" in page and "$30.00" in page
    assert "Wi-Fi" in page and "Kitchen" in page and "Amsterdam, North Holland, Netherlands" in page
    assert "15:00" in page and "11:00" in page and "Europe/Amsterdam" in page and "2 nights minimum" in page
    assert "5 days before check-in" in page and "New</span> — no reviews yet" in page and "Hana Host" in page
    assert f"/host/listings/{listing.id}/edit" not in page


def test_detail_page_owner_sees_manage_buttons(client, login, host, listing):
    login(client, host)
    page = page_of(client.get(f"/listings/{listing.id}"))
    assert f"/host/listings/{listing.id}/edit" in page and f"/host/listings/{listing.id}/calendar" in page


def test_detail_page_viewer_language_formats_price(client, login, listing):
    login(client, make_user(preferred_language="fr"))
    assert "125,00\xa0$US" in page_of(client.get(f"/listings/{listing.id}"))


def test_delete_listing_removes_it_and_page_answers_404(client, login, host, listing):
    login(client, host)
    response = submit(client, f"/host/listings/{listing.id}/delete", {}, form_url="/host/listings")
    assert response.status_code == 302 and response.headers["Location"] == "/host/listings"
    assert "was deleted" in page_of(client.get("/host/listings"))
    assert client.get(f"/listings/{listing.id}").status_code == 404


def test_delete_listing_with_upcoming_booking_flashes_conflict(client, login, host, listing):
    booking_holding(listing, date.today() + timedelta(days=3))
    login(client, host)
    response = submit(client, f"/host/listings/{listing.id}/delete", {}, form_url="/host/listings",
                      follow_redirects=True)
    assert "upcoming bookings" in page_of(response) and client.get(f"/listings/{listing.id}").status_code == 200


def test_delete_listing_whose_future_stay_was_completed_early_works(app, client, login, host):
    booking = paid_booking(host=host)
    result = app.test_cli_runner().invoke(args=["jobs", "run-due", "--now",
                                                (check_out_at(booking) + timedelta(hours=1)).isoformat() + "Z"])
    assert result.exit_code == 0 and db.session.get(Booking, booking.id).status == "completed"
    login(client, host)
    response = submit(client, f"/host/listings/{booking.listing_id}/delete", {}, form_url="/host/listings",
                      follow_redirects=True)
    assert "was deleted" in page_of(response) and client.get(f"/listings/{booking.listing_id}").status_code == 404


def test_nav_host_sees_my_listings_link(client, login, host):
    login(client, host)
    assert 'href="/host/listings">My listings' in page_of(client.get("/"))


def test_nav_guest_sees_become_a_host_link(client, login):
    login(client, make_user())
    page = page_of(client.get("/"))
    assert "Become a host" in page and "My listings" not in page
