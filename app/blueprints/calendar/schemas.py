"""Calendar schemas: they document the availability API (OpenAPI) and load its query and the ranges of a change
(types, as NightRange; services.py checks each range against the listing's today and currency). Errors name the
range, `ranges.0.end`."""

from __future__ import annotations

from collections.abc import Mapping

from marshmallow import Schema, ValidationError, fields, post_load, pre_load, validate

from ...schemas import IsoDate, MoneySchema, Object, StrictBoolean, iso_date
from ..listings.services import MAX_AMOUNT
from .ranges import MAX_RANGES, NightRange

PRICE_MESSAGE = "Give a Money object in the listing's currency."
RANGES_MESSAGE = "Give a non-empty list of ranges."


class DaySchema(Schema):
    date = fields.String()
    available = fields.Boolean()
    price = fields.Nested(MoneySchema)


class AvailabilitySchema(Schema):
    days = fields.List(fields.Nested(DaySchema))


class AvailabilityQuerySchema(Schema):
    """`from` and `to` of a calendar read; a missing or empty one is left out (the view's default applies)."""

    from_ = fields.Date(data_key="from", error_messages={"invalid": "not a date"})
    to = fields.Date(error_messages={"invalid": "not a date"})

    @pre_load
    def _drop_empty(self, data: dict, **_kw) -> dict:
        return {name: value for name, value in data.items() if value != ""}


class RangePriceSchema(Schema):
    """A range's nightly price: Money, whose currency must be the listing's (services.py checks that)."""

    amount = fields.Integer(required=True, strict=True, error_messages={
        name: f"Must be a whole number from 1 to {MAX_AMOUNT}." for name in ("required", "null", "invalid")})
    currency = fields.String(required=True)

    @pre_load
    def _currency_first(self, data: Mapping, **_kw) -> Mapping:
        """No currency, or one that is not a code: the price as a whole is wrong (`ranges.0.price`)."""
        if not isinstance(data.get("currency"), str):
            raise ValidationError(PRICE_MESSAGE)
        return data


class RangeSchema(Schema):
    """One range of nights, loaded as a NightRange; `"price": null` returns them to the base price."""

    start = IsoDate(required=True)
    end = IsoDate(required=True)
    available = StrictBoolean(error_messages={"invalid": "Must be true or false.", "null": "Must be true or false."})
    price = Object(RangePriceSchema, allow_none=True, type_error=PRICE_MESSAGE,
                   metadata={"description": "Money in the listing's currency; null: back to the base price"})

    @pre_load
    def _dates_together(self, data: Mapping, **_kw) -> Mapping:
        """A missing or malformed start or end is a fault of the range itself (`ranges.0`)."""
        if iso_date(data.get("start")) is None or iso_date(data.get("end")) is None:
            raise ValidationError("start and end must be dates as YYYY-MM-DD.")
        return data

    @post_load
    def _night_range(self, data: dict, **_kw) -> NightRange:
        price = data.get("price")
        return NightRange(data["start"], data["end"], available=data.get("available"), price=price,
                          base_price="price" in data and price is None)


class AvailabilityUpdateSchema(Schema):
    ranges = fields.List(
        Object(RangeSchema, type_error="Each range is an object with start and end."), required=True,
        validate=[validate.Length(min=1, error=RANGES_MESSAGE),
                  validate.Length(max=MAX_RANGES, error=f"At most {MAX_RANGES} ranges at a time.")],
        error_messages={"required": RANGES_MESSAGE, "null": RANGES_MESSAGE, "invalid": RANGES_MESSAGE})
