"""The dashboard's accounts area through its pages: users (suspend, reactivate, promote), listings (delete,
restore), reviews (hide with a reason, unhide) and the audit log; each change with its audit row, each refusal a
flash with nothing changed and nothing audited."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import select

from app.blueprints.bookings import services as bookings
from app.blueprints.reviews import services as reviews
from app.extensions import db
from app.models import AuditEntry, Listing, Review, User

from ..support.factories import make_listing, make_user
from ..support.pages import csrf_token, page_of, submit, text_of
from ..support.stays import completed_stay
from .test_filters import filter_key
from .test_filters import listed as listed_ids


def entries() -> list[tuple[int | None, str, int | None, dict]]:
    db.session.expire_all()
    return [(row.actor_id, row.action, row.target_id, row.changes)
            for row in db.session.scalars(select(AuditEntry).order_by(AuditEntry.id))]


def act(client, view: str, name: str, *ids: int):
    """Choose rows on /admin/<view>/ and run a bulk action, the way the list page's action form posts."""
    token = csrf_token(client, f"/admin/{view}/")
    return client.post(f"/admin/{view}/action/", data={"csrf_token": token, "action": name,
                                                      "rowid": [str(row_id) for row_id in ids]},
                       follow_redirects=True)


@pytest.fixture
def admin(client, login) -> User:
    """An admin signed in on `client`."""
    user = make_user(role="admin", name="Ada Admin")
    login(client, user)
    return user


def test_users_list_masks_the_phone_and_shows_no_secret(client, admin):
    user = make_user(email="pat@example.com", name="Pat Smith")
    user.phone, user.payout_account = "+31612345678", "acct_SECRET42"
    db.session.commit()
    for url in ("/admin/users/", f"/admin/users/details/?id={user.id}"):
        page = page_of(client.get(url))
        assert "pat@example.com" in page and "78" in page
        assert "+316123456" not in page and "acct_SECRET42" not in page and user.password_hash not in page
    found = text_of(client.get("/admin/users/", query_string={"search": "Pat Smith"}))
    assert "pat@example.com" in found and admin.email not in found


def test_suspend_reactivate_and_promote_are_audited(client, admin):
    user = make_user(email="gus@example.com")
    shown = text_of(act(client, "users", "suspend", user.id))
    assert "Suspended: 1." in shown
    db.session.refresh(user)
    assert user.is_active is False
    assert "Reactivated: 1." in text_of(act(client, "users", "reactivate", user.id))
    assert "Promoted to admin: 1." in text_of(act(client, "users", "promote", user.id))
    db.session.refresh(user)
    assert (user.is_active, user.role) == (True, "admin")
    assert entries() == [(admin.id, "user.suspend", user.id, {"is_active": [True, False]}),
                         (admin.id, "user.reactivate", user.id, {"is_active": [False, True]}),
                         (admin.id, "user.role", user.id, {"role": ["guest", "admin"]})]


def test_an_admin_suspending_themselves_is_refused_and_the_other_rows_still_change(client, admin):
    other = make_user(role="admin", email="other@example.com")
    shown = text_of(act(client, "users", "suspend", admin.id, other.id))
    assert f"{admin.email}: You cannot suspend your own account; ask another admin." in shown
    assert "Suspended: 1." in shown
    db.session.expire_all()
    assert db.session.get(User, admin.id).is_active is True
    assert entries() == [(admin.id, "user.suspend", other.id, {"is_active": [True, False]})]


def test_a_refused_suspension_alone_changes_and_audits_nothing(client, admin):
    shown = text_of(act(client, "users", "suspend", admin.id))
    assert "You cannot suspend your own account" in shown and "Suspended:" not in shown
    assert entries() == []


def test_delete_and_restore_a_listing_with_search_following(client, admin):
    listing = make_listing(title="Canal loft")
    assert [item["id"] for item in client.get("/api/v1/search?location=Amsterdam").get_json()["items"]] == [listing.id]
    assert "Deleted: 1." in text_of(act(client, "listings", "delete_listing", listing.id))
    assert client.get("/api/v1/search?location=Amsterdam").get_json()["items"] == []
    assert "Restored: 1." in text_of(act(client, "listings", "restore", listing.id))
    assert [item["id"] for item in client.get("/api/v1/search?location=Amsterdam").get_json()["items"]] == [listing.id]
    (_, delete, _, deleted), (_, restore, _, restored) = [row[:4] for row in entries()]
    assert (delete, deleted["status"]) == ("listing.delete", ["active", "deleted"])
    assert (restore, restored["status"], restored["deleted_at"][1]) == ("listing.restore", ["deleted", "active"], None)
    assert {row[0] for row in entries()} == {admin.id}


