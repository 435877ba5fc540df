"""The dashboard's Unpublish action on the Listings list: the take-down through listings.unpublish_listing
(audited, out of search, bookings made stand), a refusal flashed for a deleted listing, and Restore after it."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import select

from app.blueprints.bookings import services as bookings
from app.blueprints.listings import services as listings
from app.extensions import db
from app.models import AuditEntry, Booking, Listing

from ..support.factories import make_listing, make_user
from ..support.pages import text_of
from .test_accounts import act

SOON = date.today() + timedelta(days=20)


def status_of(listing_id: int) -> str:
    db.session.expire_all()
    return db.session.get(Listing, listing_id).status


def test_unpublish_from_the_dashboard_keeps_bookings_and_restore_undoes_it(admin_client, admin):
    listing = make_listing(title="Canal loft", min_nights=1)
    booking, _ = bookings.create_booking(guest=make_user(), listing_id=listing.id, check_in=SOON,
                                         check_out=SOON + timedelta(days=2), guests=1)
    listed = text_of(admin_client.get("/admin/listings/"))
    assert "Unpublish" in listed and "Delete" in listed and "Restore" in listed
    assert "Unpublished: 1." in text_of(act(admin_client, "listings", "unpublish", listing.id))
    assert status_of(listing.id) == "unpublished"
    assert db.session.get(Booking, booking.id).status == "pending"  # the stay booked before stands
    assert admin_client.get("/api/v1/search?location=Amsterdam").get_json()["items"] == []
    assert "Restored: 1." in text_of(act(admin_client, "listings", "restore", listing.id))
    assert status_of(listing.id) == "active"
    actions = [(row.actor_id, row.action, row.changes["status"])
               for row in db.session.scalars(select(AuditEntry).order_by(AuditEntry.id))]
    assert actions == [(admin.id, "listing.unpublish", ["active", "unpublished"]),
                       (admin.id, "listing.restore", ["unpublished", "active"])]


def test_a_deleted_listing_cannot_be_unpublished_and_nothing_is_audited(admin_client, admin):
    listing = make_listing()
    listings.delete_listing(listing, actor=listing.host)
    shown = text_of(act(admin_client, "listings", "unpublish", listing.id))
    assert f"Listing {listing.id}: A deleted listing cannot be unpublished; restore it first." in shown
    assert "Unpublished:" not in shown
    assert status_of(listing.id) == "deleted" and db.session.scalar(select(AuditEntry.id)) is None
