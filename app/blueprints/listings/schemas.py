"""Listing schemas: they document the API (OpenAPI) and serialise listings; services.py validates input."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from ...models import CANCELLATION_POLICIES, PROPERTY_TYPES, Property, PropertyImage
from ...money import money
from ...schemas import MoneySchema, PageSchema, isoformat
from ...storage import image_url
from ..auth.schemas import PublicUserSchema, public_user_to_dict


class AddressSchema(Schema):
    line1 = fields.String()
    city = fields.String(required=True)
    state = fields.String()
    country = fields.String(required=True, validate=validate.Length(equal=2))
    postal_code = fields.String()


class PropertyInputSchema(Schema):
    title = fields.String(required=True, validate=validate.Length(min=3, max=120))
    description = fields.String()
    property_type = fields.String(required=True, validate=validate.OneOf(PROPERTY_TYPES))
    address = fields.Nested(AddressSchema, required=True)
    latitude = fields.Float(allow_none=True)
    longitude = fields.Float(allow_none=True)
    price_per_night = fields.Nested(MoneySchema, required=True)
    cleaning_fee = fields.Nested(MoneySchema, allow_none=True)
    max_guests = fields.Integer(required=True, strict=True)
    bedrooms = fields.Integer(strict=True)
    beds = fields.Integer(strict=True)
    bathrooms = fields.Integer(strict=True)
    amenities = fields.List(fields.String())
    min_nights = fields.Integer(strict=True)
    max_nights = fields.Integer(strict=True)
    cancellation_policy = fields.String(validate=validate.OneOf(CANCELLATION_POLICIES))
    instant_book = fields.Boolean()
    timezone = fields.String()


class ImageSchema(Schema):
    id = fields.Integer()
    url = fields.String()
    thumbnail_url = fields.String()
    position = fields.Integer()


class ImageMoveSchema(Schema):
    position = fields.Integer(required=True, strict=True)


class RatingSchema(Schema):
    average = fields.Float(allow_none=True)
    count = fields.Integer()


class PropertySchema(PropertyInputSchema):
    id = fields.Integer()
    host_id = fields.Integer()
    status = fields.String()
    amenities = fields.List(fields.String())
    images = fields.List(fields.Nested(ImageSchema))
    host = fields.Nested(PublicUserSchema)
    rating = fields.Nested(RatingSchema)
    created_at = fields.String()
    updated_at = fields.String()


class PropertyPageSchema(PageSchema):
    items = fields.List(fields.Nested(PropertySchema))


def image_to_dict(image: PropertyImage) -> dict:
    """The contract's image object."""
    return {"id": image.id, "url": image_url(image.key), "thumbnail_url": image_url(image.thumbnail_key or image.key),
            "position": image.position}


def property_to_dict(listing: Property) -> dict:
    """The contract's Property object, with images, amenity codes, the host's public view and the rating."""
    return {
        "id": listing.id, "host_id": listing.host_id, "status": listing.status, "title": listing.title,
        "description": listing.description, "property_type": listing.property_type,
        "address": {"line1": listing.address_line1, "city": listing.city, "state": listing.state,
                    "country": listing.country, "postal_code": listing.postal_code},
        "latitude": listing.latitude, "longitude": listing.longitude, "timezone": listing.timezone,
        "price_per_night": money(listing.price_per_night_amount, listing.currency),
        "cleaning_fee": money(listing.cleaning_fee_amount, listing.currency),
        "max_guests": listing.max_guests, "bedrooms": listing.bedrooms, "beds": listing.beds,
        "bathrooms": listing.bathrooms, "min_nights": listing.min_nights, "max_nights": listing.max_nights,
        "cancellation_policy": listing.cancellation_policy, "instant_book": listing.instant_book,
        "amenities": [a.code for a in listing.amenities],
        "images": [image_to_dict(image) for image in listing.images],
        "host": public_user_to_dict(listing.host),
        "rating": {"average": listing.rating_average, "count": listing.rating_count},
        "created_at": isoformat(listing.created_at), "updated_at": isoformat(listing.updated_at),
    }