def test_a_listing_with_bookings_ahead_cannot_be_deleted(client, admin):
    listing = make_listing(min_nights=1)
    soon = date.today() + timedelta(days=20)
    bookings.create_booking(guest=make_user(), listing_id=listing.id, check_in=soon,
                            check_out=soon + timedelta(days=2), guests=1)
    shown = text_of(act(client, "listings", "delete_listing", listing.id))
    assert f"Listing {listing.id}:" in shown and "Deleted:" not in shown
    db.session.expire_all()
    assert db.session.get(Listing, listing.id).status == "active" and entries() == []


def test_listings_filter_by_city_and_status(client, admin):
    make_listing(title="Canal loft")
    make_listing(title="Harbour flat", address={"line1": "1 Quay", "city": "Rotterdam", "state": "South Holland",
                                                "country": "NL", "postal_code": "3011"})
    page = page_of(client.get("/admin/listings/"))
    assert "Canal loft" in page and "Harbour flat" in page
    # Flask-Admin numbers the filters in column_filters order: city's first operation is "equals".
    filtered = text_of(client.get("/admin/listings/", query_string={"flt0_0": "Rotterdam"}))
    assert "Harbour flat" in filtered and "Canal loft" not in filtered


@pytest.fixture
def review(app) -> Review:
    listing = make_listing(min_nights=1, title="Canal loft")
    guest = make_user(email="guest@example.com")
    booking = completed_stay(guest, listing)
    return reviews.create_review(author=guest, booking_id=booking.id, rating=2, comment="Noisy at night")


def test_hide_with_a_reason_and_unhide_are_audited(client, admin, review):
    listed = text_of(client.get("/admin/reviews/"))
    assert "Canal loft" in listed and "guest@example.com" in listed and "Hide…" in listed
    form_url = f"/admin/reviews/hide/?id={review.id}"
    assert "Noisy at night" in text_of(client.get(form_url))
    shown = text_of(submit(client, form_url, {"reason": "Abusive language"}, follow_redirects=True))
    assert f"Review {review.id} hidden." in shown and "Abusive language" in shown
    assert client.get(f"/api/v1/properties/{review.listing_id}/reviews").get_json()["items"] == []
    assert "Shown again: 1." in text_of(act(client, "reviews", "unhide", review.id))
    (actor, hide, target, hidden), (_, unhide, _, shown_again) = entries()
    assert (actor, hide, target, hidden["reason"]) == (admin.id, "review.hide", review.id, [None, "Abusive language"])
    assert hidden["hidden_at"][0] is None and hidden["hidden_at"][1]
    assert (unhide, shown_again["reason"], shown_again["hidden_at"][1]) == ("review.unhide",
                                                                            ["Abusive language", None], None)


def test_a_too_long_reason_is_refused_on_the_form(client, admin, review):
    shown = text_of(submit(client, f"/admin/reviews/hide/?id={review.id}", {"reason": "x" * 501}))
    assert "Field cannot be longer than 500 characters." in shown
    db.session.expire_all()
    assert db.session.get(Review, review.id).hidden_at is None and entries() == []


def test_the_audit_log_lists_newest_first_and_filters(client, admin):
    first, second = make_user(email="first@example.com"), make_user(email="second@example.com")
    act(client, "users", "suspend", first.id)
    act(client, "users", "promote", second.id)
    page = text_of(client.get("/admin/audit/"))
    assert page.index("user.role") < page.index("user.suspend")
    only = listed_ids(client, "/admin/audit/", ("Action", "equals", "user.suspend"))
    assert len(only) == 1 and "user.role" not in text_of(client.get("/admin/audit/", query_string={
        f"flt0_{filter_key(client, '/admin/audit/', 'Action', 'equals')}": "user.suspend"}))
    listed = page_of(client.get("/admin/audit/"))
    assert "/admin/audit/new/" not in listed and "/admin/audit/edit/" not in listed and 'id="action_form"' not in listed
    entry_id = db.session.scalar(select(AuditEntry.id).limit(1))
    token = csrf_token(client, "/admin/users/")  # the audit log has no form of its own
    client.post("/admin/audit/delete/", data={"csrf_token": token, "id": str(entry_id)})
    client.post(f"/admin/audit/edit/?id={entry_id}", data={"csrf_token": token, "action": "user.rewritten"})
    client.post("/admin/audit/new/", data={"csrf_token": token, "action": "user.forged", "target_type": "user"})
    assert [row[1] for row in entries()] == ["user.suspend", "user.role"]
