"""Review schemas: they load what clients send (types; the bounds are services.review_problems'), dump reviews
and document both (OpenAPI)."""

from __future__ import annotations

from marshmallow import Schema, ValidationError, fields, post_load, pre_dump, validate, validates_schema

from ...models import Review
from ...models.review import COMMENT_MAX_LENGTH, RESPONSE_MAX_LENGTH, SUB_RATINGS
from ...schemas import PageSchema, PublicUserSchema, Text, Timestamp
from .services import RATING_MAX, RATING_MIN, review_problems

_SCALE = f"must be a whole number from {RATING_MIN} to {RATING_MAX}"


class Rating(fields.Integer):
    """A JSON whole number only: 4.5, "5" and true are refused (marshmallow's strict Integer takes booleans)."""

    default_error_messages = {"invalid": _SCALE, "null": _SCALE, "required": _SCALE}

    def __init__(self, **kwargs):
        super().__init__(strict=True, metadata={"minimum": RATING_MIN, "maximum": RATING_MAX}, **kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, bool):
            raise self.make_error("invalid")
        return super()._deserialize(value, attr, data, **kwargs)


class ReviewInputSchema(Schema):
    """The body of POST /reviews, loaded as services.create_review's keyword arguments (sub-ratings gathered
    under `sub_ratings`)."""

    booking_id = fields.Integer(required=True, strict=True, validate=validate.Range(1, 2**31 - 1,
                                                                                    error="no such booking"),
                                error_messages={"required": "required", "null": "required",
                                                "invalid": "must be a booking id"})
    rating = Rating(required=True)
    comment = Text(none_as_blank=True, load_default="",
                   metadata={"description": f"plain text, at most {COMMENT_MAX_LENGTH} characters"})
    cleanliness = Rating(allow_none=True, load_default=None)
    accuracy = Rating(allow_none=True, load_default=None)
    communication = Rating(allow_none=True, load_default=None)
    location = Rating(allow_none=True, load_default=None)
    check_in = Rating(allow_none=True, load_default=None)
    value = Rating(allow_none=True, load_default=None)

    @validates_schema
    def _bounds(self, data: dict, **_kw) -> None:
        if problems := review_problems(data["rating"], {name: data.get(name) for name in SUB_RATINGS},
                                       data.get("comment", "")):
            raise ValidationError(problems)

    @post_load
    def _arguments(self, data: dict, **_kw) -> dict:
        return {"booking_id": data["booking_id"], "rating": data["rating"], "comment": data["comment"],
                "sub_ratings": {name: data[name] for name in SUB_RATINGS}}


class ResponseInputSchema(Schema):
    """The body of POST /reviews/{id}/response."""

    body = Text(required=True, validate=validate.Length(1, RESPONSE_MAX_LENGTH,
                                                        error=f"write 1 to {RESPONSE_MAX_LENGTH} characters"),
                error_messages={"required": "required", "null": "required", "invalid": "must be text"})


class ResponseSchema(Schema):
    body = fields.String()
    created_at = Timestamp()


# Each sub-rating the guest gave (1-5), or null: one field per SUB_RATINGS name, so a new one is added in one place.
SubRatingsSchema = Schema.from_dict({name: fields.Integer(allow_none=True) for name in SUB_RATINGS},
                                    name="SubRatingsSchema")


class ReviewSchema(Schema):
    """The contract's Review object, with `sub_ratings`."""

    id = fields.Integer()
    booking_id = fields.Integer()
    property_id = fields.Integer()
    author = fields.Nested(PublicUserSchema)
    rating = fields.Integer()
    sub_ratings = fields.Nested(SubRatingsSchema)
    comment = fields.String()
    response = fields.Nested(ResponseSchema, allow_none=True)
    created_at = Timestamp()

    @pre_dump
    def _from_review(self, review: Review, **_kw) -> dict:
        response = (None if review.response_body is None
                    else {"body": review.response_body, "created_at": review.response_at})
        return {"id": review.id, "booking_id": review.booking_id, "property_id": review.listing_id,
                "author": review.author, "rating": review.rating, "sub_ratings": review.sub_ratings,
                "comment": review.comment, "response": response, "created_at": review.created_at}


class ReviewPageSchema(PageSchema):
    items = fields.List(fields.Nested(ReviewSchema))


_REVIEW = ReviewSchema()


def review_to_dict(review: Review) -> dict:
    """The contract's Review object (ReviewSchema)."""
    return _REVIEW.dump(review)
