"""The dashboard's money area through its pages: bookings (cancel with full refund), payments, payouts (retry),
exchange rates (set one), the email outbox (resend to a real SMTP server); refusals flash and audit nothing."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from app.blueprints.bookings import services as bookings
from app.blueprints.notifications.delivery import wait_for_inline
from app.extensions import db
from app.models import AuditEntry, Booking, ExchangeRate, OutboxEmail, PaymentRefund, Payout
from app.money import format_money
from app.rates import current_rates

from ..support.factories import make_user
from ..support.pages import csrf_token, submit, text_of
from ..support.smtp_server import smtp_server_fixture  # noqa: F401 (registers the smtp_server fixture)
from ..support.stays import paid_booking

SOON = date.today() + timedelta(days=30)
VIEWS = ["/admin/bookings/", "/admin/payments/", "/admin/refunds/", "/admin/payouts/", "/admin/rates/",
         "/admin/outbox/"]


def total(booking: Booking) -> str:
    return format_money(booking.total_amount, booking.currency)


def audits(action: str) -> list[AuditEntry]:
    db.session.expire_all()
    return list(db.session.scalars(select(AuditEntry).where(AuditEntry.action == action)))


def act(client, view: str, action: str, row_id: int):
    """Run a list action on one row, as the list page's form does; follows to the page showing the flash."""
    return client.post(f"/admin/{view}/action/", data={"csrf_token": csrf_token(client, f"/admin/{view}/"),
                                                       "action": action, "rowid": str(row_id)},
                       follow_redirects=True)


def test_every_money_view_answers_an_admin(admin_client):
    booking = paid_booking()
    for url in VIEWS:
        assert admin_client.get(url).status_code == 200, url
    page = text_of(admin_client.get("/admin/payments/"))
    assert "client_secret" not in page.lower() and "_secret" not in page and total(booking) in page
    assert total(booking) in text_of(admin_client.get("/admin/bookings/"))


@pytest.mark.parametrize("url", VIEWS)
def test_money_views_send_anonymous_to_login_and_refuse_a_guest(app, client, login, url):
    response = client.get(url)
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    login(client, make_user())
    assert client.get(url).status_code == 403


def test_booking_page_shows_history_money_and_a_balanced_ledger(admin_client):
    booking = paid_booking()
    page = text_of(admin_client.get(f"/admin/bookings/details/?id={booking.id}"))
    assert "Status history" in page and "Paid " + str(booking.paid_at)[:10] in page
    assert f"fake succeeded {total(booking)}" in page
    assert (f"charged {total(booking)} − refunded €0.00 − paid out €0.00 − fee kept €0.00 − held {total(booking)}"
            " = €0.00: balanced") in page


def test_admin_cancels_a_booking_with_full_refund_and_it_is_audited(admin_client, admin):
    booking = paid_booking(cancellation_policy="strict")  # a guest would get half; an admin cancel: everything
    response = submit(admin_client, "/admin/bookings/cancel/", {"booking_id": booking.id, "reason": "Fraud check"},
                      form_url=f"/admin/bookings/details/?id={booking.id}", follow_redirects=True)
    page = text_of(response)
    assert f"Booking {booking.id} canceled; {total(booking)} goes back to the guest." in page
    assert "Canceled by admin" in page and "Fraud check" in page
    db.session.expire_all()
    booking = db.session.get(Booking, booking.id)
    paid = booking.total_amount
    assert (booking.status, booking.canceled_by, booking.refund_amount) == ("canceled", "admin", paid)
    assert [(r.amount, r.status) for r in db.session.scalars(select(PaymentRefund))] == [(paid, "succeeded")]
    [entry] = audits("booking.cancel")
    assert (entry.actor_id, entry.target_id) == (admin.id, booking.id)
    assert entry.changes["status"] == ["confirmed", "canceled"] and entry.changes["refund_amount"] == [None, paid]


def test_cancel_action_on_a_canceled_booking_flashes_the_refusal_and_audits_nothing(admin_client):
    booking = paid_booking()
    bookings.cancel_booking(booking.id, booking.guest)
    page = text_of(act(admin_client, "bookings", "cancel_refund", booking.id))
    assert "A booking that is canceled cannot be canceled." in page
    assert audits("booking.cancel") == []
    db.session.expire_all()
    assert db.session.get(Booking, booking.id).canceled_by == "guest"


