"""Calendar schemas: they document the availability API (OpenAPI) and load its query; services.py validates the
ranges of a change (their errors name each range, `ranges.0.end`, one at a time)."""

from __future__ import annotations

from marshmallow import Schema, fields, pre_load

from ...schemas import MoneySchema


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


class RangeSchema(Schema):
    start = fields.Date(required=True)
    end = fields.Date(required=True)
    available = fields.Boolean()
    price = fields.Nested(MoneySchema, allow_none=True)


class AvailabilityUpdateSchema(Schema):
    ranges = fields.List(fields.Nested(RangeSchema), required=True)
