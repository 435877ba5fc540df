"""Money moved per UTC day and currency (revenue_days), kept as it happens, so the dashboard and /admin/stats add up
a few rows per day instead of every payment, refund and payout ever made.

Each event adds to its day's row in the transaction that records it, under the locks that event already holds:
- charged: a payment takes money (charges.apply_charge; once: a charged payment stays charged);
- refunded: a refund goes through (refunds._succeeded);
- paid_out: a payout is paid (payouts._paid);
- service_fees: the change in the fee Abode keeps of a booking (fee_kept: min(fee, charged − refunded) once it is
  settled, 0 before) whenever one of its inputs changes: the booking settles (receivers.py), or is charged or
  refunded after that. booking.fee_kept_amount is what was counted so far, so each change adds its difference.
So at every commit the sums over all days are the ledger's totals (ledger.py; `flask payments ledger` checks both),
and a range of days says what moved in it. rebuild() recomputes every row from the payments themselves.

The row of a day and currency is written by one upsert near the end of each transaction: writers of one currency
queue there only for the moment up to their commit, and a transaction touches one row, so they cannot deadlock.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import case, delete, func, literal, select, union_all, update

from ...extensions import db
from ...models import Booking, Payment, PaymentRefund, Payout, RevenueDay, utcnow
from ...models.payment import CHARGED
from ...upsert import upsert

FIGURES = ("charged", "refunded", "service_fees", "paid_out")
SETTLED = ("completed", "canceled")  # a booking's service fee is kept, or not, once it is one of these


def _taken_and_given_back(booking_id):
    """What the payments of booking `booking_id` (a number, or Booking.id in a correlated query) took, and what
    went back of it: two scalar subqueries."""
    of_booking = Payment.booking_id == booking_id
    return (select(func.coalesce(func.sum(case((Payment.status.in_(CHARGED), Payment.amount), else_=0)), 0))
            .where(of_booking).scalar_subquery(),
            select(func.coalesce(func.sum(Payment.refunded_amount), 0)).where(of_booking).scalar_subquery())


def fee_kept(booking: Booking, charged: int, refunded: int) -> int:
    """The ledger's service fee Abode keeps of a booking that took `charged` and gave back `refunded`: nothing
    before it settles, then the fee, or what is left of the money when less."""
    return min(booking.service_fee_amount, charged - refunded) if booking.status in SETTLED else 0


def _add(when: datetime, currency: str, **amounts: int) -> None:
    row = {"day": when.date(), "currency": currency, **dict.fromkeys(FIGURES, 0), **amounts}
    db.session.execute(upsert(RevenueDay.__table__, [row], ("day", "currency"), add=FIGURES))


def charged(payment: Payment, when: datetime) -> None:
    """Count a payment that has just taken money (in the transaction that records it)."""
    _add(when, payment.currency, charged=payment.amount)


def refunded(refund: PaymentRefund, when: datetime) -> None:
    """Count a refund that has just gone through."""
    _add(when, refund.currency, refunded=refund.amount)


def paid_out(payout: Payout, when: datetime) -> None:
    """Count a payout that has just been paid."""
    _add(when, payout.currency, paid_out=payout.amount)


def settle_fee(booking: Booking, when: datetime) -> None:
    """In a transaction holding the booking's lock, after its status, charges or refunds changed: count the change
    in the service fee kept (nothing when it did not change)."""
    db.session.flush()
    taken, given_back = db.session.execute(select(*_taken_and_given_back(booking.id))).one()
    kept = fee_kept(booking, int(taken), int(given_back))
    if kept != booking.fee_kept_amount:
        _add(when, booking.currency, service_fees=kept - booking.fee_kept_amount)
        booking.fee_kept_amount = kept


def totals(first: date | None = None, last: date | None = None) -> list[dict]:
    """[{"currency", "charged", "refunded", "service_fees", "paid_out"}] per currency, by code: all time, or what
    moved on the days first..last (both included); a currency where nothing moved is left out."""
    statement = select(RevenueDay.currency, *(func.sum(getattr(RevenueDay, name)) for name in FIGURES))
    if first is not None:
        statement = statement.where(RevenueDay.day >= first)
    if last is not None:
        statement = statement.where(RevenueDay.day <= last)
    rows = db.session.execute(statement.group_by(RevenueDay.currency).order_by(RevenueDay.currency)).all()
    return [{"currency": code, **{name: int(amount or 0) for name, amount in zip(FIGURES, amounts, strict=True)}}
            for code, *amounts in rows if any(amounts)]


def per_day(first: date, last: date) -> list[RevenueDay]:
    """The rows of days first..last (both included), by day and currency."""
    return list(db.session.scalars(select(RevenueDay).where(RevenueDay.day >= first, RevenueDay.day <= last)
                                   .order_by(RevenueDay.day, RevenueDay.currency)))


def rebuild(today: date | None = None) -> int:
    """Recompute every booking's fee kept and every day's row from the payments, refunds and payouts, in the
    caller's transaction (the caller commits). Charges, refunds and payouts count on the day they went through,
    fees on the day their booking settled (net of later refunds). Returns how many rows it wrote.

    Safe while money moves, in the order every writer locks: first every booking (the fee kept; a charge, refund
    or settlement of a booking waits from here), then every day's row, today's of each currency made first, so a
    payout paid meanwhile waits at its row. What committed before is read; what waits adds to the rebuilt rows once
    this commits. (A currency's very first movement on a day with no row yet could still slip between.)"""
    today = today or utcnow().date()
    _recount_fees()
    currencies = set(db.session.scalars(select(Payment.currency).distinct())) | set(
        db.session.scalars(select(Payout.currency).distinct()))
    if currencies:
        db.session.execute(upsert(RevenueDay.__table__, [{"day": today, "currency": code, **dict.fromkeys(FIGURES, 0)}
                                                         for code in sorted(currencies)], ("day", "currency"),
                                  add=FIGURES))
    had = {(row.day, row.currency) for row in db.session.scalars(select(RevenueDay).with_for_update())}
    rows = _moved()
    counted = {(row["day"], row["currency"]) for row in rows}
    for day, currency in sorted(had - counted):
        db.session.execute(delete(RevenueDay).where(RevenueDay.day == day, RevenueDay.currency == currency))
    if rows:
        db.session.execute(upsert(RevenueDay.__table__, rows, ("day", "currency"), replace=FIGURES))
    return len(rows)


def _recount_fees() -> None:
    """Every booking's fee kept from its payments (and every booking's row lock, until the caller commits)."""
    taken, given_back = _taken_and_given_back(Booking.id)
    left = taken - given_back  # fee_kept() in SQL, for every booking in one statement
    db.session.execute(update(Booking).values(fee_kept_amount=case(
        (Booking.status.not_in(SETTLED), 0), (Booking.service_fee_amount < left, Booking.service_fee_amount),
        else_=left), updated_at=Booking.updated_at).execution_options(synchronize_session=False))


def _moved() -> list[dict]:
    """The rows the payments, refunds, payouts and fees kept come to: [{"day", "currency", *FIGURES}]."""
    zero = literal(0)

    def on_day(*moments):
        return func.date(func.coalesce(*moments))

    moved = union_all(
        select(on_day(Payment.charged_at, Payment.created_at).label("day"), Payment.currency.label("currency"),
               Payment.amount.label("charged"), zero.label("refunded"), zero.label("service_fees"),
               zero.label("paid_out")).where(Payment.status.in_(CHARGED)),
        select(on_day(PaymentRefund.succeeded_at, PaymentRefund.created_at), PaymentRefund.currency, zero,
               PaymentRefund.amount, zero, zero).where(PaymentRefund.status == "succeeded"),
        select(on_day(Booking.completed_at, Booking.canceled_at, Booking.updated_at), Booking.currency, zero, zero,
               Booking.fee_kept_amount, zero).where(Booking.fee_kept_amount != 0),
        select(on_day(Payout.paid_at, Payout.updated_at), Payout.currency, zero, zero, zero, Payout.amount)
        .where(Payout.status == "paid"),
    ).subquery()
    return [{"day": day if isinstance(day, date) else date.fromisoformat(str(day)[:10]), "currency": currency,
             **{name: int(amount) for name, amount in zip(FIGURES, amounts, strict=True)}}
            for day, currency, *amounts in db.session.execute(
                select(moved.c.day, moved.c.currency, *(func.sum(moved.c[name]) for name in FIGURES))
                .group_by(moved.c.day, moved.c.currency)).all()]
