"""Search schemas: SearchArgsSchema is the one loader of the search query string (the API through
validation.load_query, the search page through the same schema) and documents it in OpenAPI; the answer's shapes.

Every bound of a search argument is written here once; the service (services.search_query) keeps the rules that
need the clock (a stay's dates against today) or the database (amenity codes that exist).
"""

from __future__ import annotations

from datetime import date

from marshmallow import Schema, ValidationError, fields, post_load, pre_load, validate, validates_schema

from ... import money
from ...models import PROPERTY_TYPES
from ...pagination import MAX_PAGE
from ...schemas import MoneySchema, PageSchema, RatingSchema, Text

SORTS = ("relevance", "price_asc", "price_desc", "rating", "newest")
MAX_RADIUS_KM, MAX_PRICE, MAX_LOCATION, MAX_GUESTS = 20000.0, 10**9, 100, 100  # 20000 km: the whole Earth
MAX_AMENITIES, MAX_AMENITY_CODE = 30, 40
NOT_A_NUMBER = {"invalid": "must be a number", "too_large": "must be a number", "special": "must be a finite number"}


def between(low: float, high: float) -> validate.Range:
    """A bound on a number, worded as search words it."""
    return validate.Range(low, high, error=f"must be between {low:g} and {high:g}")


def one_of(choices) -> validate.OneOf:
    return validate.OneOf(choices, error=f"choose one of {', '.join(choices)}")


class Trimmed:
    """A query-string value: surrounding whitespace ignored, a blank one absent (None, its rules not run)."""

    def deserialize(self, value, attr=None, data=None, **kwargs):
        if isinstance(value, str):
            value = value.strip()
            if not value:
                return None
        return super().deserialize(value, attr, data, **kwargs)


class Integer(Trimmed, fields.Integer):
    default_error_messages = NOT_A_NUMBER


class Float(Trimmed, fields.Float):
    default_error_messages = NOT_A_NUMBER


class Day(Trimmed, fields.Date):
    default_error_messages = {"invalid": "must be YYYY-MM-DD"}


class Flag(Trimmed, fields.Boolean):
    """true/1 or false/0, any case."""

    default_error_messages = {"invalid": "must be true or false"}

    def _deserialize(self, value, attr, data, **kwargs):
        word = str(value).lower()
        if word in ("true", "1"):
            return True
        if word in ("false", "0"):
            return False
        raise self.make_error("invalid")


class Codes(Trimmed, fields.String):
    """Comma-separated codes, loaded as a sorted tuple without repeats."""

    def _deserialize(self, value, attr, data, **kwargs):
        text = super()._deserialize(value, attr, data, **kwargs)
        return tuple(sorted({code.strip() for code in text.split(",") if code.strip()}))


def _few_codes(codes: tuple[str, ...]) -> None:
    if len(codes) > MAX_AMENITIES or any(len(code) > MAX_AMENITY_CODE for code in codes):
        raise ValidationError(f"give at most {MAX_AMENITIES} amenity codes")


def _supported(currency: str) -> None:
    if not money.is_supported(currency):
        raise ValidationError("unknown or unsupported currency")


class Currency(Text):
    """An ISO code in any case, loaded in capitals."""

    def _deserialize(self, value, attr, data, **kwargs):
        return super()._deserialize(value, attr, data, **kwargs).upper()


class SearchArgsSchema(Schema):
    """The search query string, loaded into services.search_query's keyword arguments: absent and blank values
    are left out (the service's defaults apply), the rest typed and checked."""

    location = Text(blank_as_none=True, validate=validate.Length(max=MAX_LOCATION,
                                                                 error=f"use at most {MAX_LOCATION} characters"),
                    metadata={"description": "prefix of the city, state, country name or ISO code"})
    lat = Float(validate=between(-90, 90))
    lng = Float(validate=between(-180, 180))
    radius_km = Float(validate=between(0.1, MAX_RADIUS_KM))
    check_in = Day()
    check_out = Day()
    guests = Integer(validate=between(1, MAX_GUESTS))
    min_price = Integer(validate=between(0, MAX_PRICE),
                        metadata={"description": "per night, minor units of `currency`"})
    max_price = Integer(validate=between(0, MAX_PRICE))
    currency = Currency(validate=_supported, metadata={"description": "default USD, any case"})
    amenities = Codes(validate=_few_codes, metadata={"description": "comma-separated amenity codes, all must match"})
    property_type = Text(blank_as_none=True, validate=one_of(PROPERTY_TYPES))
    instant_book = Flag()
    sort = Text(validate=one_of(SORTS))
    page = Integer(validate=between(1, MAX_PAGE))
    per_page = Integer(validate=between(-MAX_PRICE, MAX_PRICE), metadata={"description": "clamped to 1..100"})

    @pre_load
    def _drop_empty(self, data: dict, **_kw) -> dict:
        return {name: value for name, value in data.items() if value != ""}

    @validates_schema
    def _pairs(self, data: dict, **_kw) -> None:
        """The arguments that only make sense together: the dates, the point, a radius around it; a price range."""
        check_in, check_out = data.get("check_in"), data.get("check_out")
        if (check_in is None) != (check_out is None):
            raise ValidationError({"check_out" if check_out is None else "check_in":
                                   ["give both check_in and check_out"]})
        min_price, max_price = data.get("min_price"), data.get("max_price")
        if min_price is not None and max_price is not None and min_price > max_price:
            raise ValidationError({"max_price": ["must not be below min_price"]})
        lat, lng = data.get("lat"), data.get("lng")
        if (lat is None) != (lng is None):
            raise ValidationError({"lng" if lng is None else "lat": ["give both lat and lng"]})
        if data.get("radius_km") is not None and lat is None:
            raise ValidationError({"radius_km": ["needs lat and lng"]})

    @post_load
    def _given(self, data: dict, **_kw) -> dict[str, date | float | int | str | bool | tuple | None]:
        return {name: value for name, value in data.items() if value is not None}


class SearchItemSchema(Schema):
    id = fields.Integer()
    title = fields.String()
    city = fields.String()
    country = fields.String()
    property_type = fields.String()
    max_guests = fields.Integer()
    price_per_night = fields.Nested(MoneySchema)
    display_price = fields.Nested(MoneySchema)
    stay_total = fields.Nested(MoneySchema, allow_none=True, metadata={
        "description": "with dates: what the stay costs in all (nights, cleaning fee, service fee), as a quote "
                       "would say; null without dates"})
    rating = fields.Nested(RatingSchema)
    thumbnail_url = fields.String(allow_none=True)
    latitude = fields.Float(allow_none=True)
    longitude = fields.Float(allow_none=True)


class SearchPageSchema(PageSchema):
    items = fields.List(fields.Nested(SearchItemSchema))
    currency = fields.String()
