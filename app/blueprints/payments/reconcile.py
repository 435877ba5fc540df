"""Reconciliation (jobs run-due): ask the provider about every payment whose outcome Abode does not know.

A payment is left `processing`, or unanswered, when the provider answered slowly (a bank still deciding, a PayPal
capture pending), timed out, or the process died mid-call. Once it has been so for RECONCILE_AFTER and nobody is
asking, one run claims it, asks the provider (by its reference, or by creating it again with the same idempotency
key, which gives the first answer) and applies the answer like any confirmation. Refunds and payouts need no step
of their own: a claim that runs out puts them back among those retry_refunds and pay_payouts send.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from sqlalchemy import and_, or_, select

from ...extensions import db
from ...models import Payment, utcnow
from .claims import is_free
from .services import UNANSWERED, apply_charge, ask_provider, claim_payment, payable_problem

logger = logging.getLogger(__name__)

RECONCILE_AFTER = timedelta(minutes=3)


def reconcile_payments() -> int:
    """Settle the payments whose outcome is unknown; returns how many the provider gave an answer for."""
    stale = utcnow() - RECONCILE_AFTER
    unknown = or_(Payment.status == "processing",
                  and_(Payment.status == "requires_payment", Payment.failure_code == UNANSWERED))
    ids = db.session.scalars(select(Payment.id).where(unknown, Payment.updated_at <= stale, is_free(Payment))
                             .order_by(Payment.id)).all()
    db.session.rollback()
    settled = 0
    for payment_id in ids:
        try:
            settled += _reconcile(payment_id)
        except Exception:  # one payment's trouble must not stop the others
            db.session.rollback()
            logger.exception("payment %s could not be reconciled; it will be tried again", payment_id)
    return settled


def _reconcile(payment_id: int) -> bool:
    if not claim_payment(payment_id):
        return False
    payment = db.session.get(Payment, payment_id, populate_existing=True)
    if payment.provider == "paypal" and payment.provider_reference and \
            payable_problem(payment.booking, besides=payment.id) is not None:
        # Reading an approved PayPal order captures it: leave an order the booking can no longer take uncaptured,
        # and let its webhook report a capture that did happen.
        _release(payment, "the booking can no longer take it; left to PayPal")
        return False
    before = payment.status
    charge = ask_provider(payment)
    if charge is None:
        _release(payment, "the provider still did not answer")
        return False
    apply_charge(payment, charge)
    logger.info("payment %s reconciled: %s -> %s", payment_id, before, charge.status)
    return True


def _release(payment: Payment, why: str) -> None:
    payment.claimed_until = None
    db.session.commit()
    logger.warning("payment %s not reconciled: %s", payment.id, why)
