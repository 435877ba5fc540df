"""Schemas every feature shares: the contract's Money, page and timestamp shapes (API.md "Conventions")."""

from __future__ import annotations

from datetime import datetime

from marshmallow import Schema, fields, validate


class MoneySchema(Schema):
    """`{"amount": 12500, "currency": "USD"}`: an integer in the currency's minor unit and an ISO 4217 code."""

    amount = fields.Integer(required=True, strict=True)
    currency = fields.String(required=True, validate=validate.Length(equal=3))


class PageSchema(Schema):
    """The contract's page object (API.md "Pagination"); a subclass adds `items` of its own schema."""

    page = fields.Integer()
    per_page = fields.Integer()
    total = fields.Integer()
    pages = fields.Integer()


class PageArgsSchema(Schema):
    """`page` (from 1) and `per_page` (default 20, at most 100) of a list endpoint."""

    page = fields.Integer()
    per_page = fields.Integer()


def isoformat(value: datetime | None) -> str | None:
    """A naive UTC timestamp as ISO 8601 with a Z suffix, to the second (None stays None)."""
    return None if value is None else value.replace(microsecond=0).isoformat() + "Z"


class Timestamp(fields.DateTime):
    """The contract's timestamp when dumping: a naive UTC datetime as ISO 8601 with a Z suffix, to the second
    (isoformat); documented as a date-time string."""

    def _serialize(self, value, attr, obj, **kwargs):
        return isoformat(value)
