"""The buttons on each dashboard list row: each is shown where its action applies, posts its small form (with the
site's CSRF token) to the view's action, and does what the Actions menu does; without the token it is refused."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from sqlalchemy import select

from app.blueprints.bookings import services as bookings
from app.blueprints.bookings.state import check_out_at
from app.blueprints.reviews import services as reviews
from app.extensions import db
from app.models import AuditEntry, Listing, OutboxEmail, Payment, PaymentRefund, Payout, Review

from ..support.factories import make_listing, make_user
from ..support.pages import page_of, press, row_button, text_of
from ..support.stays import completed_stay, paid_booking, refused_refund

SOON = date.today() + timedelta(days=30)


def actions() -> list[str]:
    db.session.expire_all()
    return [entry.action for entry in db.session.scalars(select(AuditEntry).order_by(AuditEntry.id))]


def test_user_rows_suspend_reactivate_and_promote(admin_client):
    user = make_user(email="pat@example.com")
    assert row_button(admin_client, "/admin/users/", "reactivate", user.id) is None  # active: nothing to undo
    shown = text_of(press(admin_client, "/admin/users/", "suspend", user.id, follow_redirects=True))
    assert "Suspended: 1." in shown and "Users" in shown  # back on the list
    db.session.refresh(user)
    assert user.is_active is False
    assert row_button(admin_client, "/admin/users/", "suspend", user.id) is None
    assert "Reactivated: 1." in text_of(press(admin_client, "/admin/users/", "reactivate", user.id,
                                              follow_redirects=True))
    assert "Promoted to admin: 1." in text_of(press(admin_client, "/admin/users/", "promote", user.id,
                                                    follow_redirects=True))
    db.session.refresh(user)
    assert (user.is_active, user.role) == (True, "admin")
    assert row_button(admin_client, "/admin/users/", "promote", user.id) is None
    assert actions() == ["user.suspend", "user.reactivate", "user.role"]


def test_a_row_button_keeps_the_lists_filter_and_shows_a_refusal(admin_client, admin):
    url = "/admin/users/?search=boss"
    response = press(admin_client, url, "suspend", admin.id)
    assert response.status_code == 302 and "/admin/users/?search=boss" in response.headers["Location"]
    shown = text_of(admin_client.get(response.headers["Location"]))
    assert "You cannot suspend your own account; ask another admin." in shown
    assert actions() == []


def test_a_row_button_without_its_csrf_token_is_refused(admin_client):
    user = make_user()
    response = press(admin_client, "/admin/users/", "suspend", user.id, csrf=False)
    assert response.status_code == 400
    db.session.refresh(user)
    assert user.is_active is True and actions() == []


def test_listing_rows_delete_and_restore(admin_client):
    listing = make_listing()
    assert row_button(admin_client, "/admin/listings/", "restore", listing.id) is None
    assert "Deleted: 1." in text_of(press(admin_client, "/admin/listings/", "delete_listing", listing.id,
                                          follow_redirects=True))
    db.session.expire_all()
    assert db.session.get(Listing, listing.id).status == "deleted"
    assert "Restored: 1." in text_of(press(admin_client, "/admin/listings/", "restore", listing.id,
                                           follow_redirects=True))
    db.session.expire_all()
    assert db.session.get(Listing, listing.id).status == "active"
    assert actions() == ["listing.delete", "listing.restore"]


def test_review_rows_link_to_the_reason_form_and_unhide(admin_client, admin):
    guest = make_user()
    booking = completed_stay(guest, make_listing(min_nights=1))
    review = reviews.create_review(author=guest, booking_id=booking.id, rating=2, comment="Noisy")
    page = page_of(admin_client.get("/admin/reviews/"))
    assert f'href="/admin/reviews/hide/?id={review.id}' in page and "Hide…" in page
    assert row_button(admin_client, "/admin/reviews/", "unhide", review.id) is None
    reviews.hide_review(review.id, admin=admin, reason="Abuse")
    assert f"/admin/reviews/hide/?id={review.id}" not in page_of(admin_client.get("/admin/reviews/"))
    assert "Shown again: 1." in text_of(press(admin_client, "/admin/reviews/", "unhide", review.id,
                                              follow_redirects=True))
    db.session.expire_all()
    assert db.session.get(Review, review.id).hidden_at is None


def test_booking_rows_link_to_the_cancel_form_on_the_booking_page(admin_client):
    booking = paid_booking()
    page = page_of(admin_client.get("/admin/bookings/"))
    link = f"/admin/bookings/details/?id={booking.id}"
    assert link in page and "#cancel" in page and "Cancel…" in page
    assert 'id="cancel"' in page_of(admin_client.get(link))
    bookings.cancel_booking(booking.id, booking.guest)
    assert "Cancel…" not in page_of(admin_client.get("/admin/bookings/"))


def test_payment_rows_refund_a_settled_booking_in_full(admin_client):
    booking = paid_booking()
    payment_id = db.session.scalar(select(Payment.id).where(Payment.booking_id == booking.id))
    assert row_button(admin_client, "/admin/payments/", "refund_full", payment_id) is None  # confirmed: cancel it
    bookings.complete_due(check_out_at(booking) + timedelta(minutes=1))
    shown = text_of(press(admin_client, "/admin/payments/", "refund_full", payment_id, follow_redirects=True))
    assert f"Booking {booking.id} refunded in full: €" in shown
    db.session.expire_all()
    assert [row.status for row in db.session.scalars(select(PaymentRefund))] == ["succeeded"]
    assert db.session.scalar(select(Payout)) is None and actions() == ["payment.refund"]
    assert row_button(admin_client, "/admin/payments/", "refund_full", payment_id) is None  # refunded now


def test_payout_rows_retry_a_failed_payout(app, admin_client):
    host = make_user(role="host", payout_account="acct_unreachable")
    booking = paid_booking(host=host)
    run_at = datetime.combine(booking.check_out, datetime.min.time()) + timedelta(hours=12)
    assert app.test_cli_runner().invoke(args=["jobs", "run-due", "--now", run_at.isoformat() + "Z"]).exit_code == 0
    db.session.expire_all()
    payout = db.session.scalars(select(Payout)).one()
    payout.scheduled_for = date.today() - timedelta(days=1)
    host.payout_account = "acct_fixed"
    db.session.commit()
    shown = text_of(press(admin_client, "/admin/payouts/", "retry", payout.id, follow_redirects=True))
    assert f"Payout {payout.id} paid." in shown
    assert row_button(admin_client, "/admin/payouts/", "retry", payout.id) is None
    assert actions() == ["payout.retry"]


def test_outbox_rows_resend_a_failed_email(admin_client):
    paid_booking()
    row = db.session.scalars(select(OutboxEmail).order_by(OutboxEmail.id)).first()
    assert row_button(admin_client, "/admin/outbox/", "resend", row.id) is None
    row.status, row.attempts = "failed", 6
    db.session.commit()
    shown = text_of(press(admin_client, "/admin/outbox/", "resend", row.id, follow_redirects=True))
    assert f"Email {row.id} queued to be sent again." in shown
    db.session.expire_all()
    assert db.session.get(OutboxEmail, row.id).status == "pending" and actions() == ["email.resend"]


def test_refund_rows_retry_a_refund_the_provider_refused(admin_client, admin, monkeypatch):
    refund = refused_refund(paid_booking(), admin, monkeypatch)
    assert "The card was closed." in text_of(admin_client.get("/admin/refunds/"))
    shown = text_of(press(admin_client, "/admin/refunds/", "retry", refund.id, follow_redirects=True))
    assert f"Refund {refund.id} sent: €" in shown
    db.session.expire_all()
    assert db.session.get(PaymentRefund, refund.id).status == "succeeded"
    assert row_button(admin_client, "/admin/refunds/", "retry", refund.id) is None
    assert actions() == ["booking.cancel", "refund.retry"]
