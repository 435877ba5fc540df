"""The ledger an admin reconciles: per booking, charged − refunded − paid out − service fee kept − held = 0."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import func, select

from ...extensions import db
from ...models import Booking, Payment, PaymentRefund, Payout
from ...models.payment import CHARGED
from . import revenue


@dataclass(frozen=True)
class LedgerLine:
    """One booking's money. Once it is settled (completed or canceled), charged − refunded − payout − service
    fee kept is 0; before, what was charged and not refunded is held until it settles."""

    booking_id: int
    currency: str
    charged: int
    refunded: int
    payout: int  # paid or still owed to the host
    fee_kept: int
    held: int
    recorded_refunded: int = 0  # what the payments say went back (their `refunded`): must equal `refunded`
    recorded_fee_kept: int = 0  # what revenue_days counted as kept (booking.fee_kept_amount): must equal `fee_kept`

    @property
    def balance(self) -> int:
        return self.charged - self.refunded - self.payout - self.fee_kept - self.held

    @property
    def balanced(self) -> bool:
        """The identity holds, and the payments' own `refunded` and the fee revenue_days counted agree with it."""
        return self.balance == 0 and self.recorded_refunded == self.refunded and self.recorded_fee_kept == self.fee_kept


def ledger(booking_ids: Sequence[int] | None = None) -> list[LedgerLine]:
    """The ledger of the given bookings (default: every booking with a payment). A refund owed but not sent yet
    leaves its booking off balance until it goes through: that money is still to be given back."""
    if booking_ids is None:
        booking_ids = list(db.session.scalars(select(Payment.booking_id).distinct()))
    of_bookings = Payment.booking_id.in_(booking_ids)
    charged_by = _sums(select(Payment.booking_id, func.sum(Payment.amount))
                       .where(of_bookings, Payment.status.in_(CHARGED)).group_by(Payment.booking_id))
    refunded_by = _sums(select(Payment.booking_id, func.sum(PaymentRefund.amount)).join(PaymentRefund.payment)
                        .where(of_bookings, PaymentRefund.status == "succeeded").group_by(Payment.booking_id))
    recorded_by = _sums(select(Payment.booking_id, func.sum(Payment.refunded_amount))
                        .where(of_bookings).group_by(Payment.booking_id))
    payout_by = _sums(select(Payout.booking_id, Payout.amount).where(Payout.booking_id.in_(booking_ids)))
    lines = []
    for booking in db.session.scalars(select(Booking).where(Booking.id.in_(booking_ids)).order_by(Booking.id)):
        charged, refunded = charged_by.get(booking.id, 0), refunded_by.get(booking.id, 0)
        payout = payout_by.get(booking.id, 0)
        settled = booking.status in revenue.SETTLED
        lines.append(LedgerLine(booking.id, booking.currency, charged, refunded, payout,
                                revenue.fee_kept(booking, charged, refunded),
                                held=0 if settled else booking.paid_amount,
                                recorded_refunded=recorded_by.get(booking.id, 0),
                                recorded_fee_kept=booking.fee_kept_amount))
    return lines


def totals(lines: Sequence[LedgerLine]) -> list[dict]:
    """Per currency, the lines' charged, refunded and service fees kept, and every payout paid (a stay paid outside
    the providers has no line, yet its host is paid), in revenue.totals()' shape: what revenue_days must add up to
    over all days (a currency where nothing moved is left out)."""
    by: dict[str, dict] = {}

    def row(currency: str) -> dict:
        return by.setdefault(currency, {"currency": currency, **dict.fromkeys(revenue.FIGURES, 0)})

    for line in lines:
        row(line.currency)["charged"] += line.charged
        row(line.currency)["refunded"] += line.refunded
        row(line.currency)["service_fees"] += line.fee_kept
    for currency, amount in db.session.execute(select(Payout.currency, func.sum(Payout.amount))
                                               .where(Payout.status == "paid").group_by(Payout.currency)):
        row(currency)["paid_out"] += int(amount)
    return [by[code] for code in sorted(by) if any(by[code][name] for name in revenue.FIGURES)]


def _sums(statement) -> dict[int, int]:
    """{booking id: amount} from a two-column query (SUM is a decimal on MariaDB)."""
    return {booking_id: int(amount) for booking_id, amount in db.session.execute(statement).all()}
