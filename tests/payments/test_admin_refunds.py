"""An admin's goodwill refund of a settled booking (refunds.refund_in_full) and the retry of a refund the provider
refused (refunds.retry_refund), called as the dashboard calls them: what goes back, the host's payout, the ledger,
the audit row; and each refusal, which changes nothing and audits nothing."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import select

from app.blueprints.bookings import services as bookings
from app.blueprints.bookings.state import InvalidState, check_out_at
from app.blueprints.payments import claims, ledger, refunds
from app.errors import NotFoundError
from app.extensions import db
from app.models import AuditEntry, Booking, Payment, PaymentRefund, Payout
from app.payment_providers import PaymentError
from app.payment_providers.fake import FakeProvider

from ..support import stays
from ..support.factories import make_listing, make_user

SOON = date.today() + timedelta(days=30)


@pytest.fixture
def admin(app):
    return make_user(role="admin")


def paid_booking(*, policy: str = "strict", payout_account: str | None = None) -> Booking:
    """Two nights at €100 a month ahead, instant book, paid through the fake provider."""
    return stays.paid_booking(host=make_user(role="host", payout_account=payout_account), cancellation_policy=policy)


def completed_booking(**kwargs) -> Booking:
    """A paid stay the scheduler completed: the host's payout is scheduled for the check-out day."""
    booking = paid_booking(**kwargs)
    assert bookings.complete_due(check_out_at(booking) + timedelta(minutes=1)) == 1
    return fresh(booking)


def fresh(booking: Booking) -> Booking:
    db.session.expire_all()
    return db.session.get(Booking, booking.id)


def payout_of(booking: Booking) -> Payout | None:
    return db.session.scalar(select(Payout).where(Payout.booking_id == booking.id))


def refund_rows() -> list[tuple[int, str]]:
    return [(row.amount, row.status) for row in db.session.scalars(select(PaymentRefund).order_by(PaymentRefund.id))]


def audits(action: str) -> list[AuditEntry]:
    db.session.expire_all()
    return list(db.session.scalars(select(AuditEntry).where(AuditEntry.action == action)))


def money_state(booking: Booking) -> tuple:
    """Everything a refund could change: the booking's refund, its refund rows, its payout, its payments."""
    booking = fresh(booking)
    payout = payout_of(booking)
    return (booking.refund_amount, refund_rows(), payout and (payout.id, payout.amount, payout.status),
            [(p.status, p.refunded_amount) for p in db.session.scalars(select(Payment))])


def test_refund_in_full_of_a_completed_stay_gives_everything_back_and_removes_the_payout(admin):
    booking = completed_booking()
    payout = payout_of(booking)
    assert (payout.status, payout.amount) == ("scheduled", booking.total_amount - booking.service_fee_amount)
    [refund] = refunds.refund_in_full(booking.id, actor=admin)
    booking = fresh(booking)
    paid = booking.paid_amount
    assert (booking.status, booking.refund_amount) == ("completed", paid)
    assert refund_rows() == [(paid, "succeeded")]  # sent once the transaction committed
    assert payout_of(booking) is None
    payment = db.session.scalars(select(Payment)).one()
    assert (payment.status, payment.refunded_amount) == ("refunded", paid)
    [line] = ledger.ledger([booking.id])
    assert (line.charged, line.refunded, line.payout, line.fee_kept, line.held) == (paid, paid, 0, 0, 0)
    assert line.balanced
    [entry] = audits("payment.refund")
    assert (entry.actor_id, entry.target_type, entry.target_id) == (admin.id, "booking", booking.id)
    assert entry.changes == {"refund_amount": [None, paid], "payout_amount": [payout.amount, None],
                             "payout_status": ["scheduled", None]}
    assert refund.id == db.session.scalars(select(PaymentRefund.id)).one()


def test_after_a_full_refund_the_guests_api_shows_everything_refunded(admin, client, auth_headers):
    booking = completed_booking()
    refunds.refund_in_full(booking.id, actor=admin)
    booking = fresh(booking)
    headers = auth_headers(booking.guest)
    [payment] = client.get("/api/v1/payments", headers=headers).get_json()["items"]
    shown = client.get(f"/api/v1/bookings/{booking.id}", headers=headers).get_json()
    everything = {"amount": booking.paid_amount, "currency": "EUR"}
    assert (payment["status"], payment["refunded"]) == ("refunded", everything)
    assert (shown["status"], shown["refund"]) == ("completed", everything)


def test_refund_in_full_after_a_guests_partial_refund_gives_back_the_rest(admin):
    booking = paid_booking()  # strict: the guest gets half of the nights back, the host the rest less the fee
    bookings.cancel_booking(booking.id, booking.guest)
    booking = fresh(booking)
    first, paid = booking.refund_amount, booking.paid_amount
    assert 0 < first < paid and payout_of(booking).amount == paid - first - booking.service_fee_amount
    refunds.refund_in_full(booking.id, actor=admin)
    booking = fresh(booking)
    assert booking.refund_amount == paid
    assert refund_rows() == [(first, "succeeded"), (paid - first, "succeeded")]
    assert payout_of(booking) is None and ledger.ledger([booking.id])[0].balanced
    [entry] = audits("payment.refund")
    assert entry.changes["refund_amount"] == [first, paid]


