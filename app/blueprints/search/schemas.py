"""Search schemas: they document /api/v1/search in OpenAPI; services.parse_search checks the arguments."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from ...models import PROPERTY_TYPES
from ...schemas import MoneySchema, PageSchema, RatingSchema
from .services import SORTS


class SearchArgsSchema(Schema):
    location = fields.String(metadata={"description": "prefix of the city, state, country name or ISO code"})
    lat = fields.Float()
    lng = fields.Float()
    radius_km = fields.Float()
    check_in = fields.Date()
    check_out = fields.Date()
    guests = fields.Integer()
    min_price = fields.Integer(metadata={"description": "per night, minor units of `currency`"})
    max_price = fields.Integer()
    currency = fields.String(validate=validate.Length(equal=3))
    amenities = fields.String(metadata={"description": "comma-separated amenity codes, all must match"})
    property_type = fields.String(validate=validate.OneOf(PROPERTY_TYPES))
    instant_book = fields.Boolean()
    sort = fields.String(validate=validate.OneOf(SORTS))
    page = fields.Integer()
    per_page = fields.Integer()


class SearchItemSchema(Schema):
    id = fields.Integer()
    title = fields.String()
    city = fields.String()
    country = fields.String()
    property_type = fields.String()
    max_guests = fields.Integer()
    price_per_night = fields.Nested(MoneySchema)
    display_price = fields.Nested(MoneySchema)
    rating = fields.Nested(RatingSchema)
    thumbnail_url = fields.String(allow_none=True)
    latitude = fields.Float(allow_none=True)
    longitude = fields.Float(allow_none=True)


class SearchPageSchema(PageSchema):
    items = fields.List(fields.Nested(SearchItemSchema))
    currency = fields.String()
