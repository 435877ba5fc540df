"""The dashboard lists' filters and search through the page's own query arguments (flt<pos>_<filter>=value, as
Flask-Admin's filter form sends them): which rows a filter keeps and which it drops, on users, listings,
bookings, payments and the audit log. Rows are told apart by their details links, never by text the filter form
itself echoes back."""

from __future__ import annotations

import json
import re
from datetime import date, datetime, timedelta

import pytest

from app.audit import record
from app.blueprints.bookings import services as bookings
from app.blueprints.listings import services as listings
from app.extensions import db
from app.models import Booking, Payment

from ..support.factories import make_listing, make_user
from ..support.pages import page_of

SOON = date.today() + timedelta(days=30)
ROTTERDAM = {"line1": "1 Quay", "city": "Rotterdam", "state": "South Holland", "country": "NL", "postal_code": "3011"}


def filter_key(client, url: str, name: str, operation: str) -> str:
    """The view's key for the filter `name` + `operation` (its index among the view's filters)."""
    admin = client.application.extensions["admin"][0]
    view = next(view for view in admin._views if view.url == url.rstrip("/"))
    return next(key for key, (_index, flt) in view._filter_args.items()
                if str(flt.name) == name and str(flt.operation()) == operation)


def listed(client, url: str, *filters: tuple[str, str, str], search: str | None = None) -> set[int]:
    """The ids of the rows the list page shows with these (name, operation, value) filters applied."""
    args = {f"flt{pos}_{filter_key(client, url, name, operation)}": value
            for pos, (name, operation, value) in enumerate(filters)}
    if search is not None:
        args["search"] = search
    response = client.get(url, query_string=args)
    assert response.status_code == 200
    page = page_of(response)
    assert "Invalid Filter Value" not in page
    return {int(found) for found in re.findall(r"details/\?id=(\d+)", page)}


def backdate(row, when: datetime) -> None:
    row.created_at = when
    db.session.commit()


# Users: role, status, sign-up date, email/name search

@pytest.fixture
def people(app, admin):
    host = make_user(role="host", email="hana@example.com", name="Hana Host")
    guest = make_user(email="gus@example.com", name="Gus Guest")
    idle = make_user(email="ivy@example.com", name="Ivy Idle", is_active=False)
    backdate(idle, datetime(2026, 1, 15, 12))
    return {"admin": admin, "host": host, "guest": guest, "idle": idle}


def test_users_filter_by_role(admin_client, people):
    url = "/admin/users/"
    assert listed(admin_client, url, ("Role", "equals", "host")) == {people["host"].id}
    assert listed(admin_client, url, ("Role", "not equal", "guest")) == {people["host"].id, people["admin"].id}


def test_users_filter_by_status(admin_client, people):
    url = "/admin/users/"
    assert listed(admin_client, url, ("Is Active", "equals", "0")) == {people["idle"].id}
    assert people["idle"].id not in listed(admin_client, url, ("Is Active", "equals", "1"))


def test_users_filter_by_sign_up_date(admin_client, people):
    url = "/admin/users/"
    january = ("Created At", "between", "2026-01-01 00:00:00 to 2026-01-31 23:59:59")
    assert listed(admin_client, url, january) == {people["idle"].id}
    after = listed(admin_client, url, ("Created At", "greater than", "2026-02-01 00:00:00"))
    assert people["idle"].id not in after and people["guest"].id in after


def test_users_search_finds_part_of_an_email_or_a_name(admin_client, people):
    url = "/admin/users/"
    assert listed(admin_client, url, search="gus@exa") == {people["guest"].id}
    assert listed(admin_client, url, search="Hana") == {people["host"].id}
    assert listed(admin_client, url, ("Role", "equals", "guest"), search="Hana") == set()


# Listings: city, host, status (unpublished included)

@pytest.fixture
def places(app, admin):
    hana = make_user(role="host", email="hana@example.com")
    loft = make_listing(host=hana, title="Canal loft")
    flat = make_listing(title="Harbour flat", address=ROTTERDAM)
    gone = make_listing(host=hana, title="Gone barn")
    down = make_listing(title="Taken-down attic")
    listings.delete_listing(gone, actor=hana)
    listings.unpublish_listing(down, actor=admin)
    return {"loft": loft.id, "flat": flat.id, "gone": gone.id, "down": down.id}


