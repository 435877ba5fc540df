"""Request and response schemas of the accounts API (validation in, serialisation out, OpenAPI)."""

from __future__ import annotations

from flask import current_app
from marshmallow import Schema, ValidationError, fields, validate

from ...models import User
from ...money import CURRENCIES
from ...schemas import ImageUrl, Text, Timestamp
from .services import BIO_MAX, EMAIL_MAX, NAME_MAX, PASSWORD_MAX, PHONE_MAX, PHONE_PATTERN

_EMAIL = fields.String(required=True, validate=validate.Length(min=3, max=EMAIL_MAX))


class RegisterSchema(Schema):
    email = _EMAIL
    password = fields.String(required=True, validate=validate.Length(max=PASSWORD_MAX))
    name = fields.String(required=True, validate=validate.Length(min=1, max=NAME_MAX))
    role = fields.String(load_default="guest", validate=validate.OneOf(["guest", "host"],
                                                                      error="Choose guest or host."))


class LoginSchema(Schema):
    email = fields.String(required=True, validate=validate.Length(max=EMAIL_MAX))
    password = fields.String(required=True, validate=validate.Length(max=PASSWORD_MAX))


def _app_language(code: str) -> None:
    """One of the app's LANGUAGES (a setting, so checked when loading)."""
    if code not in current_app.config["LANGUAGES"]:
        raise ValidationError("Choose a supported language.")


class ProfileUpdateSchema(Schema):
    """PATCH /profile and the profile page: any of these; a blank phone or bio clears it."""

    name = Text(validate=validate.Length(min=1, max=NAME_MAX, error=f"Enter a name of 1 to {NAME_MAX} characters."))
    phone = Text(allow_none=True, blank_as_none=True, validate=[
        validate.Length(max=PHONE_MAX),
        validate.Regexp(PHONE_PATTERN, error="Enter a phone number such as +44 20 7946 0958.")])
    bio = Text(allow_none=True, blank_as_none=True,
               validate=validate.Length(max=BIO_MAX, error=f"Keep the bio under {BIO_MAX} characters."))
    preferred_currency = fields.String(validate=validate.OneOf(sorted(CURRENCIES),
                                                               error="Choose a supported currency."))
    preferred_language = fields.String(validate=_app_language)


class UserSchema(Schema):
    """A user as they see themselves (and as admins see them): the contract's User."""

    id = fields.Integer()
    email = fields.String()
    name = fields.String()
    role = fields.String()
    phone = fields.String(allow_none=True)
    bio = fields.String(allow_none=True)
    avatar_url = ImageUrl(attribute="avatar_key", allow_none=True)
    preferred_currency = fields.String()
    preferred_language = fields.String()
    is_active = fields.Boolean()
    created_at = Timestamp()


class TokenPairSchema(Schema):
    access_token = fields.String()
    refresh_token = fields.String()


class AuthResponseSchema(TokenPairSchema):
    user = fields.Nested(UserSchema)


def dump_user(user: User) -> dict:
    """The contract's User object."""
    return UserSchema().dump(user)
