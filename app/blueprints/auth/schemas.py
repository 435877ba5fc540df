"""Request and response schemas of the accounts API (validation in, serialisation out, OpenAPI)."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from ...models import User
from ...schemas import isoformat
from ...storage import image_url
from .services import BIO_MAX, NAME_MAX, PASSWORD_MAX

_EMAIL = fields.String(required=True, validate=validate.Length(min=3, max=254))


class RegisterSchema(Schema):
    email = _EMAIL
    password = fields.String(required=True, validate=validate.Length(max=PASSWORD_MAX))
    name = fields.String(required=True, validate=validate.Length(min=1, max=NAME_MAX))
    role = fields.String(load_default="guest", validate=validate.OneOf(["guest", "host"],
                                                                      error="Choose guest or host."))


class LoginSchema(Schema):
    email = fields.String(required=True, validate=validate.Length(max=254))
    password = fields.String(required=True, validate=validate.Length(max=PASSWORD_MAX))


class ProfileUpdateSchema(Schema):
    name = fields.String(validate=validate.Length(min=1, max=NAME_MAX))
    phone = fields.String(allow_none=True, validate=validate.Length(max=32))
    bio = fields.String(allow_none=True, validate=validate.Length(max=BIO_MAX))
    preferred_currency = fields.String(validate=validate.Length(equal=3))
    preferred_language = fields.String(validate=validate.Length(min=2, max=10))


class UserSchema(Schema):
    """A user as they see themselves (and as admins see them)."""

    id = fields.Integer()
    email = fields.String()
    name = fields.String()
    role = fields.String()
    phone = fields.String(allow_none=True)
    bio = fields.String(allow_none=True)
    avatar_url = fields.String(allow_none=True)
    preferred_currency = fields.String()
    preferred_language = fields.String()
    is_active = fields.Boolean()
    created_at = fields.String()


class PublicUserSchema(Schema):
    """What anyone may see of another user."""

    id = fields.Integer()
    name = fields.String()
    avatar_url = fields.String(allow_none=True)
    created_at = fields.String()


class TokenPairSchema(Schema):
    access_token = fields.String()
    refresh_token = fields.String()


class AuthResponseSchema(TokenPairSchema):
    user = fields.Nested(UserSchema)


def user_to_dict(user: User) -> dict:
    """The contract's User object."""
    return {
        "id": user.id, "email": user.email, "name": user.name, "role": user.role, "phone": user.phone,
        "bio": user.bio, "avatar_url": image_url(user.avatar_key), "preferred_currency": user.preferred_currency,
        "preferred_language": user.preferred_language, "is_active": user.is_active,
        "created_at": isoformat(user.created_at),
    }


def public_user_to_dict(user: User) -> dict:
    """Another user's public view."""
    return {"id": user.id, "name": user.name, "avatar_url": image_url(user.avatar_key),
            "created_at": isoformat(user.created_at)}
