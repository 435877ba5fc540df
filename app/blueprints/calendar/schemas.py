"""Calendar schemas: they document the availability API (OpenAPI); services.py validates the ranges."""

from __future__ import annotations

from marshmallow import Schema, fields

from ...schemas import MoneySchema


class DaySchema(Schema):
    date = fields.String()
    available = fields.Boolean()
    price = fields.Nested(MoneySchema)


class AvailabilitySchema(Schema):
    days = fields.List(fields.Nested(DaySchema))


class AvailabilityQuerySchema(Schema):
    from_ = fields.Date(data_key="from")
    to = fields.Date()


class RangeSchema(Schema):
    start = fields.Date(required=True)
    end = fields.Date(required=True)
    available = fields.Boolean()
    price = fields.Nested(MoneySchema, allow_none=True)


class AvailabilityUpdateSchema(Schema):
    ranges = fields.List(fields.Nested(RangeSchema), required=True)