def test_listings_filter_by_city_and_host(admin_client, places):
    url = "/admin/listings/"
    assert listed(admin_client, url, ("City", "equals", "Rotterdam")) == {places["flat"]}
    assert listed(admin_client, url, ("Host", "equals", "hana@example.com")) == {places["loft"], places["gone"]}
    assert listed(admin_client, url, ("City", "equals", "Amsterdam"),
                  ("Host", "equals", "hana@example.com")) == {places["loft"], places["gone"]}


@pytest.mark.parametrize(("status", "expected"), [("active", {"loft", "flat"}), ("deleted", {"gone"}),
                                                   ("unpublished", {"down"})])
def test_listings_filter_by_status(admin_client, places, status, expected):
    assert listed(admin_client, "/admin/listings/", ("Status", "equals", status)) == {places[name] for name in expected}


def test_the_status_filter_offers_every_status(admin_client, places):
    page = page_of(admin_client.get("/admin/listings/"))
    groups = json.loads(re.search(r'<div id="filter-groups-data"[^>]*>(.*?)</div>', page, flags=re.S).group(1))
    (status_filter,) = groups["Status"]
    assert status_filter["options"] == [["active", "active"], ["unpublished", "unpublished"], ["deleted", "deleted"]]


# Bookings: status, check-in, check-out and booking dates, listing, guest

@pytest.fixture
def stays(app):
    loft = make_listing(title="Canal loft", min_nights=1)
    flat = make_listing(title="Harbour flat", min_nights=1, address=ROTTERDAM)
    ann, bob = make_user(email="ann@example.com"), make_user(email="bob@example.com")

    def book(listing, guest, start):
        booking, _ = bookings.create_booking(guest=guest, listing_id=listing.id, check_in=start,
                                             check_out=start + timedelta(days=2), guests=1)
        return booking

    early, late = book(loft, ann, SOON), book(flat, bob, SOON + timedelta(days=40))
    other = book(loft, bob, SOON + timedelta(days=10))
    bookings.cancel_booking(other.id, bob)
    return {"early": early.id, "late": late.id, "canceled": other.id}


def test_bookings_filter_by_status(admin_client, stays):
    url = "/admin/bookings/"
    assert listed(admin_client, url, ("Status", "equals", "canceled")) == {stays["canceled"]}
    assert listed(admin_client, url, ("Status", "equals", "pending")) == {stays["early"], stays["late"]}


def test_bookings_filter_by_check_in_dates(admin_client, stays):
    url = "/admin/bookings/"
    first_weeks = f"{SOON.isoformat()} to {(SOON + timedelta(days=14)).isoformat()}"
    assert listed(admin_client, url, ("Check In", "between", first_weeks)) == {stays["early"], stays["canceled"]}
    assert listed(admin_client, url, ("Check In", "equals", SOON.isoformat())) == {stays["early"]}
    later = listed(admin_client, url, ("Check In", "greater than", (SOON + timedelta(days=20)).isoformat()))
    assert later == {stays["late"]}
    leaving = listed(admin_client, url, ("Check Out", "smaller than", (SOON + timedelta(days=20)).isoformat()))
    assert leaving == {stays["early"], stays["canceled"]}
    made = f"{date.today().isoformat()} 00:00:00 to {date.today().isoformat()} 23:59:59"
    assert listed(admin_client, url, ("Created At", "between", made)) == set(stays.values())
    assert listed(admin_client, url, ("Created At", "smaller than", f"{date.today().isoformat()} 00:00:00")) == set()


