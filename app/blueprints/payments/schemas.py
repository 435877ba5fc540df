"""Payment schemas: they document the API (OpenAPI) and serialise payments; services.py validates input."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from ...models import PAYMENT_STATUSES, PAYOUT_STATUSES, Payment, Payout
from ...money import money
from ...schemas import MoneySchema, PageSchema, isoformat


class PaymentInputSchema(Schema):
    booking_id = fields.Integer(required=True, strict=True)
    payment_method = fields.String(metadata={"description": "e.g. pm_card_visa; leave out to confirm in the browser"})


class PaymentSchema(Schema):
    id = fields.Integer()
    booking_id = fields.Integer()
    amount = fields.Nested(MoneySchema)
    status = fields.String(validate=validate.OneOf(PAYMENT_STATUSES))
    provider = fields.String()
    client_secret = fields.String(metadata={"description": "while the payment waits for the guest to confirm"})
    refunded = fields.Nested(MoneySchema)
    created_at = fields.DateTime()


class PaymentListArgsSchema(Schema):
    booking_id = fields.Integer()
    page = fields.Integer()
    per_page = fields.Integer()


class PaymentPageSchema(PageSchema):
    items = fields.List(fields.Nested(PaymentSchema))


class PayoutSchema(Schema):
    id = fields.Integer()
    booking_id = fields.Integer()
    amount = fields.Nested(MoneySchema)
    status = fields.String(validate=validate.OneOf(PAYOUT_STATUSES))
    scheduled_for = fields.Date()
    paid_at = fields.DateTime(allow_none=True)


class PayoutPageSchema(PageSchema):
    items = fields.List(fields.Nested(PayoutSchema))


def payout_to_dict(payout: Payout) -> dict:
    """The contract's Payout object."""
    return {"id": payout.id, "booking_id": payout.booking_id, "amount": money(payout.amount, payout.currency),
            "status": payout.status, "scheduled_for": payout.scheduled_for.isoformat(),
            "paid_at": isoformat(payout.paid_at)}


def payment_to_dict(payment: Payment) -> dict:
    """The contract's Payment object (plus what has been refunded)."""
    data = {"id": payment.id, "booking_id": payment.booking_id, "amount": money(payment.amount, payment.currency),
            "status": payment.status, "provider": payment.provider,
            "refunded": money(payment.refunded_amount, payment.currency), "created_at": isoformat(payment.created_at)}
    if payment.status == "requires_payment" and payment.client_secret:
        data["client_secret"] = payment.client_secret
    return data
