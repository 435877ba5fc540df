"""Listing schemas: they load and check what clients send (the API and the listing form), dump listings, and
document both (OpenAPI). Rules that need the database or the stored listing stay in services.py."""

from __future__ import annotations

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from ... import geo
from ...models import CANCELLATION_POLICIES, PROPERTY_TYPES, SUB_RATINGS, ListingImage
from ...schemas import (
    Embedded,
    ImageUrl,
    MoneyInputSchema,
    MoneyOf,
    Object,
    PageSchema,
    PublicUserSchema,
    RatingSchema,
    StrictBoolean,
    StrictFloat,
    Text,
    Timestamp,
)
from ...storage import image_url
from .ratings import sub_rating_averages
from .services import (
    COUNTS,
    DEFAULTS,
    DESCRIPTION_MAX,
    MAX_AMOUNT,
    NIGHTS_LIMIT,
    TITLE_MAX,
    TITLE_MIN,
    combination_errors,
)

ADDRESS_MAX = {"line1": 200, "city": 100, "state": 100, "postal_code": 20}


def _length(low: int, high: int) -> list[validate.Validator]:
    """Length validators with the listing form's messages ("Enter 3 to 120 characters.")."""
    too_short = f"Enter {low} to {high} characters." if low > 1 else "This field is required."
    rules: list[validate.Validator] = [validate.Length(max=high, error=f"Use at most {high} characters.")]
    return ([validate.Length(min=low, error=too_short)] if low else []) + rules


def _between(low: float, high: float) -> validate.Range:
    return validate.Range(low, high, error="Must be between {min} and {max}.")


def _check(test, message: str):
    def validator(value) -> None:
        if not test(value):
            raise ValidationError(message)
    return validator


def _choice(options) -> validate.OneOf:
    return validate.OneOf(options, error=f"Choose one of {', '.join(options)}.")


class AddressSchema(Schema):
    line1 = Text(none_as_blank=True, load_default="", validate=_length(0, ADDRESS_MAX["line1"]))
    city = Text(required=True, validate=_length(1, ADDRESS_MAX["city"]))
    state = Text(none_as_blank=True, load_default="", validate=_length(0, ADDRESS_MAX["state"]))
    country = fields.String(required=True, metadata={"description": "ISO 3166 alpha-2",
                                                     "enum": sorted(geo.countries())},
                            validate=_check(geo.is_country, "Use an ISO 3166 alpha-2 country code such as FR."))
    postal_code = Text(none_as_blank=True, load_default="", validate=_length(0, ADDRESS_MAX["postal_code"]))


class NightlyPriceSchema(MoneyInputSchema):
    amount = fields.Integer(required=True, strict=True, validate=_between(1, MAX_AMOUNT))


class FeeSchema(MoneyInputSchema):
    amount = fields.Integer(required=True, strict=True, validate=_between(0, MAX_AMOUNT))


def _count(name: str, **kwargs) -> fields.Integer:
    return fields.Integer(strict=True, validate=_between(*COUNTS[name]), **kwargs)


class ListingInputSchema(Schema):
    """A listing as POST /properties and the listing form send it; PATCH loads it partial (services.update_listing
    checks the combination with the stored values)."""

    title = Text(required=True, validate=_length(TITLE_MIN, TITLE_MAX))
    description = Text(none_as_blank=True, load_default=DEFAULTS["description"], validate=_length(0, DESCRIPTION_MAX))
    property_type = fields.String(required=True, validate=_choice(PROPERTY_TYPES))
    address = Object(AddressSchema, required=True,
                     type_error="Give an address object with line1, city, state, country and postal_code.")
    latitude = StrictFloat(allow_none=True, load_default=None, validate=_between(-90, 90))
    longitude = StrictFloat(allow_none=True, load_default=None, validate=_between(-180, 180))
    price_per_night = Object(NightlyPriceSchema, required=True,
                             type_error="Give an object with amount (minor units) and currency.")
    cleaning_fee = Object(FeeSchema, allow_none=True, load_default=DEFAULTS["cleaning_fee"],
                          type_error="Give an object with amount (minor units) and currency.")
    max_guests = _count("max_guests", required=True)
    bedrooms = _count("bedrooms", load_default=DEFAULTS["bedrooms"])
    beds = _count("beds", load_default=DEFAULTS["beds"])
    bathrooms = _count("bathrooms", load_default=DEFAULTS["bathrooms"])
    amenities = fields.List(fields.String(), load_default=list, metadata={"description": "amenity codes"})
    min_nights = fields.Integer(strict=True, load_default=DEFAULTS["min_nights"], validate=_between(1, NIGHTS_LIMIT))
    max_nights = fields.Integer(strict=True, load_default=DEFAULTS["max_nights"], validate=_between(1, NIGHTS_LIMIT))
    cancellation_policy = fields.String(load_default=DEFAULTS["cancellation_policy"],
                                        validate=_choice(CANCELLATION_POLICIES))
    instant_book = StrictBoolean(load_default=DEFAULTS["instant_book"])
    timezone = fields.String(load_default=DEFAULTS["timezone"], metadata={"enum": sorted(geo.timezones())},
                             validate=_check(geo.is_timezone, "Use an IANA time zone name such as Europe/Paris."))

    @validates_schema
    def _combination(self, data: dict, partial=None, **kwargs) -> None:
        """Rules across fields (services.combination_errors), on a complete listing only."""
        if not partial and (errors := combination_errors(data)):
            raise ValidationError(errors)


