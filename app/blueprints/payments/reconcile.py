"""Reconciliation (jobs run-due): ask the provider about every payment whose outcome Abode does not know.

A payment is left `processing`, or unanswered, when the provider answered slowly (a bank still deciding, a PayPal
capture pending), timed out, or the process died mid-call. Once it has been so for RECONCILE_AFTER and nobody is
asking, one run claims it, asks the provider (by its reference, or by creating it again with the same idempotency
key while the provider still knows the key) and applies the answer like any confirmation. A PayPal order the
booking can no longer take is closed rather than read, since reading an approved order captures it (a capture
that did happen is read and refunded). Refunds and payouts need no step of their own: a claim that runs out puts
them back among those retry_refunds and pay_payouts send.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from sqlalchemy import and_, or_, select

from ...extensions import db
from ...models import Payment, utcnow
from ...payment_providers import Charge, PaymentError
from .charges import (
    CAPTURES_ON_READ,
    UNANSWERED,
    apply_charge,
    ask_provider,
    claim_payment,
    close,
    may_create_again,
    payable_problem,
    release,
)
from .claims import each_row, is_free

logger = logging.getLogger(__name__)

RECONCILE_AFTER = timedelta(minutes=3)


def reconcile_payments() -> int:
    """Settle the payments whose outcome is unknown; returns how many the provider gave an answer for."""
    unknown = or_(Payment.status == "processing",
                  and_(Payment.status == "requires_payment", Payment.failure_code == UNANSWERED))
    ids = db.session.scalars(select(Payment.id).where(unknown, Payment.updated_at <= utcnow() - RECONCILE_AFTER,
                                                      is_free(Payment)).order_by(Payment.id)).all()
    db.session.rollback()
    return each_row(ids, _reconcile, "payment")


def _reconcile(payment_id: int) -> bool:
    if not claim_payment(payment_id):
        return False
    payment = db.session.get(Payment, payment_id, populate_existing=True)
    before = payment.status
    if payment.provider_reference and payment.provider in CAPTURES_ON_READ and \
            payable_problem(payment.booking, besides=payment.id) is not None:
        try:
            close(payment)
        except PaymentError as error:
            release(payment)
            logger.warning("payment %s not reconciled: %s", payment_id, error)
            return False
        logger.info("payment %s reconciled: closed, as its booking can no longer take it", payment_id)
        return True
    answer = ask_provider(payment)
    if answer is None and not payment.provider_reference and not may_create_again(payment):
        answer = Charge("", "failed", payment.amount, payment.currency, failure_code="payment_failed",
                        failure_message="The payment service never answered; nothing is known to be charged.")
    if answer is None:
        release(payment)
        logger.warning("payment %s not reconciled: the provider still did not answer", payment_id)
        return False
    apply_charge(payment, answer)
    logger.info("payment %s reconciled: %s -> %s", payment_id, before, answer.status)
    return True
