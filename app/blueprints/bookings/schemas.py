"""Booking schemas: they document the API (OpenAPI) and are the one way bookings and quotes are dumped;
services.py and quotes.py validate input."""

from __future__ import annotations

from marshmallow import Schema, fields, pre_dump, validate

from ...models import BOOKING_STATUSES, Booking
from ...money import money
from ...schemas import MoneySchema, PageSchema, Timestamp
from .services import Quote


class StayArgsSchema(Schema):
    check_in = fields.Date(required=True)
    check_out = fields.Date(required=True)
    guests = fields.Integer(load_default=1)


class PriceSchema(Schema):
    nightly = fields.Nested(MoneySchema, metadata={"description": "every night together"})
    cleaning_fee = fields.Nested(MoneySchema)
    service_fee = fields.Nested(MoneySchema)
    total = fields.Nested(MoneySchema)


class QuoteSchema(Schema):
    """The contract's quote: nights, price and whether every night is free."""

    nights = fields.Integer()
    price = fields.Nested(PriceSchema)
    available = fields.Boolean()

    @pre_dump
    def _from_quote(self, quote: Quote, **_kw) -> dict:
        return {"nights": quote.nights, "available": quote.available,
                "price": _price(quote.currency, quote.nightly, quote.cleaning_fee, quote.service_fee, quote.total)}


class BookingInputSchema(Schema):
    listing_id = fields.Integer(required=True, strict=True, data_key="property_id")
    check_in = fields.Date(required=True)
    check_out = fields.Date(required=True)
    guests = fields.Integer(required=True, strict=True)


class CancelSchema(Schema):
    reason = fields.String(validate=validate.Length(max=500), allow_none=True)


class BookingSchema(Schema):
    """The contract's Booking object."""

    id = fields.Integer()
    listing_id = fields.Integer(data_key="property_id")
    guest_id = fields.Integer()
    check_in = fields.Date()
    check_out = fields.Date()
    nights = fields.Integer()
    guests = fields.Integer()
    status = fields.String(validate=validate.OneOf(BOOKING_STATUSES))
    price = fields.Nested(PriceSchema)
    cancellation_policy = fields.String()
    awaiting_approval = fields.Boolean()
    paid = fields.Boolean()
    refund = fields.Nested(MoneySchema, allow_none=True)
    expires_at = Timestamp(allow_none=True)
    created_at = Timestamp()

    @pre_dump
    def _from_booking(self, booking: Booking, **_kw) -> dict:
        plain = ("id", "listing_id", "guest_id", "check_in", "check_out", "nights", "guests", "status",
                 "cancellation_policy", "awaiting_approval", "paid", "expires_at", "created_at")
        return {**{name: getattr(booking, name) for name in plain},
                "price": _price(booking.currency, booking.nightly_amount, booking.cleaning_fee_amount,
                                booking.service_fee_amount, booking.total_amount),
                "refund": None if booking.refund_amount is None else money(booking.refund_amount, booking.currency)}


class BookingListArgsSchema(Schema):
    as_ = fields.String(data_key="as", validate=validate.OneOf(("guest", "host")))
    status = fields.String(metadata={"description": f"one or more of {', '.join(BOOKING_STATUSES)}, comma-separated"})
    awaiting_approval = fields.Boolean(metadata={"description": "true: only paid requests waiting for the host"})
    page = fields.Integer()
    per_page = fields.Integer()


class BookingPageSchema(PageSchema):
    items = fields.List(fields.Nested(BookingSchema))


def _price(currency: str, nightly: int, cleaning: int, service: int, total: int) -> dict:
    return {"nightly": money(nightly, currency), "cleaning_fee": money(cleaning, currency),
            "service_fee": money(service, currency), "total": money(total, currency)}


_QUOTE, _BOOKING = QuoteSchema(), BookingSchema()


def quote_to_dict(quote: Quote) -> dict:
    """The contract's quote (QuoteSchema)."""
    return _QUOTE.dump(quote)


def booking_to_dict(booking: Booking) -> dict:
    """The contract's Booking object (BookingSchema)."""
    return _BOOKING.dump(booking)
