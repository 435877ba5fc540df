"""Schemas every feature shares: the contract's Money, page, timestamp, public-user and rating shapes (docs/api.md
"Conventions"), and the fields that dump a model's columns into them."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date, datetime

from marshmallow import Schema, ValidationError, fields, validate

from .money import CURRENCIES, money
from .storage import image_url


class MoneySchema(Schema):
    """`{"amount": 12500, "currency": "USD"}`: an integer in the currency's minor unit and an ISO 4217 code."""

    amount = fields.Integer(required=True, strict=True)
    currency = fields.String(required=True, validate=validate.Length(equal=3))


class MoneyInputSchema(MoneySchema):
    """Money a client sends: the currency must be one the app supports (a subclass bounds the amount)."""

    currency = fields.String(required=True, validate=validate.OneOf(sorted(CURRENCIES),
                                                                    error="Unknown or unsupported currency."))


class MoneyOf(fields.Nested):
    """Dumps Money from two attributes of the object (`amount`, `currency` name them); documented as Money."""

    def __init__(self, amount: str, currency: str = "currency", **kwargs):
        super().__init__(MoneySchema, dump_only=True, **kwargs)
        self.amount_attr, self.currency_attr = amount, currency

    def serialize(self, attr, obj, accessor=None, **kwargs):
        return money(getattr(obj, self.amount_attr), getattr(obj, self.currency_attr))


class Object(fields.Nested):
    """A nested object whose wrong type (a number, a list) is one message on the field itself, not `field._schema`."""

    def __init__(self, nested, *, type_error: str = "Give an object.", **kwargs):
        super().__init__(nested, **kwargs)
        self.type_error = type_error

    def _deserialize(self, value, attr, data, partial=None, **kwargs):
        if not isinstance(value, Mapping):
            raise ValidationError(self.type_error)
        return super()._deserialize(value, attr, data, partial=partial, **kwargs)


class Embedded(fields.Nested):
    """Dumps the object itself through the nested schema (an address made of a listing's columns)."""

    def __init__(self, nested, **kwargs):
        super().__init__(nested, dump_only=True, **kwargs)

    def serialize(self, attr, obj, accessor=None, **kwargs):
        return self.schema.dump(obj)


class StrictFloat(fields.Float):
    """A JSON number only: "52.3" as text is refused, as are booleans."""

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, str):
            raise self.make_error("invalid")
        return super()._deserialize(value, attr, data, **kwargs)


class StrictBoolean(fields.Boolean):
    """JSON true or false only ("yes", 1 are refused)."""

    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, bool):
            raise self.make_error("invalid")
        return value


ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


def iso_date(value: object) -> date | None:
    """The date `value` writes as YYYY-MM-DD (the contract's only form), else None."""
    if not isinstance(value, str) or not ISO_DATE.fullmatch(value):
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:  # 2030-02-30
        return None


class IsoDate(fields.Date):
    """A date loaded from YYYY-MM-DD only: fields.Date (Python's fromisoformat) would also take "20240105" and
    week dates such as "2027-W10-1", which the contract's dates are not."""

    default_error_messages = {"invalid": "must be a date as YYYY-MM-DD"}

    def _deserialize(self, value, attr, data, **kwargs) -> date:
        loaded = iso_date(value)
        if loaded is None:
            raise self.make_error("invalid")
        return loaded


class Timestamp(fields.DateTime):
    """The contract's timestamp when dumping: a naive UTC datetime as ISO 8601 with a Z suffix, to the second
    (isoformat); documented as a date-time string."""

    def _serialize(self, value, attr, obj, **kwargs):
        return isoformat(value)


class ImageUrl(fields.String):
    """A storage key dumped as the image's public URL (None stays None)."""

    def _serialize(self, value, attr, obj, **kwargs):
        return image_url(value)


class PageSchema(Schema):
    """The contract's page object (docs/api.md "Pagination"); a subclass adds `items` of its own schema."""

    page = fields.Integer()
    per_page = fields.Integer()
    total = fields.Integer()
    pages = fields.Integer()


class PageArgsSchema(Schema):
    """`page` (from 1) and `per_page` (default 20, at most 100) of a list endpoint."""

    page = fields.Integer(metadata={"minimum": 1, "maximum": 100_000})  # pagination.MAX_PAGE
    per_page = fields.Integer()


class PublicUserSchema(Schema):
    """What anyone may see of another user (a listing's host, a review's author)."""

    id = fields.Integer()
    name = fields.String()
    avatar_url = ImageUrl(attribute="avatar_key", allow_none=True)
    created_at = Timestamp()


class RatingSchema(Schema):
    """`{"average", "count"}` of a listing's visible reviews."""

    average = fields.Float(allow_none=True)
    count = fields.Integer()


def isoformat(value: datetime | None) -> str | None:
    """A naive UTC timestamp as ISO 8601 with a Z suffix, to the second (None stays None)."""
    return None if value is None else value.replace(microsecond=0).isoformat() + "Z"


class Text(fields.String):
    """A string loaded with surrounding whitespace removed (so lengths count what is kept); with
    `blank_as_none`, an empty result loads as None; with `none_as_blank`, null loads as ""."""

    def __init__(self, *args, blank_as_none: bool = False, none_as_blank: bool = False, **kwargs):
        if none_as_blank:
            kwargs["allow_none"] = True
        super().__init__(*args, **kwargs)
        self.blank_as_none, self.none_as_blank = blank_as_none, none_as_blank

    def deserialize(self, value, attr=None, data=None, **kwargs):
        if value is None and self.none_as_blank:
            value = ""
        if self.blank_as_none and isinstance(value, str) and not value.strip():
            return None  # nothing to validate: a blank clears the value
        return super().deserialize(value, attr, data, **kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        return super()._deserialize(value, attr, data, **kwargs).strip()
