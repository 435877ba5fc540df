"""The admin JSON API (/api/v1/admin): who may call it, the lists' filters and their strictness, suspension
through the API (audited, the user's token dead at once) and the marketplace figures against the ledger."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest

from app.blueprints.bookings import services as bookings
from app.extensions import db
from app.models import Booking, Listing

from ..support.factories import make_listing, make_user

ROUTES = [("get", "/api/v1/admin/users"), ("get", "/api/v1/admin/properties"), ("get", "/api/v1/admin/bookings"),
          ("get", "/api/v1/admin/payments"), ("get", "/api/v1/admin/stats"), ("get", "/api/v1/admin/audit"),
          ("patch", "/api/v1/admin/users/{target}")]
SOON = date.today() + timedelta(days=30)


@pytest.fixture
def admin(app):
    return make_user(email="root@example.com", role="admin", name="Root")


def call(client, method: str, path: str, headers: dict | None = None, **kwargs):
    return getattr(client, method)(path, headers=headers or {}, **kwargs)


@pytest.mark.parametrize(("method", "path"), ROUTES)
def test_admin_routes_answer_401_anonymous_403_guest_and_host_200_admin(client, auth_headers, admin, method, path):
    target = make_user(email="target@example.com")
    path = path.format(target=target.id)
    body = {"json": {"is_active": True}} if method == "patch" else {}
    assert call(client, method, path, **body).status_code == 401
    for role in ("guest", "host"):
        response = call(client, method, path, auth_headers(make_user(role=role)), **body)
        assert response.status_code == 403
        assert response.get_json()["error"]["code"] == "forbidden"
    assert call(client, method, path, auth_headers(admin), **body).status_code == 200


def test_user_list_filters_masks_phones_and_never_shows_a_password_hash(client, auth_headers, admin):
    make_user(email="ann@example.com", name="Ann Smith", phone="+44 20 7946 0958")
    make_user(email="bob@host.example", name="Bob", role="host", is_active=False)
    headers = auth_headers(admin)
    page = client.get("/api/v1/admin/users?q=SMITH", headers=headers).get_json()
    assert [item["email"] for item in page["items"]] == ["ann@example.com"]
    ann = page["items"][0]
    assert ann["phone"] == "+** ** **** **58" and ann["role"] == "guest" and ann["is_active"] is True
    assert not {"password", "password_hash"} & set(ann) and "created_at" in ann
    everyone = client.get("/api/v1/admin/users", headers=headers).get_json()
    assert everyone["total"] == 3 and everyone["items"][0]["email"] == "bob@host.example"  # newest first
    assert [u["email"] for u in client.get("/api/v1/admin/users?role=host&is_active=false",
                                           headers=headers).get_json()["items"]] == ["bob@host.example"]
    today = date.today()
    window = f"created_from={today}&created_to={today + timedelta(days=1)}"
    assert client.get(f"/api/v1/admin/users?{window}", headers=headers).get_json()["total"] == 3
    assert client.get(f"/api/v1/admin/users?created_to={today}", headers=headers).get_json()["total"] == 0


@pytest.mark.parametrize(("query", "status", "field"), [
    ("/admin/users?colour=red", 422, "colour"),
    ("/admin/users?role=owner", 422, "role"),
    ("/admin/users?is_active=perhaps", 400, "is_active"),
    ("/admin/users?created_from=2030-01-05&created_to=2030-01-01", 422, "created_to"),
    ("/admin/users?created_from=yesterday", 400, "created_from"),
    ("/admin/properties?status=hidden", 422, "status"),
    ("/admin/properties?host_id=0", 422, "host_id"),
    ("/admin/properties?listing_id=3", 422, "listing_id"),
    ("/admin/bookings?status=lost", 422, "status"),
    ("/admin/bookings?property_id=x", 400, "property_id"),
    ("/admin/bookings?check_in_to=2030-02-30", 400, "check_in_to"),
    ("/admin/payments?provider=cash", 422, "provider"),
    ("/admin/payments?currency=XXX", 422, "currency"),
    ("/admin/payments?client_secret=1", 422, "client_secret"),
    ("/admin/audit?actor=1", 422, "actor"),
    ("/admin/audit?from=2030-01-02&to=2030-01-01", 422, "to"),
    ("/admin/audit?target_id=-1", 422, "target_id"),
])
def test_admin_lists_refuse_unknown_parameters_and_bad_values_naming_them(client, auth_headers, admin, query,
                                                                          status, field):
    response = client.get(f"/api/v1{query}", headers=auth_headers(admin))
    assert response.status_code == status
    error = response.get_json()["error"]
    assert error["code"] == ("validation_error" if status == 422 else "bad_request")
    assert field in error["fields"]


def test_property_booking_and_payment_lists_filter_and_hide_client_secrets(client, auth_headers, admin):
    berlin = make_listing(title="Berlin flat", address={"line1": "1 Weg", "city": "Berlin", "country": "DE"})
    amsterdam = make_listing(title="Canal loft")
    amsterdam.status = "deleted"
    db.session.commit()
    guest = make_user(email="guest@example.com")
    booking, _ = bookings.create_booking(guest=guest, listing_id=berlin.id, check_in=SOON,
                                         check_out=SOON + timedelta(days=2), guests=1)
    pay = client.post("/api/v1/payments", json={"booking_id": booking.id, "payment_method": "pm_card_visa"},
                      headers={**auth_headers(guest), "Idempotency-Key": "k1"})
    assert pay.status_code == 201
    headers = auth_headers(admin)
    get = lambda query: client.get(f"/api/v1/admin/{query}", headers=headers).get_json()  # noqa: E731
    assert [p["title"] for p in get("properties?city=berlin")["items"]] == ["Berlin flat"]
    assert [p["title"] for p in get("properties?status=deleted")["items"]] == ["Canal loft"]
    assert get(f"properties?host_id={berlin.host_id}")["total"] == 1
    assert [b["id"] for b in get(f"bookings?property_id={berlin.id}&status=confirmed")["items"]] == [booking.id]
    assert get(f"bookings?guest_id={admin.id}")["total"] == 0
    assert get(f"bookings?check_in_from={SOON}&check_in_to={SOON + timedelta(days=1)}")["total"] == 1
    assert get(f"bookings?check_in_to={SOON}")["total"] == 0
    payments = get(f"payments?booking_id={booking.id}&status=succeeded&provider=fake&currency=EUR")
    assert payments["total"] == 1 and "client_secret" not in payments["items"][0]
    assert get("payments?currency=USD")["total"] == 0
    assert db.session.get(Listing, amsterdam.id).status == "deleted"


def test_suspending_a_user_is_audited_with_the_request_id_and_their_token_stops_at_once(
        client, auth_headers, admin):
    guest = make_user(email="guest@example.com", name="Gina")
    guest_headers = auth_headers(guest)
    assert client.get("/api/v1/profile", headers=guest_headers).status_code == 200
    response = client.patch(f"/api/v1/admin/users/{guest.id}", json={"is_active": False},
                            headers={**auth_headers(admin), "X-Request-ID": "suspend-gina-1"})
    assert response.status_code == 200
    assert response.get_json()["is_active"] is False and response.headers["X-Request-ID"] == "suspend-gina-1"
    refused = client.get("/api/v1/profile", headers=guest_headers)
    assert refused.status_code == 403 and refused.get_json()["error"]["code"] == "account_suspended"
    audit = client.get(f"/api/v1/admin/audit?target_type=user&target_id={guest.id}",
                       headers=auth_headers(admin)).get_json()
    assert audit["total"] == 1
    entry = audit["items"][0]
    assert entry["action"] == "user.suspend" and entry["changes"] == {"is_active": [True, False]}
    assert entry["request_id"] == "suspend-gina-1" and entry["actor"]["id"] == admin.id
    assert entry["actor"]["name"] == "Root" and "email" not in entry["actor"]
    assert client.get("/api/v1/admin/audit?action=user.reactivate",
                      headers=auth_headers(admin)).get_json()["total"] == 0


def test_an_admin_cannot_suspend_themselves_and_nothing_is_audited(client, auth_headers, admin):
    make_user(email="second@example.com", role="admin")
    headers = auth_headers(admin)
    response = client.patch(f"/api/v1/admin/users/{admin.id}", json={"is_active": False}, headers=headers)
    assert response.status_code == 409
    assert client.get("/api/v1/admin/audit", headers=headers).get_json()["total"] == 0
    assert client.get("/api/v1/profile", headers=headers).status_code == 200


@pytest.mark.parametrize(("body", "field"), [({"is_active": "false"}, "is_active"), ({"is_active": None}, "is_active"),
                                            ({}, "is_active"), ({"is_active": False, "role": "admin"}, "role")])
def test_patching_a_user_takes_only_a_boolean_is_active(client, auth_headers, admin, body, field):
    guest = make_user(email="guest@example.com")
    response = client.patch(f"/api/v1/admin/users/{guest.id}", json=body, headers=auth_headers(admin))
    assert response.status_code == 422 and field in response.get_json()["error"]["fields"]
    assert guest.is_active is True and guest.role == "guest"


def test_patching_a_missing_user_is_404(client, auth_headers, admin):
    response = client.patch("/api/v1/admin/users/987654", json={"is_active": False}, headers=auth_headers(admin))
    assert response.status_code == 404


def _pay(client, auth_headers, guest, booking, key: str) -> None:
    response = client.post("/api/v1/payments", json={"booking_id": booking.id, "payment_method": "pm_card_visa"},
                           headers={**auth_headers(guest), "Idempotency-Key": key})
    assert response.status_code == 201 and response.get_json()["status"] == "succeeded", response.get_json()


def _book(guest, listing, start: date, nights: int) -> Booking:
    booking, _ = bookings.create_booking(guest=guest, listing_id=listing.id, check_in=start,
                                         check_out=start + timedelta(days=nights), guests=1)
    return booking


def _ledger_totals(app) -> dict[str, dict[str, int]]:
    """{currency: {charged, refunded, payout, fee_kept, held}} added up from `flask payments ledger --all`."""
    result = app.test_cli_runner().invoke(args=["payments", "ledger", "--all"])
    assert result.exit_code == 0, result.output
    totals: dict[str, dict[str, int]] = {}
    for line in result.output.splitlines()[1:-1]:
        _id, currency, *numbers = line.split()
        row = totals.setdefault(currency, dict.fromkeys(("charged", "refunded", "payout", "fee_kept", "held"), 0))
        for name, value in zip(row, numbers[:5], strict=True):
            row[name] += int(value)
    return totals


def test_stats_count_by_role_and_status_and_match_the_ledger_per_currency(app, client, auth_headers, admin):
    euro = make_listing(title="Lake loft", min_nights=1, price_per_night={"amount": 10000, "currency": "EUR"},
                        cleaning_fee={"amount": 3000, "currency": "EUR"})
    dollar = make_listing(title="Ranch", min_nights=1, cancellation_policy="strict",
                          price_per_night={"amount": 20000, "currency": "USD"},
                          cleaning_fee={"amount": 5000, "currency": "USD"})
    make_listing(title="Gone").status = "deleted"
    db.session.commit()
    guest = make_user(email="guest@example.com")
    done, later = _book(guest, euro, SOON, 2), _book(guest, euro, SOON + timedelta(days=60), 2)
    canceled = _book(guest, dollar, SOON + timedelta(days=10), 3)
    for number, booking in enumerate((done, later, canceled)):
        _pay(client, auth_headers, guest, booking, f"pay-{number}")
    response = client.post(f"/api/v1/bookings/{canceled.id}/cancel", json={}, headers=auth_headers(guest))
    assert response.get_json()["refund"] == {"amount": 32500, "currency": "USD"}  # strict: half of 65000
    after = datetime.combine(canceled.check_out, datetime.min.time()) + timedelta(hours=12)
    due = app.test_cli_runner().invoke(args=["jobs", "run-due", "--now", after.isoformat() + "Z"])
    assert due.exit_code == 0, due.output
    _book(guest, dollar, SOON + timedelta(days=90), 2)  # pending, unpaid
    stats = client.get("/api/v1/admin/stats", headers=auth_headers(admin)).get_json()

    # make_listing gives each listing a new host
    assert stats["users"] == {"guest": 1, "host": 3, "admin": 1}
    assert stats["properties"] == {"active": 2, "deleted": 1}
    assert stats["bookings"] == {"pending": 1, "confirmed": 1, "completed": 1, "canceled": 1}
    # EUR: two stays of 2 x 10000 + 3000 cleaning + 12 % fee (2760) = 25760 each; the completed one keeps its
    # fee and pays the host the rest. USD: 3 x 20000 + 5000 + 7800 fee = 72800 charged, half of 65000 back,
    # the fee kept, the host paid what is left (72800 - 32500 - 7800).
    assert stats["revenue"] == [
        {"currency": "EUR", "charged": 51520, "refunded": 0, "service_fees": 2760, "paid_out": 23000},
        {"currency": "USD", "charged": 72800, "refunded": 32500, "service_fees": 7800, "paid_out": 32500},
    ]
    ledger = _ledger_totals(app)
    for row in stats["revenue"]:
        line = ledger[row["currency"]]
        assert (row["charged"], row["refunded"], row["service_fees"], row["paid_out"]) == (
            line["charged"], line["refunded"], line["fee_kept"], line["payout"])
    assert ledger["EUR"]["held"] == 25760  # the confirmed stay's money, not settled yet


def test_stats_are_cached_briefly(client, auth_headers, admin):
    headers = auth_headers(admin)
    assert client.get("/api/v1/admin/stats", headers=headers).get_json()["users"]["guest"] == 0
    make_user(email="late@example.com")
    assert client.get("/api/v1/admin/stats", headers=headers).get_json()["users"]["guest"] == 0