class ImageSchema(Schema):
    id = fields.Integer()
    url = ImageUrl(attribute="key")
    thumbnail_url = fields.Method("_thumbnail", metadata={"type": "string"})
    position = fields.Integer()

    def _thumbnail(self, image: ListingImage) -> str | None:
        return image_url(image.thumbnail_key or image.key)


class ImageMoveSchema(Schema):
    position = fields.Integer(required=True, strict=True, metadata={"minimum": 0})


class AddressViewSchema(Schema):
    """A listing's address columns as the contract's address object."""

    line1 = fields.String(attribute="address_line1", allow_none=True)
    city = fields.String()
    state = fields.String(allow_none=True)
    country = fields.String()
    postal_code = fields.String(allow_none=True)


# The mean of each sub-rating over the listing's visible reviews (null when none gave it), one field per SUB_RATINGS.
SubRatingAveragesSchema = Schema.from_dict({name: fields.Float(allow_none=True) for name in SUB_RATINGS},
                                           name="SubRatingAveragesSchema")


class SubRatingAverages(fields.Nested):
    """Dumps a listing's sub-rating averages (ratings.sub_rating_averages: one query), documented as an object."""

    def __init__(self, **kwargs):
        super().__init__(SubRatingAveragesSchema, dump_only=True, **kwargs)

    def serialize(self, attr, obj, accessor=None, **kwargs):
        return sub_rating_averages(obj.id)


class ListingRatingSchema(RatingSchema):
    average = fields.Float(attribute="rating_average", allow_none=True)
    count = fields.Integer(attribute="rating_count")
    sub_ratings = SubRatingAverages()


class AmenityCodeSchema(Schema):
    code = fields.String()


class ListingSchema(Schema):
    """The contract's Property: images, amenity codes, the host's public view and the rating."""

    id = fields.Integer()
    host_id = fields.Integer()
    status = fields.String()
    title = fields.String()
    description = fields.String()
    property_type = fields.String()
    address = Embedded(AddressViewSchema)
    latitude = fields.Float(allow_none=True)
    longitude = fields.Float(allow_none=True)
    timezone = fields.String()
    price_per_night = MoneyOf("price_per_night_amount")
    cleaning_fee = MoneyOf("cleaning_fee_amount")
    max_guests = fields.Integer()
    bedrooms = fields.Integer()
    beds = fields.Integer()
    bathrooms = fields.Integer()
    min_nights = fields.Integer()
    max_nights = fields.Integer()
    cancellation_policy = fields.String()
    instant_book = fields.Boolean()
    amenities = fields.Pluck(AmenityCodeSchema, "code", many=True)
    images = fields.List(fields.Nested(ImageSchema))
    host = fields.Nested(PublicUserSchema)
    rating = Embedded(ListingRatingSchema)
    created_at = Timestamp()
    updated_at = Timestamp()


class ListingPageSchema(PageSchema):
    items = fields.List(fields.Nested(ListingSchema))


def image_to_dict(image: ListingImage) -> dict:
    """The contract's image object."""
    return ImageSchema().dump(image)