def failed_payout(app) -> Payout:
    """A payout whose host's bank did not answer (fake provider: acct_unreachable), due last week."""
    host = make_user(role="host", payout_account="acct_unreachable")
    booking = paid_booking(host=host)
    run_at = datetime.combine(booking.check_out, datetime.min.time()) + timedelta(hours=12)
    result = app.test_cli_runner().invoke(args=["jobs", "run-due", "--now", run_at.isoformat() + "Z"])
    assert result.exit_code == 0, result.output
    db.session.expire_all()
    payout = db.session.scalars(select(Payout)).one()
    assert payout.status == "failed"
    payout.scheduled_for = date.today() - timedelta(days=7)  # the stay is over: time has passed
    host.payout_account = "acct_fixed"
    db.session.commit()
    return payout


def test_retry_payout_pays_a_failed_one_and_is_audited(app, admin_client, admin):
    payout = failed_payout(app)
    page = text_of(act(admin_client, "payouts", "retry", payout.id))
    assert f"Payout {payout.id} paid." in page
    db.session.expire_all()
    payout = db.session.get(Payout, payout.id)
    assert (payout.status, payout.last_error) == ("paid", None)
    [entry] = audits("payout.retry")
    assert (entry.actor_id, entry.target_type, entry.target_id) == (admin.id, "payout", payout.id)


def test_retry_of_a_paid_payout_is_refused_and_not_audited(app, admin_client):
    payout = failed_payout(app)
    act(admin_client, "payouts", "retry", payout.id)
    page = text_of(act(admin_client, "payouts", "retry", payout.id))
    assert f"Payout {payout.id} is paid: only a failed payout can be retried." in page
    assert len(audits("payout.retry")) == 1


def test_admin_sets_a_rate_through_the_form_and_it_is_audited(admin_client, admin):
    response = submit(admin_client, "/admin/rates/set/", {"code": "eur", "rate": "0.95"},
                      form_url="/admin/rates/", follow_redirects=True)
    assert "EUR is now 0.95" in text_of(response)
    db.session.expire_all()
    assert db.session.get(ExchangeRate, "EUR").rate == Decimal("0.95")
    [entry] = audits("rate.set")
    assert entry.actor_id == admin.id and entry.changes == {"EUR": ["0.92", "0.95"]}


@pytest.mark.parametrize("code, rate", [("EUR", "-1"), ("EUR", "lots"), ("USD", "2"), ("XXX", "1")])
def test_a_bad_rate_is_flashed_and_changes_nothing(admin_client, code, rate):
    response = submit(admin_client, "/admin/rates/set/", {"code": code, "rate": rate}, form_url="/admin/rates/",
                      follow_redirects=True)
    assert "alert-danger" in response.get_data(as_text=True)
    db.session.expire_all()
    assert current_rates()["EUR"] == Decimal("0.92") and audits("rate.set") == []


def test_resend_delivers_a_failed_email_to_the_smtp_server_and_is_audited(make_app, smtp_server, login):
    app = make_app(**smtp_server.settings(), MAIL_QUEUE="inline")
    client = app.test_client()
    admin = make_user(role="admin", email="boss@example.com")
    booking = paid_booking()
    wait_for_inline()
    row = db.session.scalars(select(OutboxEmail).where(OutboxEmail.user_id == booking.guest_id)
                             .order_by(OutboxEmail.id)).first()
    smtp_server.emails.clear()
    row.status, row.attempts, row.last_error = "failed", 6, "SMTP 550 mailbox unavailable"
    db.session.commit()
    login(client, admin)
    assert "SMTP 550 mailbox unavailable" in text_of(client.get("/admin/outbox/"))
    page = text_of(act(client, "outbox", "resend", row.id))
    assert f"Email {row.id} queued to be sent again." in page
    assert wait_for_inline()
    [email] = smtp_server.wait_for(1)
    assert email.rcpt_tos == [booking.guest.email]
    db.session.expire_all()
    row = db.session.get(OutboxEmail, row.id)
    assert (row.status, row.attempts) == ("sent", 1)
    [entry] = audits("email.resend")
    assert entry.actor_id == admin.id and entry.changes["status"] == ["failed", "pending"]
    refused = text_of(act(client, "outbox", "resend", row.id))
    assert f"Email {row.id} is sent: only a failed email can be sent again." in refused
    assert len(audits("email.resend")) == 1
