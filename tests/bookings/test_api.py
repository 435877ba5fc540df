"""Bookings over the JSON API: quotes, creation rules, idempotency, the status machine, jobs and visibility."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest

from app.blueprints.bookings import services, state
from app.blueprints.calendar import services as calendar
from app.blueprints.calendar.ranges import NightRange
from app.extensions import db
from app.models import Booking, NightHold, utcnow

from ..support.factories import make_listing, make_user

SOON = date.today() + timedelta(days=20)


def stay(listing, check_in=SOON, nights=3, guests=2) -> dict:
    return {"property_id": listing.id, "check_in": check_in.isoformat(),
            "check_out": (check_in + timedelta(days=nights)).isoformat(), "guests": guests}


def book(client, auth_headers, guest, listing, status=201, key=None, **kwargs):
    headers = {**auth_headers(guest), **({"Idempotency-Key": key} if key else {})}
    response = client.post("/api/v1/bookings", json=stay(listing, **kwargs), headers=headers)
    assert response.status_code == status, response.get_json()
    return response.get_json()


def held_nights(listing) -> list[date]:
    return sorted(db.session.scalars(db.select(NightHold.night).where(NightHold.listing_id == listing.id)))


@pytest.fixture
def listing(app):
    return make_listing(price_per_night={"amount": 10000, "currency": "EUR"},
                        cleaning_fee={"amount": 2500, "currency": "EUR"}, max_guests=4, min_nights=2,
                        max_nights=14, cancellation_policy="moderate", instant_book=True)


@pytest.fixture
def guest(app):
    return make_user(email="guest@example.com")


def test_quote_counts_each_night_at_its_price_and_adds_fees(client, listing):
    calendar.set_availability(listing, actor=listing.host, ranges=[
        NightRange(SOON + timedelta(days=1), SOON + timedelta(days=2), price={"amount": 16000, "currency": "EUR"})])
    query = f"check_in={SOON}&check_out={SOON + timedelta(days=3)}&guests=2"
    body = client.get(f"/api/v1/properties/{listing.id}/quote?{query}").get_json()
    # 100 + 160 + 100 nights, 25 cleaning, 12% service fee of 385 = 46.20
    assert body == {"nights": 3, "available": True, "price": {
        "nightly": {"amount": 36000, "currency": "EUR"}, "cleaning_fee": {"amount": 2500, "currency": "EUR"},
        "service_fee": {"amount": 4620, "currency": "EUR"}, "total": {"amount": 43120, "currency": "EUR"}}}


def test_booking_costs_what_the_quote_said(client, auth_headers, listing, guest):
    query = f"check_in={SOON}&check_out={SOON + timedelta(days=3)}&guests=2"
    quoted = client.get(f"/api/v1/properties/{listing.id}/quote?{query}").get_json()
    booking = book(client, auth_headers, guest, listing)
    assert booking["price"] == quoted["price"]
    assert {k: booking[k] for k in ("property_id", "guest_id", "nights", "guests", "status", "cancellation_policy",
                                    "awaiting_approval", "paid", "refund")} == {
        "property_id": listing.id, "guest_id": guest.id, "nights": 3, "guests": 2, "status": "pending",
        "cancellation_policy": "moderate", "awaiting_approval": False, "paid": False, "refund": None}
    assert booking["expires_at"].endswith("Z") and booking["created_at"].endswith("Z")
    assert held_nights(listing) == [SOON + timedelta(days=n) for n in range(3)]
    after = client.get(f"/api/v1/properties/{listing.id}/quote?{query}").get_json()
    assert after["available"] is False


@pytest.mark.parametrize("change, field", [
    ({"check_in": (date.today() - timedelta(days=1)).isoformat()}, "check_in"),
    ({"check_out": SOON.isoformat()}, "check_out"),
    ({"check_out": (SOON - timedelta(days=2)).isoformat()}, "check_out"),
    ({"check_out": (SOON + timedelta(days=1)).isoformat()}, "check_out"),   # 1 night, min 2
    ({"check_out": (SOON + timedelta(days=15)).isoformat()}, "check_out"),  # 15 nights, max 14
    ({"guests": 5}, "guests"),
    ({"guests": 0}, "guests"),
    ({"guests": "two"}, "guests"),
    ({"check_in": "2030-02-30"}, "check_in"),
    ({"check_in": SOON.strftime("%Y%m%d")}, "check_in"),  # the contract's dates are YYYY-MM-DD only
    ({"check_in": None}, "check_in"),
    ({"guests": None}, "guests"),
    ({"property_id": 999999}, "property_id"),
    ({"property_id": "1"}, "property_id"),
    ({"property_id": 2**63}, "property_id"),
    ({"property_id": True}, "property_id"),
])
def test_invalid_bookings_are_422_naming_the_field(client, auth_headers, listing, guest, change, field):
    response = client.post("/api/v1/bookings", json={**stay(listing), **change}, headers=auth_headers(guest))
    assert response.status_code == 422, response.get_json()
    assert field in response.get_json()["error"]["fields"]
    assert held_nights(listing) == []


def test_quote_validates_like_booking(client, listing):
    base = f"/api/v1/properties/{listing.id}/quote"
    assert client.get(f"{base}?check_in=soon&check_out={SOON}").status_code == 400
    assert client.get(f"{base}?check_in={SOON}&check_out={SOON}").status_code == 422
    assert client.get(f"{base}?check_in={SOON}&check_out={SOON + timedelta(days=3)}&guests=9").status_code == 422
    assert client.get(f"/api/v1/properties/999999/quote?check_in={SOON}").status_code == 404


def test_host_cannot_book_own_listing_and_deleted_listing_cannot_be_booked(client, auth_headers, listing, guest):
    response = client.post("/api/v1/bookings", json=stay(listing), headers=auth_headers(listing.host))
    assert response.status_code == 403
    other = make_listing(listing.host, title="Gone soon")
    client.delete(f"/api/v1/properties/{other.id}", headers=auth_headers(listing.host))
    response = client.post("/api/v1/bookings", json=stay(other), headers=auth_headers(guest))
    assert response.status_code == 422 and "property_id" in response.get_json()["error"]["fields"]
    assert client.post("/api/v1/bookings", json=stay(listing)).status_code == 401


def test_overlapping_booking_is_409_and_adjacent_stays_are_fine(client, auth_headers, listing, guest):
    book(client, auth_headers, guest, listing)  # SOON .. SOON+3
    other = make_user(email="other@example.com")
    conflict = book(client, auth_headers, other, listing, status=409, check_in=SOON + timedelta(days=2))
    assert conflict["error"]["code"] == "dates_unavailable"
    book(client, auth_headers, other, listing, check_in=SOON + timedelta(days=3))  # arrives as the first leaves
    book(client, auth_headers, other, listing, check_in=SOON - timedelta(days=2), nights=2)  # leaves as it arrives
    assert len(held_nights(listing)) == 3 + 3 + 2


def test_blocked_nights_cannot_be_booked(client, auth_headers, listing, guest):
    calendar.set_availability(listing, actor=listing.host, ranges=[
        NightRange(SOON, SOON + timedelta(days=1), available=False)])
    assert book(client, auth_headers, guest, listing, status=409)["error"]["code"] == "dates_unavailable"


def test_idempotency_key_returns_the_first_booking(client, auth_headers, listing, guest):
    headers = {**auth_headers(guest), "Idempotency-Key": "k1"}
    first = client.post("/api/v1/bookings", json=stay(listing), headers=headers)
    again = client.post("/api/v1/bookings", json=stay(listing), headers=headers)
    assert (first.status_code, again.status_code) == (201, 201)
    assert again.get_json() == first.get_json() and again.headers["Idempotent-Replayed"] == "true"
    assert Booking.query.count() == 1
    different = book(client, auth_headers, guest, listing, status=409, key="k1", check_in=SOON + timedelta(days=5))
    assert different["error"]["code"] == "idempotency_mismatch"
    other = make_user(email="other@example.com")  # keys belong to their user
    assert book(client, auth_headers, other, listing, status=409, key="k1")["error"]["code"] == "dates_unavailable"


def test_instant_book_is_confirmed_by_payment(client, auth_headers, listing, guest):
    booking = book(client, auth_headers, guest, listing)
    paid = services.record_payment(booking["id"], booking["price"]["total"]["amount"])
    assert (paid.status, paid.paid, paid.awaiting_approval, paid.expires_at) == ("confirmed", True, False, None)
    with pytest.raises(services.state.InvalidState):
        services.record_payment(booking["id"], 1)


@pytest.fixture
def request_listing(app):
    return make_listing(title="Ask first", instant_book=False, cancellation_policy="strict", max_nights=30)


def test_request_to_book_is_paid_then_approved_by_its_host(client, auth_headers, request_listing, guest):
    booking = book(client, auth_headers, guest, request_listing)
    url = f"/api/v1/bookings/{booking['id']}"
    assert client.post(f"{url}/approve", headers=auth_headers(request_listing.host)).get_json()["error"]["code"] \
        == "invalid_state"  # not paid yet
    services.record_payment(booking["id"], booking["price"]["total"]["amount"])
    shown = client.get(url, headers=auth_headers(guest)).get_json()
    assert (shown["status"], shown["awaiting_approval"], shown["paid"]) == ("pending", True, True)
    assert client.post(f"{url}/approve", headers=auth_headers(guest)).status_code == 403
    approved = client.post(f"{url}/approve", headers=auth_headers(request_listing.host))
    assert approved.status_code == 200 and approved.get_json()["status"] == "confirmed"
    assert client.post(f"{url}/decline", headers=auth_headers(request_listing.host)).status_code == 409


def test_decline_cancels_with_a_full_refund_and_frees_the_nights(client, auth_headers, request_listing, guest):
    booking = book(client, auth_headers, guest, request_listing)
    services.record_payment(booking["id"], booking["price"]["total"]["amount"])
    declined = client.post(f"/api/v1/bookings/{booking['id']}/decline", headers=auth_headers(request_listing.host))
    body = declined.get_json()
    assert (body["status"], body["refund"]) == ("canceled", booking["price"]["total"])
    assert held_nights(request_listing) == []
    book(client, auth_headers, make_user(email="next@example.com"), request_listing)  # the nights are free again


def test_instant_book_cannot_be_approved(client, auth_headers, listing, guest):
    booking = book(client, auth_headers, guest, listing)
    services.record_payment(booking["id"], booking["price"]["total"]["amount"])
    response = client.post(f"/api/v1/bookings/{booking['id']}/approve", headers=auth_headers(listing.host))
    assert response.status_code == 409 and response.get_json()["error"]["code"] == "invalid_state"


def test_guest_cancel_of_unpaid_booking_refunds_zero(client, auth_headers, listing, guest):
    booking = book(client, auth_headers, guest, listing)
    response = client.post(f"/api/v1/bookings/{booking['id']}/cancel", json={"reason": "plans changed"},
                           headers=auth_headers(guest))
    assert response.get_json()["refund"] == {"amount": 0, "currency": "EUR"}
    assert response.get_json()["status"] == "canceled" and held_nights(listing) == []
    again = client.post(f"/api/v1/bookings/{booking['id']}/cancel", headers=auth_headers(guest))
    assert again.status_code == 409 and again.get_json()["error"]["code"] == "invalid_state"


def test_host_and_admin_cancel_refund_everything_paid(client, auth_headers, listing, guest):
    admin = make_user(email="admin@example.com", role="admin")
    for actor in (listing.host, admin):
        booking = book(client, auth_headers, guest, listing)
        services.record_payment(booking["id"], booking["price"]["total"]["amount"])
        body = client.post(f"/api/v1/bookings/{booking['id']}/cancel", json={}, headers=auth_headers(actor)).get_json()
        assert body["refund"] == booking["price"]["total"]


def test_cancel_reason_is_checked(client, auth_headers, listing, guest):
    booking = book(client, auth_headers, guest, listing)
    for reason in ("x" * 501, 42, ["plans"]):
        response = client.post(f"/api/v1/bookings/{booking['id']}/cancel", json={"reason": reason},
                               headers=auth_headers(guest))
        assert response.status_code == 422 and response.get_json()["error"]["fields"] == {
            "reason": ["give a text of at most 500 characters"]}, reason
    kept = client.get(f"/api/v1/bookings/{booking['id']}", headers=auth_headers(guest)).get_json()
    assert kept["status"] == booking["status"]  # nothing was canceled by a refused body


def test_only_guest_host_and_admin_see_a_booking(client, auth_headers, listing, guest):
    booking = book(client, auth_headers, guest, listing)
    url = f"/api/v1/bookings/{booking['id']}"
    for viewer in (guest, listing.host, make_user(email="a@example.com", role="admin")):
        assert client.get(url, headers=auth_headers(viewer)).status_code == 200
    stranger = make_user(email="stranger@example.com")
    assert client.get(url, headers=auth_headers(stranger)).status_code == 404
    assert client.post(f"{url}/cancel", headers=auth_headers(stranger)).status_code == 404
    assert client.get(url).status_code == 401


def test_lists_as_guest_and_as_host_with_status_filter(client, auth_headers, listing, guest):
    first = book(client, auth_headers, guest, listing)
    book(client, auth_headers, guest, listing, check_in=SOON + timedelta(days=7))
    client.post(f"/api/v1/bookings/{first['id']}/cancel", headers=auth_headers(guest))
    mine = client.get("/api/v1/bookings", headers=auth_headers(guest)).get_json()
    assert (mine["total"], [b["check_in"] for b in mine["items"]]) == (
        2, [(SOON + timedelta(days=7)).isoformat(), SOON.isoformat()])
    hosted = client.get("/api/v1/bookings?as=host&status=canceled", headers=auth_headers(listing.host)).get_json()
    assert [b["id"] for b in hosted["items"]] == [first["id"]]
    assert client.get("/api/v1/bookings?as=host", headers=auth_headers(guest)).get_json()["total"] == 0
    assert client.get("/api/v1/bookings?as=owner", headers=auth_headers(guest)).status_code == 422
    assert client.get("/api/v1/bookings?status=lost", headers=auth_headers(guest)).status_code == 422


def test_booking_hides_its_dates_from_search_and_cancel_frees_them(client, auth_headers, listing, guest):
    dates = f"check_in={SOON}&check_out={SOON + timedelta(days=3)}"
    assert [i["id"] for i in client.get(f"/api/v1/search?{dates}").get_json()["items"]] == [listing.id]
    booking = book(client, auth_headers, guest, listing)
    assert client.get(f"/api/v1/search?{dates}").get_json()["items"] == []
    client.post(f"/api/v1/bookings/{booking['id']}/cancel", headers=auth_headers(guest))
    assert [i["id"] for i in client.get(f"/api/v1/search?{dates}").get_json()["items"]] == [listing.id]


def test_listing_with_an_upcoming_booking_cannot_be_deleted(client, auth_headers, listing, guest):
    booking = book(client, auth_headers, guest, listing)
    response = client.delete(f"/api/v1/properties/{listing.id}", headers=auth_headers(listing.host))
    assert response.status_code == 409 and response.get_json()["error"]["code"] == "has_active_bookings"
    client.post(f"/api/v1/bookings/{booking['id']}/cancel", headers=auth_headers(guest))
    assert client.delete(f"/api/v1/properties/{listing.id}", headers=auth_headers(listing.host)).status_code == 204


def run_due(app, now: datetime) -> str:
    result = app.test_cli_runner().invoke(args=["jobs", "run-due", "--now", now.isoformat() + "Z"])
    assert result.exit_code == 0, result.output
    return result.output


def test_jobs_expire_unpaid_after_30_minutes_idempotently(app, client, auth_headers, listing, guest):
    booking = book(client, auth_headers, guest, listing)
    created = db.session.get(Booking, booking["id"]).created_at
    assert "0 booking(s) expired" in run_due(app, created + timedelta(minutes=29, seconds=59))
    assert "1 booking(s) expired" in run_due(app, created + timedelta(minutes=30))
    assert "0 booking(s) expired" in run_due(app, created + timedelta(minutes=31))
    expired = db.session.get(Booking, booking["id"])
    db.session.refresh(expired)
    assert (expired.status, expired.canceled_by, expired.refund_amount) == ("canceled", "expired", 0)
    assert held_nights(listing) == []


def test_jobs_expire_unanswered_requests_after_24_hours_with_full_refund(app, client, auth_headers,
                                                                          request_listing, guest):
    booking = book(client, auth_headers, guest, request_listing)
    paid_at = utcnow()
    services.record_payment(booking["id"], booking["price"]["total"]["amount"], now=paid_at)
    assert "0 booking(s) expired" in run_due(app, paid_at + timedelta(hours=23, minutes=59))
    assert "1 booking(s) expired" in run_due(app, paid_at + timedelta(hours=24))
    expired = db.session.get(Booking, booking["id"])
    db.session.refresh(expired)
    assert (expired.status, expired.refund_amount) == ("canceled", booking["price"]["total"]["amount"])


def test_jobs_complete_confirmed_stays_after_check_out(app, client, auth_headers, listing, guest):
    booking = book(client, auth_headers, guest, listing)  # in Amsterdam: 11:00 there is 09:00 or 10:00 UTC
    services.record_payment(booking["id"], booking["price"]["total"]["amount"])
    check_out = SOON + timedelta(days=3)
    assert "0 stay(s) completed" in run_due(app, datetime.combine(check_out, datetime.min.time()))
    assert "1 stay(s) completed" in run_due(app, datetime.combine(check_out, datetime.min.time()) + timedelta(hours=11))
    assert "0 stay(s) completed" in run_due(app, datetime.combine(check_out, datetime.min.time()) + timedelta(hours=12))
    done = db.session.get(Booking, booking["id"])
    db.session.refresh(done)
    assert done.status == "completed"
    assert client.post(f"/api/v1/bookings/{booking['id']}/cancel", headers=auth_headers(guest)).status_code == 409


def test_lists_filter_by_several_statuses_and_by_awaiting_approval(client, auth_headers, request_listing, guest):
    waiting = book(client, auth_headers, guest, request_listing)
    services.record_payment(waiting["id"], waiting["price"]["total"]["amount"])
    unpaid = book(client, auth_headers, guest, request_listing, check_in=SOON + timedelta(days=7))
    gone = book(client, auth_headers, guest, request_listing, check_in=SOON + timedelta(days=14))
    client.post(f"/api/v1/bookings/{gone['id']}/cancel", headers=auth_headers(guest))
    host = auth_headers(request_listing.host)

    def listed(query: str) -> set[int]:
        return {b["id"] for b in client.get(f"/api/v1/bookings?as=host&{query}", headers=host).get_json()["items"]}

    assert listed("status=pending,canceled") == {waiting["id"], unpaid["id"], gone["id"]}
    assert listed("awaiting_approval=true") == {waiting["id"]}
    assert listed("status=pending&awaiting_approval=false") == {unpaid["id"]}
    assert client.get("/api/v1/bookings?awaiting_approval=maybe", headers=host).status_code == 422
    assert client.get("/api/v1/bookings?status=pending,lost", headers=host).status_code == 422


def test_trip_sections_put_a_finished_stay_in_the_past_before_the_scheduler_runs(app, listing, guest):
    booking, _ = services.create_booking(guest=guest, listing_id=listing.id, check_in=SOON,
                                         check_out=SOON + timedelta(days=3), guests=2)
    services.record_payment(booking.id, booking.total_amount)
    during, after = SOON + timedelta(days=1), SOON + timedelta(days=3)
    assert [b.id for b in services.list_trips(guest, "upcoming", 1, 10, today=during).items] == [booking.id]
    assert services.list_trips(guest, "past", 1, 10, today=after).items == [booking]
    assert services.trip_counts(guest, today=after) == {"upcoming": 0, "past": 1, "canceled": 0}


def test_an_expired_booking_cannot_be_paid_or_approved_before_the_scheduler_runs(client, auth_headers, listing,
                                                                                  request_listing, guest):
    unpaid = book(client, auth_headers, guest, listing)
    created = db.session.get(Booking, unpaid["id"]).created_at
    with pytest.raises(services.state.InvalidState):
        services.record_payment(unpaid["id"], unpaid["price"]["total"]["amount"], now=created + timedelta(minutes=31))
    waiting = book(client, auth_headers, guest, request_listing)
    paid_at = utcnow()
    services.record_payment(waiting["id"], waiting["price"]["total"]["amount"], now=paid_at)
    with pytest.raises(services.state.InvalidState):
        services.approve_booking(waiting["id"], request_listing.host, now=paid_at + timedelta(hours=24, minutes=1))


def test_a_payment_must_be_the_bookings_total(client, auth_headers, listing, guest):
    booking = book(client, auth_headers, guest, listing)
    with pytest.raises(ValueError):
        services.record_payment(booking["id"], booking["price"]["total"]["amount"] + 1)
    assert db.session.get(Booking, booking["id"]).paid is False


def test_a_stay_that_is_over_cannot_be_canceled(client, auth_headers, listing, guest):
    booking = book(client, auth_headers, guest, listing)
    services.record_payment(booking["id"], booking["price"]["total"]["amount"])
    over = datetime.combine(SOON + timedelta(days=4), datetime.min.time())
    with pytest.raises(services.state.InvalidState):
        services.cancel_booking(booking["id"], listing.host, now=over)


def test_idempotency_keys_differ_by_case_and_spaces(client, auth_headers, listing, guest):
    first = book(client, auth_headers, guest, listing, key="Abc")
    second = book(client, auth_headers, guest, listing, key="abc", check_in=SOON + timedelta(days=5))
    third = book(client, auth_headers, guest, listing, key="abc ", check_in=SOON + timedelta(days=10))
    assert len({first["id"], second["id"], third["id"]}) == 3


def test_week_dates_are_not_dates(client, auth_headers, listing, guest):
    response = client.post("/api/v1/bookings", json={**stay(listing), "check_in": "2027-W10-1"},
                           headers=auth_headers(guest))
    assert response.status_code == 422 and "check_in" in response.get_json()["error"]["fields"]


def test_a_retry_that_spells_out_the_default_party_size_is_the_same_request(client, auth_headers, listing, guest):
    headers = {**auth_headers(guest), "Idempotency-Key": "defaults"}
    body = stay(listing)
    del body["guests"]
    first = client.post("/api/v1/bookings", json=body, headers=headers)
    again = client.post("/api/v1/bookings", json={**body, "guests": 1}, headers=headers)
    assert (first.status_code, again.status_code) == (201, 201), again.get_json()
    assert again.get_json()["id"] == first.get_json()["id"] and again.headers["Idempotent-Replayed"] == "true"
    assert first.get_json()["guests"] == 1 and Booking.query.count() == 1


def test_a_long_stay_at_the_highest_nightly_price_in_yen_is_quoted_and_booked_exactly(client, auth_headers, guest):
    top = make_listing(price_per_night={"amount": 100_000_000, "currency": "JPY"}, cleaning_fee=None, min_nights=1,
                       max_nights=60, instant_book=True)
    nights = 22  # 2.2 billion yen of nights: past what a 32-bit column holds
    quote = client.get(f"/api/v1/properties/{top.id}/quote?check_in={SOON}&check_out={SOON + timedelta(days=nights)}"
                       "&guests=1")
    assert quote.status_code == 200 and quote.get_json()["available"] is True
    booked = book(client, auth_headers, guest, top, nights=nights, guests=1)
    nightly = 100_000_000 * nights
    assert booked["price"]["nightly"] == {"amount": nightly, "currency": "JPY"}
    assert booked["price"]["total"]["amount"] == nightly + nightly * 12 // 100 == quote.get_json()["price"]["total"][
        "amount"]
    db.session.expire_all()
    assert db.session.get(Booking, booked["id"]).total_amount == booked["price"]["total"]["amount"]


def test_moving_the_listing_to_another_time_zone_keeps_a_booking_where_it_was_promised(client, auth_headers, guest):
    listing = make_listing(timezone="Europe/Paris", min_nights=1, instant_book=True, cancellation_policy="flexible")
    booked = book(client, auth_headers, guest, listing, nights=2)
    booking = db.session.get(Booking, booked["id"])
    check_in, deadline = state.check_in_at(booking), state.refund_deadline(booking)[0]
    moved = client.patch(f"/api/v1/properties/{listing.id}", json={"timezone": "Pacific/Auckland"},
                         headers=auth_headers(listing.host))
    assert moved.status_code == 200
    db.session.expire_all()
    booking = db.session.get(Booking, booked["id"])
    assert booking.listing.timezone == "Pacific/Auckland" and booking.timezone == "Europe/Paris"
    assert (state.check_in_at(booking), state.refund_deadline(booking)[0]) == (check_in, deadline)
    page = client.get(f"/api/v1/bookings/{booking.id}", headers=auth_headers(guest))
    assert page.status_code == 200