def test_refund_in_full_removes_a_failed_payout(app, admin):
    booking = completed_booking(payout_account="acct_unreachable")
    run_at = check_out_at(booking) + timedelta(hours=2)
    result = app.test_cli_runner().invoke(args=["jobs", "run-due", "--now", run_at.isoformat() + "Z"])
    assert result.exit_code == 0, result.output
    db.session.expire_all()
    assert payout_of(booking).status == "failed"
    refunds.refund_in_full(booking.id, actor=admin)
    assert payout_of(booking) is None and ledger.ledger([booking.id])[0].balanced
    assert audits("payment.refund")[0].changes["payout_status"] == ["failed", None]
    result = app.test_cli_runner().invoke(args=["jobs", "run-due", "--now", (run_at + timedelta(days=2)).isoformat()
                                                + "Z"])
    assert "0 payout(s) paid" in result.output  # nothing left for the scheduler to pay


def refused(admin, booking: Booking, error: type, message: str) -> None:
    """refund_in_full refuses with `error` and `message`; the money and the audit log are as they were."""
    before = money_state(booking)
    with pytest.raises(error) as raised:
        refunds.refund_in_full(booking.id, actor=admin)
    assert raised.value.message == message and raised.value.status_code == 409
    assert money_state(booking) == before and audits("payment.refund") == []


def test_a_confirmed_booking_is_refused_and_pointed_to_cancel(admin):
    booking = paid_booking()
    refused(admin, booking, InvalidState, f"Booking {booking.id} is confirmed: cancel it instead (an admin's "
                                          "cancel refunds everything paid).")


def test_a_paid_payout_is_refused(app, admin):
    booking = completed_booking(payout_account="acct_host_ok")
    run_at = check_out_at(booking) + timedelta(hours=2)
    result = app.test_cli_runner().invoke(args=["jobs", "run-due", "--now", run_at.isoformat() + "Z"])
    assert "1 payout(s) paid" in result.output
    refused(admin, booking, refunds.PayoutInTheWay,
            f"The host's payout for booking {booking.id} is already paid: the money is no longer here to give back.")


def test_a_payout_being_sent_is_refused(admin):
    booking = completed_booking()
    assert claims.claim(Payout, payout_of(booking).id)  # a payout run holds it, mid-call
    refused(admin, booking, refunds.PayoutInTheWay,
            f"The host's payout for booking {booking.id} is being sent right now: try again once the payout run "
            "is over.")


def test_a_booking_already_given_everything_back_is_refused(admin):
    booking = paid_booking()
    bookings.cancel_booking(booking.id, admin)  # an admin cancel gives everything back
    refused(admin, booking, refunds.NothingToRefund,
            f"Booking {booking.id}: everything paid has been given back already.")
    assert refund_rows() == [(fresh(booking).paid_amount, "succeeded")]


def test_an_unpaid_canceled_booking_is_refused(admin):
    listing = make_listing(instant_book=True, min_nights=1)
    guest = make_user()
    booking, _ = bookings.create_booking(guest=guest, listing_id=listing.id, check_in=SOON,
                                         check_out=SOON + timedelta(days=2), guests=1)
    bookings.cancel_booking(booking.id, guest)
    refused(admin, booking, refunds.NothingToRefund,
            f"Booking {booking.id}: everything paid has been given back already.")


def test_an_unknown_booking_is_not_found(admin):
    with pytest.raises(NotFoundError):
        refunds.refund_in_full(999999, actor=admin)
    assert audits("payment.refund") == []


def refused_by_the_provider(monkeypatch) -> None:
    """The provider refuses every refund until the test undoes it (a closed card: not retried by itself)."""
    def refuse(*_args, **_kwargs):
        raise PaymentError("The card was closed.", retryable=False)
    monkeypatch.setattr(FakeProvider, "refund", refuse)


def test_retry_refund_sends_a_refused_refund_again_and_is_audited(admin, monkeypatch):
    booking = paid_booking()
    refused_by_the_provider(monkeypatch)
    bookings.cancel_booking(booking.id, admin)
    [refund] = db.session.scalars(select(PaymentRefund)).all()
    assert (refund.status, refund.last_error) == ("failed", "The card was closed.")
    monkeypatch.undo()
    assert refunds.retry_refund(refund.id, actor=admin) is True
    db.session.expire_all()
    assert refund_rows() == [(booking.paid_amount, "succeeded")] and ledger.ledger([booking.id])[0].balanced
    [entry] = audits("refund.retry")
    assert (entry.actor_id, entry.target_type, entry.target_id) == (admin.id, "refund", refund.id)
    assert entry.changes["status"] == ["failed", "pending"]


def test_retry_of_a_refund_that_is_not_failed_is_refused(admin):
    booking = paid_booking()
    bookings.cancel_booking(booking.id, admin)
    refund = db.session.scalars(select(PaymentRefund)).one()
    with pytest.raises(refunds.RefundNotFailed, match=f"Refund {refund.id} is succeeded: only a failed refund"):
        refunds.retry_refund(refund.id, actor=admin)
    assert audits("refund.retry") == []
    with pytest.raises(NotFoundError):
        refunds.retry_refund(999999, actor=admin)


def test_a_refused_refund_covered_by_a_full_refund_since_is_not_sent_again(admin, monkeypatch):
    booking = completed_booking()
    refused_by_the_provider(monkeypatch)
    [failed] = refunds.refund_in_full(booking.id, actor=admin)
    monkeypatch.undo()
    db.session.expire_all()
    assert refund_rows() == [(booking.paid_amount, "failed")]
    refunds.refund_in_full(booking.id, actor=admin)  # an admin gives it back again: a new refund
    assert refund_rows() == [(booking.paid_amount, "failed"), (booking.paid_amount, "succeeded")]
    with pytest.raises(refunds.NothingToRefund, match="already give back all it charged"):
        refunds.retry_refund(failed.id, actor=admin)
    assert refund_rows() == [(booking.paid_amount, "failed"), (booking.paid_amount, "succeeded")]
    assert audits("refund.retry") == [] and ledger.ledger([booking.id])[0].balanced
