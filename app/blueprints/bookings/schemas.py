"""Booking schemas: they document the API (OpenAPI), load its input (types; the stay's rules are the services')
and are the one way bookings and quotes are dumped."""

from __future__ import annotations

from marshmallow import Schema, ValidationError, fields, post_load, pre_dump, pre_load, validate

from ...models import BOOKING_STATUSES, Booking
from ...money import money
from ...schemas import IsoDate, MoneySchema, PageSchema, Timestamp
from .services import MAX_REASON_LENGTH, Quote

STAY_DATES = ("check_in", "check_out")
_REQUIRED = {"required": "required", "null": "required"}
_WHOLE = {"invalid": "must be a whole number", "null": "must be a whole number"}
_REASON = f"give a text of at most {MAX_REASON_LENGTH} characters"
LIST_ROLES = ("guest", "host")


class StayArgsSchema(Schema):
    """The quote's query: an empty date is a missing one. Loaded with partial=STAY_DATES, a missing date is left
    out and the service answers it (422 required, after the listing's 404); one that is not a date is 400."""

    check_in = IsoDate(required=True, error_messages=_REQUIRED)
    check_out = IsoDate(required=True, error_messages=_REQUIRED)
    guests = fields.Integer(load_default=1, error_messages=_WHOLE)

    @pre_load
    def _drop_empty_dates(self, data: dict, **_kw) -> dict:
        return {name: value for name, value in data.items() if not (name in STAY_DATES and value == "")}


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
    """The body of POST /bookings, loaded as services.create_booking's keyword arguments; `guests` defaults to 1
    (a retry that spells it out is the same request)."""

    listing_id = fields.Integer(required=True, strict=True, data_key="property_id",
                                validate=validate.Range(1, 2**31 - 1, error="no such listing"),
                                error_messages={"required": "no such listing", "null": "no such listing",
                                                "invalid": "no such listing"})
    check_in = IsoDate(required=True, error_messages=_REQUIRED)
    check_out = IsoDate(required=True, error_messages=_REQUIRED)
    guests = fields.Integer(strict=True, load_default=1, error_messages=_WHOLE)


class CancelSchema(Schema):
    """The cancel body: an optional reason, kept with the booking."""

    reason = fields.String(allow_none=True, validate=validate.Length(max=MAX_REASON_LENGTH, error=_REASON),
                           error_messages={"invalid": _REASON})


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


def _split(text: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in text.split(",") if part.strip())


def _known_statuses(text: str) -> None:
    if any(status not in BOOKING_STATUSES for status in _split(text)):
        raise ValidationError(f"choose from {', '.join(BOOKING_STATUSES)}")


def _true_or_false(text: str) -> None:
    if text.strip().lower() not in ("", "true", "false"):
        raise ValidationError("true or false")


class BookingListArgsSchema(Schema):
    """The list's query: whose bookings (`as`), which statuses (comma-separated), only requests awaiting their
    host. Loaded into the service's keyword arguments role, statuses and awaiting; a bad value is 422."""

    as_ = fields.String(data_key="as", attribute="role", load_default="guest",
                        validate=validate.OneOf(LIST_ROLES, error="choose guest or host"))
    status = fields.String(attribute="statuses", validate=_known_statuses,
                           metadata={"description": f"one or more of {', '.join(BOOKING_STATUSES)}, comma-separated"})
    awaiting_approval = fields.String(attribute="awaiting", validate=_true_or_false,
                                      metadata={"description": "true: only paid requests waiting for the host"})
    page = fields.Integer(load_only=True)
    per_page = fields.Integer(load_only=True)

    @pre_load
    def _blank_role(self, data: dict, **_kw) -> dict:
        return {key: value for key, value in data.items() if not (key == "as" and value == "")}

    @post_load
    def _typed(self, data: dict, **_kw) -> dict:
        awaiting = (data.get("awaiting") or "").strip().lower()
        return {"role": data["role"], "statuses": _split(data.get("statuses") or ""),
                "awaiting": None if not awaiting else awaiting == "true"}


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
