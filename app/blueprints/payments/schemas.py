"""Payment schemas: they load and check POST /payments, dump payments and payouts, and document them (OpenAPI)."""

from __future__ import annotations

from marshmallow import Schema, ValidationError, fields, missing, post_load, validate

from ...models import PAYMENT_STATUSES, PAYOUT_STATUSES, Payment
from ...schemas import MoneyOf, PageSchema, Text, Timestamp
from .services import MAX_METHOD_LENGTH

_BOOKING_ID = "give the id of your booking"
_METHOD = "give a payment method id such as pm_card_visa, or leave it out"


class PaymentInputSchema(Schema):
    booking_id = fields.Integer(required=True, strict=True, validate=validate.Range(1, 2**31 - 1, error=_BOOKING_ID),
                                error_messages={"required": _BOOKING_ID, "null": _BOOKING_ID, "invalid": _BOOKING_ID})
    payment_method = fields.String(allow_none=True, load_default=None,
                                   validate=validate.Length(1, MAX_METHOD_LENGTH, error=_METHOD),
                                   error_messages={"invalid": _METHOD},
                                   metadata={"description": "e.g. pm_card_visa; leave out to confirm in the browser"})


class PaymentSchema(Schema):
    """The contract's Payment (plus what has been refunded)."""

    id = fields.Integer()
    booking_id = fields.Integer()
    amount = MoneyOf("amount")
    status = fields.String(validate=validate.OneOf(PAYMENT_STATUSES))
    provider = fields.String()
    client_secret = fields.Method("_client_secret", metadata={
        "type": "string", "description": "while the payment waits for the guest to confirm"})
    refunded = MoneyOf("refunded_amount")
    created_at = Timestamp(metadata={"format": "date-time"})

    def _client_secret(self, payment: Payment):
        """Only while the payment waits for the guest's browser; otherwise the key is left out."""
        return payment.client_secret if payment.status == "requires_payment" and payment.client_secret else missing


def _is_booking_id(text: str) -> None:
    """Digits naming an id a booking can have; ValidationError otherwise."""
    if not (text.isascii() and text.isdigit()) or not 1 <= int(text) < 2**31:
        raise ValidationError("give a booking id")


class PaymentListArgsSchema(Schema):
    """GET /payments' query string (validation.load_query; page and per_page are pagination.page_args's).

    `booking_id` is read as text and checked by a rule, so a value that is not an id, even one that is not a
    number, is 422 as this list has always answered, not the 400 of an unparsable value.
    """

    booking_id = Text(blank_as_none=True, validate=_is_booking_id,
                      metadata={"type": "integer", "minimum": 1, "maximum": 2**31 - 1})
    page = fields.Integer()
    per_page = fields.Integer()

    @post_load
    def _typed(self, data: dict, **_kw) -> dict:
        return {**data, "booking_id": int(data["booking_id"]) if data.get("booking_id") else None}


class PaymentPageSchema(PageSchema):
    items = fields.List(fields.Nested(PaymentSchema))


class PayoutSchema(Schema):
    """The contract's Payout."""

    id = fields.Integer()
    booking_id = fields.Integer()
    amount = MoneyOf("amount")
    status = fields.String(validate=validate.OneOf(PAYOUT_STATUSES))
    scheduled_for = fields.Date()
    paid_at = Timestamp(allow_none=True, metadata={"format": "date-time"})


class PayoutPageSchema(PageSchema):
    items = fields.List(fields.Nested(PayoutSchema))