def test_bookings_filter_by_listing_and_guest(admin_client, stays):
    url = "/admin/bookings/"
    listing = "listing / Listings / Title"
    guest = "guest / Users / Email"
    assert listed(admin_client, url, (listing, "equals", "Canal loft")) == {stays["early"], stays["canceled"]}
    assert listed(admin_client, url, (guest, "equals", "bob@example.com")) == {stays["late"], stays["canceled"]}
    assert listed(admin_client, url, (listing, "equals", "Canal loft"),
                  (guest, "equals", "bob@example.com")) == {stays["canceled"]}


# Payments: status, provider, currency

@pytest.fixture
def charges(app):
    """Payment rows of three kinds, each on a booking of its own (the rows as the providers' flows leave them)."""
    made = {}
    for name, provider, status, currency in (("stripe_ok", "stripe", "succeeded", "EUR"),
                                             ("paypal_failed", "paypal", "failed", "EUR"),
                                             ("fake_usd", "fake", "succeeded", "USD")):
        listing = make_listing(min_nights=1, price_per_night={"amount": 10000, "currency": currency},
                               cleaning_fee=None)
        guest = make_user()
        booking: Booking = bookings.create_booking(guest=guest, listing_id=listing.id, check_in=SOON,
                                                   check_out=SOON + timedelta(days=1), guests=1)[0]
        payment = Payment(booking_id=booking.id, guest_id=guest.id, provider=provider, amount=booking.total_amount,
                          currency=currency, status=status, key_hash=f"{name:0<64}"[:64],
                          request_hash="0" * 64)
        db.session.add(payment)
        db.session.commit()
        made[name] = payment.id
    return made


def test_payments_filter_by_status_provider_and_currency(admin_client, charges):
    url = "/admin/payments/"
    assert listed(admin_client, url, ("Status", "equals", "failed")) == {charges["paypal_failed"]}
    assert listed(admin_client, url, ("Provider", "equals", "stripe")) == {charges["stripe_ok"]}
    assert listed(admin_client, url, ("Currency", "equals", "USD")) == {charges["fake_usd"]}
    assert listed(admin_client, url, ("Status", "equals", "succeeded"),
                  ("Currency", "equals", "EUR")) == {charges["stripe_ok"]}


# Audit: actor, action, target, date

@pytest.fixture
def trail(app, admin):
    other = make_user(role="admin", email="other@example.com")
    rows = {"suspend": record(admin, "user.suspend", "user", 11, {"is_active": (True, False)}),
            "hide": record(other, "review.hide", "review", 12, {"reason": (None, "spam")}),
            "cli": record(None, "rate.set", "rate", None, {"EUR": ("0.9", "0.95")})}
    db.session.commit()
    backdated = record(admin, "listing.unpublish", "listing", 13, {"status": ("active", "unpublished")})
    backdated.created_at = datetime(2026, 1, 15, 12)  # before the INSERT: the log refuses any UPDATE
    db.session.commit()
    rows["old"] = backdated
    return {name: row.id for name, row in rows.items()}


def test_audit_filters_by_actor_and_action(admin_client, trail):
    url = "/admin/audit/"
    assert listed(admin_client, url, ("Actor", "equals", "other@example.com")) == {trail["hide"]}
    assert listed(admin_client, url, ("Actor", "equals", "boss@example.com")) == {trail["suspend"], trail["old"]}
    assert listed(admin_client, url, ("Action", "equals", "user.suspend")) == {trail["suspend"]}
    assert listed(admin_client, url, ("Action", "contains", "rate.")) == {trail["cli"]}


def test_audit_filters_by_target(admin_client, trail):
    url = "/admin/audit/"
    assert listed(admin_client, url, ("Target Type", "equals", "review")) == {trail["hide"]}
    assert listed(admin_client, url, ("Target Id", "equals", "13")) == {trail["old"]}
    assert listed(admin_client, url, ("Target Type", "equals", "user"), ("Target Id", "equals", "12")) == set()


def test_audit_filters_by_date(admin_client, trail):
    url = "/admin/audit/"
    january = ("Created At", "between", "2026-01-01 00:00:00 to 2026-01-31 23:59:59")
    assert listed(admin_client, url, january) == {trail["old"]}
    assert trail["old"] not in listed(admin_client, url, ("Created At", "greater than", "2026-02-01 00:00:00"))
