"""Unpublishing a listing (an admin's moderation take-down): out of search and 404 to everyone but its host and
admins, not bookable or quotable, bookings made stand, only an admin's restore brings it back, audited; the
admin API's status filter and the contract's stats keys."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from app.blueprints.bookings import services as bookings
from app.blueprints.listings import services
from app.blueprints.reviews import services as reviews
from app.errors import Conflict, PermissionDenied
from app.extensions import db
from app.models import AuditEntry, Booking, Listing, ListingPlace, OutboxEmail

from ..support.factories import make_listing, make_user
from ..support.pages import submit, text_of
from ..support.stays import completed_stay

SOON = date.today() + timedelta(days=20)
TAKEN_DOWN = "Abode has taken this listing down; it cannot be booked."


@pytest.fixture
def admin(app):
    return make_user(role="admin", email="boss@example.com")


@pytest.fixture
def host(app):
    return make_user(role="host", email="host@example.com")


@pytest.fixture
def listing(host) -> Listing:
    return make_listing(host=host, title="Canal loft", min_nights=1)


def search_ids(client) -> list[int]:
    return [item["id"] for item in client.get("/api/v1/search?location=Amsterdam").get_json()["items"]]


def audit_rows() -> list[tuple[int | None, str, int | None, dict]]:
    db.session.expire_all()
    return [(row.actor_id, row.action, row.target_id, row.changes)
            for row in db.session.scalars(select(AuditEntry).order_by(AuditEntry.id))]


def book(listing: Listing, start: date = SOON) -> Booking:
    booking, _ = bookings.create_booking(guest=make_user(), listing_id=listing.id, check_in=start,
                                         check_out=start + timedelta(days=2), guests=1)
    return booking


def test_unpublish_takes_the_listing_out_of_search_and_audits_it(client, admin, listing):
    assert search_ids(client) == [listing.id]
    services.unpublish_listing(listing, actor=admin)
    db.session.expire_all()
    assert db.session.get(Listing, listing.id).status == "unpublished"
    assert search_ids(client) == []  # the cached search saw the change
    assert db.session.scalar(select(func.count()).select_from(ListingPlace)
                             .where(ListingPlace.listing_id == listing.id)) == 0
    assert audit_rows() == [(admin.id, "listing.unpublish", listing.id, {"status": ["active", "unpublished"]})]


def test_only_an_admin_unpublishes_and_a_deleted_listing_cannot_be(admin, host, listing):
    with pytest.raises(PermissionDenied):
        services.unpublish_listing(listing, actor=host)
    services.delete_listing(listing, actor=host)
    with pytest.raises(Conflict) as refused:
        services.unpublish_listing(listing, actor=admin)
    assert refused.value.code == "invalid_state"
    db.session.expire_all()
    assert db.session.get(Listing, listing.id).status == "deleted" and audit_rows() == []


def test_unpublishing_twice_changes_and_audits_once_and_tells_the_host_once(client, auth_headers, admin, host,
                                                                             listing):
    services.unpublish_listing(listing, actor=admin)
    services.unpublish_listing(listing, actor=admin)
    assert [row[1] for row in audit_rows()] == ["listing.unpublish"]
    told = client.get("/api/v1/notifications", headers=auth_headers(host)).get_json()["items"]
    assert [(item["type"], item["title"]) for item in told] == [("listing_unpublished",
                                                                  "Abode has taken Canal loft down")]
    [email] = db.session.scalars(select(OutboxEmail)).all()
    assert email.to_address == host.email
    services.restore_listing(listing, actor=admin)
    services.delete_listing(listing, actor=host)
    assert len(client.get("/api/v1/notifications", headers=auth_headers(host)).get_json()["items"]) == 1


def test_the_api_answers_404_to_all_but_its_host_and_admins(client, auth_headers, admin, host, listing):
    services.unpublish_listing(listing, actor=admin)
    url = f"/api/v1/properties/{listing.id}"
    assert client.get(url).status_code == 404
    refused = client.get(url, headers=auth_headers(make_user()))
    assert refused.status_code == 404 and refused.get_json()["error"]["code"] == "not_found"
    for viewer in (host, admin):
        seen = client.get(url, headers=auth_headers(viewer))
        assert seen.status_code == 200 and seen.get_json()["status"] == "unpublished"
    assert client.get(f"{url}/availability").status_code == 404
    assert client.get(f"{url}/reviews").status_code == 404
    assert client.get(f"{url}/availability", headers=auth_headers(host)).status_code == 200
    mine = client.get("/api/v1/host/properties", headers=auth_headers(host)).get_json()["items"]
    assert [(item["id"], item["status"]) for item in mine] == [(listing.id, "unpublished")]


def test_it_cannot_be_booked_or_quoted_but_bookings_made_stand(client, auth_headers, admin, listing):
    made = book(listing)
    services.unpublish_listing(listing, actor=admin)  # no has_active_bookings refusal, unlike delete
    guest = make_user()
    response = client.post("/api/v1/bookings", headers=auth_headers(guest),
                           json={"property_id": listing.id, "check_in": (SOON + timedelta(days=5)).isoformat(),
                                 "check_out": (SOON + timedelta(days=7)).isoformat(), "guests": 1})
    assert response.status_code == 422
    assert response.get_json()["error"]["fields"] == {"property_id": [TAKEN_DOWN]}
    quote = client.get(f"/api/v1/properties/{listing.id}/quote",
                       query_string={"check_in": SOON.isoformat(), "check_out": (SOON + timedelta(days=2)).isoformat()})
    assert quote.status_code == 422 and quote.get_json()["error"]["fields"] == {"property_id": [TAKEN_DOWN]}
    assert db.session.scalar(select(func.count()).select_from(Booking)) == 1
    shown = client.get(f"/api/v1/bookings/{made.id}", headers=auth_headers(made.guest))
    assert shown.status_code == 200 and shown.get_json()["status"] == "pending"


def test_a_deleted_listing_still_answers_as_missing_when_booked(client, auth_headers, host, listing):
    services.delete_listing(listing, actor=host)
    response = client.post("/api/v1/bookings", headers=auth_headers(make_user()),
                           json={"property_id": listing.id, "check_in": SOON.isoformat(),
                                 "check_out": (SOON + timedelta(days=2)).isoformat(), "guests": 1})
    assert response.get_json()["error"]["fields"] == {"property_id": ["no such listing"]}
    assert client.get(f"/api/v1/properties/{listing.id}/quote",
                      query_string={"check_in": SOON.isoformat()}).status_code == 404


def test_the_host_may_edit_but_not_republish_it(client, auth_headers, admin, host, listing):
    services.unpublish_listing(listing, actor=admin)
    headers = auth_headers(host)
    changed = client.patch(f"/api/v1/properties/{listing.id}", headers=headers, json={"title": "Quiet canal loft"})
    assert changed.status_code == 200 and changed.get_json()["status"] == "unpublished"
    refused = client.patch(f"/api/v1/properties/{listing.id}", headers=headers, json={"status": "active"})
    assert refused.status_code == 422  # status is no listing field: the body cannot set it
    assert refused.get_json()["error"]["fields"] == {"status": ["Unknown field."]}
    with pytest.raises(PermissionDenied):
        services.restore_listing(listing, actor=host)
    db.session.expire_all()
    assert db.session.get(Listing, listing.id).status == "unpublished" and search_ids(client) == []


def test_restore_brings_an_unpublished_listing_back(client, admin, listing):
    services.unpublish_listing(listing, actor=admin)
    services.restore_listing(db.session.get(Listing, listing.id), actor=admin)
    assert search_ids(client) == [listing.id]
    assert client.get(f"/api/v1/properties/{listing.id}").status_code == 200
    assert audit_rows()[-1] == (admin.id, "listing.restore", listing.id, {"status": ["unpublished", "active"]})


def test_deleting_an_unpublished_listing_with_stays_ahead_is_refused(client, auth_headers, admin, host, listing):
    book(listing)
    services.unpublish_listing(listing, actor=admin)
    response = client.delete(f"/api/v1/properties/{listing.id}", headers=auth_headers(host))
    assert response.status_code == 409 and response.get_json()["error"]["code"] == "has_active_bookings"
    db.session.expire_all()
    assert db.session.get(Listing, listing.id).status == "unpublished"


def test_an_unpublished_listing_without_stays_ahead_can_be_deleted(client, auth_headers, admin, host, listing):
    services.unpublish_listing(listing, actor=admin)
    assert client.delete(f"/api/v1/properties/{listing.id}", headers=auth_headers(host)).status_code == 204
    db.session.expire_all()
    assert db.session.get(Listing, listing.id).status == "deleted"
    assert client.get(f"/api/v1/properties/{listing.id}", headers=auth_headers(host)).status_code == 404


def test_admin_api_filters_by_unpublished_and_stats_keep_the_contract_keys(client, auth_headers, admin, listing):
    make_listing(title="Open flat")
    gone = make_listing(title="Gone")
    services.delete_listing(gone, actor=admin)
    services.unpublish_listing(listing, actor=admin)
    headers = auth_headers(admin)
    found = client.get("/api/v1/admin/properties?status=unpublished", headers=headers).get_json()["items"]
    assert [item["title"] for item in found] == ["Canal loft"]
    bad = client.get("/api/v1/admin/properties?status=hidden", headers=headers)
    assert bad.status_code == 422 and "unpublished" in bad.get_json()["error"]["fields"]["status"][0]
    stats = client.get("/api/v1/admin/stats", headers=headers).get_json()
    assert stats["properties"] == {"active": 1, "deleted": 1}  # exactly the contract's keys: unpublished is in neither


def test_the_host_sees_the_notice_on_their_pages_and_guests_get_404(client, login, admin, host, listing):
    services.unpublish_listing(listing, actor=admin)
    assert client.get(f"/listings/{listing.id}").status_code == 404
    login(client, host)
    dashboard = text_of(client.get("/host/listings"))
    assert "Canal loft" in dashboard and "Taken down by Abode." in dashboard
    page = client.get(f"/listings/{listing.id}")
    assert page.status_code == 200
    shown = text_of(page)
    assert "Abode has taken this listing down." in shown and "Only Abode can put it back" in shown
    assert 'id="booking-form"' not in page.get_data(as_text=True)
    saved = submit(client, f"/host/listings/{listing.id}/delete", {}, form_url="/host/listings",
                   follow_redirects=True)
    assert "was deleted" in text_of(saved)
    assert "Canal loft" not in text_of(client.get("/host/listings"))


def test_a_review_of_an_unpublished_listing_answers_404_to_anyone_but_its_host_and_admins(client, auth_headers):
    host, guest, admin = make_user(role="host"), make_user(), make_user(role="admin")
    listing = make_listing(host=host, instant_book=True, min_nights=1)
    review = reviews.create_review(author=guest, booking_id=completed_stay(guest, listing).id, rating=5,
                                   comment="Lovely canal view")
    services.unpublish_listing(listing, actor=admin)
    assert client.get(f"/api/v1/properties/{listing.id}/reviews").status_code == 404
    assert client.get(f"/api/v1/reviews/{review.id}").status_code == 404
    assert client.get(f"/api/v1/reviews/{review.id}", headers=auth_headers(make_user())).status_code == 404
    assert client.get(f"/api/v1/reviews/{review.id}", headers=auth_headers(host)).status_code == 200
    assert client.get(f"/api/v1/reviews/{review.id}", headers=auth_headers(admin)).status_code == 200
    services.restore_listing(listing, actor=admin)
    assert client.get(f"/api/v1/reviews/{review.id}").status_code == 200
