"""Money moved per day (revenue_days): each charge, refund, payout and settlement adds to the row of its own day in
its own transaction, the rows add up to the ledger, a range says what moved in it, and `payments ledger` notices
rows that disagree and rebuilds them, while payouts wait."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import delete, select, update

from app.blueprints.bookings import services as bookings
from app.blueprints.bookings.state import check_out_at
from app.blueprints.payments import ledger, payouts, revenue
from app.extensions import db
from app.models import Booking, Payout, RevenueDay
from app.models.base import utcnow

from ..support import stays
from ..support.factories import make_listing, make_user
from ..support.stays import completed_stay
from ..support.threads import in_thread

SOON = date.today() + timedelta(days=30)


def paid_booking(policy: str, currency: str = "EUR") -> Booking:
    return stays.paid_booking(cancellation_policy=policy, cleaning_fee=None,
                              price_per_night={"amount": 10000, "currency": currency})


def run_due(app, now: datetime) -> None:
    result = app.test_cli_runner().invoke(args=["jobs", "run-due", "--now", now.isoformat() + "Z"])
    assert result.exit_code == 0, result.output


def rows() -> dict[tuple[date, str], tuple[int, int, int, int]]:
    db.session.expire_all()
    return {(row.day, row.currency): (row.charged, row.refunded, row.service_fees, row.paid_out)
            for row in revenue.per_day(date.min, date.max)}


def test_each_movement_counts_on_its_own_day_and_the_days_add_up_to_the_ledger(app):
    today = utcnow().date()
    stay = paid_booking("strict")
    assert rows() == {(today, "EUR"): (stay.total_amount, 0, 0, 0)}  # charged; the fee is held, not kept yet

    canceled = paid_booking("strict")  # a month ahead: half the nights back, the fee kept
    bookings.cancel_booking(canceled.id, canceled.guest)
    db.session.refresh(canceled)
    refund = canceled.refund_amount
    assert 0 < refund < canceled.total_amount
    assert rows()[(today, "EUR")] == (stay.total_amount + canceled.total_amount, refund,
                                      canceled.service_fee_amount, 0)

    ended = datetime.combine(stay.check_out, datetime.min.time()) + timedelta(hours=12)
    run_due(app, ended)  # completes the stay, owes and pays the host of both bookings
    db.session.refresh(stay)
    later = rows()[(ended.date(), "EUR")]
    paid_out = later[3]
    assert later[:3] == (0, 0, stay.service_fee_amount)
    assert paid_out == (stay.total_amount - stay.service_fee_amount
                        + canceled.total_amount - refund - canceled.service_fee_amount)
    assert revenue.totals() == ledger.totals(ledger.ledger())
    assert revenue.totals(today, today)[0]["paid_out"] == 0  # a range holds only what moved on its days
    assert revenue.totals(ended.date(), ended.date())[0]["charged"] == 0


def test_a_full_refund_gives_back_the_fee_it_had_counted(app):
    booking = paid_booking("flexible")  # a month ahead: everything back
    bookings.cancel_booking(booking.id, booking.guest)
    [totals] = revenue.totals()
    assert (totals["charged"], totals["refunded"], totals["service_fees"]) == (booking.total_amount,) * 2 + (0,)
    assert db.session.get(Booking, booking.id).fee_kept_amount == 0
    assert [line for line in ledger.ledger() if not line.balanced] == []


def test_currencies_are_kept_apart_and_sorted(app):
    paid_booking("strict", "USD")
    paid_booking("strict", "EUR")
    assert [row["currency"] for row in revenue.totals()] == ["EUR", "USD"]
    assert revenue.totals() == ledger.totals(ledger.ledger())


def test_the_ledger_command_notices_rows_that_disagree_and_rebuilds_them(app):
    booking = paid_booking("strict")
    bookings.cancel_booking(booking.id, booking.guest)
    counted = revenue.totals()
    db.session.execute(delete(RevenueDay))  # a database restored without them, or edited by hand
    db.session.execute(update(Booking).values(fee_kept_amount=0))
    db.session.commit()
    runner = app.test_cli_runner()
    broken = runner.invoke(args=["payments", "ledger"])
    assert broken.exit_code == 1 and "revenue rows" in broken.output and "--rebuild-revenue" in broken.output
    rebuilt = runner.invoke(args=["payments", "ledger", "--rebuild-revenue"])
    assert rebuilt.exit_code == 0, rebuilt.output
    db.session.expire_all()
    assert revenue.totals() == counted
    assert db.session.get(Booking, booking.id).fee_kept_amount == booking.service_fee_amount


def test_the_ledger_counts_the_payout_of_a_stay_paid_outside_the_providers(app):
    """A booking paid outside Abode's providers (bookings.record_payment: `flask seed`, tools) has no payment and
    so no ledger line, but its host's payout is paid like any other: the ledger's totals count it as revenue_days
    do, so `payments ledger` agrees, before and after a rebuild."""
    listing = make_listing(host=make_user(role="host", payout_account="acct_host"), instant_book=True, min_nights=1)
    booking = completed_stay(make_user(), listing)
    payout = db.session.scalar(select(Payout).where(Payout.booking_id == booking.id))
    assert payouts.send_payout(payout.id, check_out_at(booking) + timedelta(hours=1))
    runner = app.test_cli_runner()
    assert runner.invoke(args=["payments", "ledger"]).exit_code == 0
    rebuilt = runner.invoke(args=["payments", "ledger", "--rebuild-revenue"])
    assert rebuilt.exit_code == 0, rebuilt.output
    assert revenue.totals()[0]["paid_out"] == payout.amount


def test_a_payout_paid_during_a_rebuild_waits_for_it_and_is_counted(app, monkeypatch):
    """The rebuild reads every payment, refund and payout, then replaces the rows: a payout paid in between would
    be lost (or counted twice). The payout run waits for the rebuild (at today's row, which the rebuild holds) and
    adds to the rebuilt rows."""
    if db.engine.dialect.name == "sqlite":
        pytest.skip("SQLite has one writer: the payout waits for the rebuild's commit anyway")
    listing = make_listing(host=make_user(role="host", payout_account="acct_host"), instant_book=True, min_nights=1)
    booking = completed_stay(make_user(), listing)
    payout_id = db.session.scalar(select(Payout.id).where(Payout.booking_id == booking.id))
    db.session.commit()
    read, run = revenue._moved, {}

    def pay_once_read():  # the rebuild has read everything; a payout run pays the host right now
        rows = read()
        run["thread"], run["paid"] = in_thread(app, lambda: payouts.send_payout(payout_id, utcnow()))
        run["thread"].join(1.5)
        run["waited"] = run["thread"].is_alive()
        return rows

    monkeypatch.setattr(revenue, "_moved", pay_once_read)
    revenue.rebuild()
    db.session.commit()
    run["thread"].join(30)
    assert run["waited"], "the payout was recorded while the rebuild held what it had read"
    assert run["paid"] == [True]
    db.session.expire_all()
    assert revenue.totals() == ledger.totals(ledger.ledger())
    assert revenue.totals()[0]["paid_out"] == db.session.get(Payout, payout_id).amount
