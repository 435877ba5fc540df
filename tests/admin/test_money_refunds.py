"""The dashboard's goodwill refund and refund retry through its pages: the booking page's Refund in full form, the
Payments action, the Refunds list and the booking page's Retry refund; each refusal a flash, nothing changed, nothing
audited, and no POST without its CSRF token."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import select

from app.blueprints.bookings import services as bookings
from app.blueprints.bookings.state import check_out_at
from app.extensions import db
from app.models import AuditEntry, Booking, Payment, PaymentRefund, Payout
from app.money import format_money

from ..support.factories import make_user
from ..support.pages import csrf_token, page_of, press, submit, text_of
from ..support.stays import paid_booking, refused_refund

SOON = date.today() + timedelta(days=30)


def completed(booking: Booking) -> Booking:
    bookings.complete_due(check_out_at(booking) + timedelta(minutes=1))
    db.session.expire_all()
    return db.session.get(Booking, booking.id)


def audits(action: str) -> list[AuditEntry]:
    db.session.expire_all()
    return list(db.session.scalars(select(AuditEntry).where(AuditEntry.action == action)))


def page_url(booking: Booking) -> str:
    return f"/admin/bookings/details/?id={booking.id}"


def test_refund_in_full_from_the_booking_page_balances_the_ledger_and_is_audited(admin_client, admin):
    booking = completed(paid_booking())
    paid = format_money(booking.paid_amount, booking.currency)
    assert "Refund in full" in text_of(admin_client.get(page_url(booking)))
    response = submit(admin_client, "/admin/bookings/refund/", {"booking_id": booking.id},
                      form_url=page_url(booking), follow_redirects=True)
    page = text_of(response)
    assert f"Booking {booking.id} refunded in full: {paid} goes back to the guest, {paid} in all." in page
    assert "No payout." in page and f"refunded {paid} − paid out €0.00 − fee kept €0.00" in page
    assert ": balanced" in page
    db.session.expire_all()
    assert db.session.scalar(select(Payout)) is None
    [entry] = audits("payment.refund")
    assert (entry.actor_id, entry.target_type, entry.target_id) == (admin.id, "booking", booking.id)
    assert entry.changes["refund_amount"] == [None, booking.paid_amount]


def test_refund_of_a_confirmed_booking_flashes_cancel_it_instead_and_changes_nothing(admin_client):
    booking = paid_booking()
    assert "Refund in full" not in text_of(admin_client.get(page_url(booking)))  # its page offers the cancel
    token = csrf_token(admin_client, page_url(booking))
    page = text_of(admin_client.post("/admin/bookings/refund/", data={"csrf_token": token, "booking_id": booking.id},
                                     follow_redirects=True))
    assert f"Booking {booking.id} is confirmed: cancel it instead" in page
    db.session.expire_all()
    assert db.session.get(Booking, booking.id).refund_amount is None
    assert db.session.scalars(select(PaymentRefund)).all() == [] and audits("payment.refund") == []


def test_refund_form_without_a_csrf_token_is_refused(admin_client):
    booking = completed(paid_booking())
    response = admin_client.post("/admin/bookings/refund/", data={"booking_id": booking.id})
    assert response.status_code == 400
    db.session.expire_all()
    assert db.session.scalar(select(Payout)) is not None and audits("payment.refund") == []


def test_refund_action_after_the_payout_was_paid_flashes_the_refusal(app, admin_client):
    booking = completed(paid_booking(host=make_user(role="host", payout_account="acct_host")))
    run_at = check_out_at(booking) + timedelta(hours=2)
    assert "1 payout(s) paid" in app.test_cli_runner().invoke(
        args=["jobs", "run-due", "--now", run_at.isoformat() + "Z"]).output
    payment = db.session.scalars(select(Payment)).one()
    token = csrf_token(admin_client, "/admin/payments/")
    page = text_of(admin_client.post("/admin/payments/action/", data={"csrf_token": token, "action": "refund_full",
                                                                      "rowid": str(payment.id)},
                                     follow_redirects=True))
    assert f"The host's payout for booking {booking.id} is already paid" in page
    db.session.expire_all()
    assert db.session.scalar(select(Payout)).status == "paid"
    assert db.session.scalars(select(PaymentRefund)).all() == [] and audits("payment.refund") == []


def test_retry_refund_from_the_booking_page_sends_it_and_comes_back(admin_client, admin, monkeypatch):
    booking = paid_booking()
    refund = refused_refund(booking, admin, monkeypatch)
    response = press(admin_client, page_url(booking), "retry", refund.id)
    assert response.status_code == 302 and page_url(booking) in response.headers["Location"]
    page = text_of(admin_client.get(response.headers["Location"]))
    assert f"Refund {refund.id} sent: {format_money(refund.amount, refund.currency)} back to the guest." in page
    assert "Retry refund" not in page and ": balanced" in page
    [entry] = audits("refund.retry")
    assert (entry.actor_id, entry.target_id) == (admin.id, refund.id)


def test_retry_of_a_refund_that_went_through_flashes_the_refusal(admin_client, admin):
    booking = paid_booking()
    bookings.cancel_booking(booking.id, admin)
    refund = db.session.scalars(select(PaymentRefund)).one()
    assert "Retry refund" not in page_of(admin_client.get(page_url(booking)))
    token = csrf_token(admin_client, "/admin/refunds/")
    page = text_of(admin_client.post("/admin/refunds/action/", data={"csrf_token": token, "action": "retry",
                                                                     "rowid": str(refund.id)},
                                     follow_redirects=True))
    assert f"Refund {refund.id} is succeeded: only a failed refund can be retried." in page
    assert audits("refund.retry") == []
