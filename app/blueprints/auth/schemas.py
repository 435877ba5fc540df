"""Request and response schemas of the accounts API (validation in, serialisation out, OpenAPI)."""

from __future__ import annotations

from collections.abc import Mapping

from flask import current_app
from marshmallow import Schema, ValidationError, fields, validate

from ...models import NOTIFICATION_TYPES, User
from ...money import CURRENCIES
from ...schemas import ImageUrl, Text, Timestamp
from .preferences import email_preferences
from .services import BIO_MAX, EMAIL_MAX, NAME_MAX, PASSWORD_MAX, PHONE_MAX, PHONE_PATTERN

OAUTH_TOKEN_MAX = 8192  # longer than any Google ID token or Facebook access token
_EMAIL = fields.String(required=True, validate=validate.Length(min=3, max=EMAIL_MAX), metadata={"format": "email"})


class RegisterSchema(Schema):
    email = _EMAIL
    password = fields.String(required=True, validate=validate.Length(max=PASSWORD_MAX))
    name = fields.String(required=True, validate=validate.Length(min=1, max=NAME_MAX))
    role = fields.String(load_default="guest", validate=validate.OneOf(["guest", "host"],
                                                                      error="Choose guest or host."))


class LoginSchema(Schema):
    email = fields.String(required=True, validate=validate.Length(max=EMAIL_MAX))
    password = fields.String(required=True, validate=validate.Length(max=PASSWORD_MAX))


class PasswordChangeSchema(Schema):
    current_password = fields.String(required=True, validate=validate.Length(max=PASSWORD_MAX))
    new_password = fields.String(required=True, validate=validate.Length(max=PASSWORD_MAX))


class PasswordForgotSchema(Schema):
    email = fields.String(required=True, validate=validate.Length(max=EMAIL_MAX))


class PasswordResetSchema(Schema):
    token = fields.String(required=True, validate=validate.Length(min=1, max=200))
    password = fields.String(required=True, validate=validate.Length(max=PASSWORD_MAX))


def _app_language(code: str) -> None:
    """One of the app's LANGUAGES (a setting, so checked when loading)."""
    if code not in current_app.config["LANGUAGES"]:
        raise ValidationError("Choose a supported language.")


class NotificationPreferencesField(fields.Field):
    """`{type: {"email": bool}}` in, `{type: email?}` loaded; `"in_app": true` may be sent, never false. A fault
    is named down to its key (`notification_preferences.booking_confirmed.email`)."""

    def _deserialize(self, value, attr, data, **kwargs) -> dict[str, bool]:
        if not isinstance(value, Mapping):
            raise ValidationError("Give an object of notification types.")
        errors: dict[str, object] = {}
        choices: dict[str, bool] = {}
        for type_, choice in value.items():
            if type_ not in NOTIFICATION_TYPES:
                errors[str(type_)] = ["Unknown notification type."]
            elif not isinstance(choice, Mapping):
                errors[type_] = ["Give an object such as {\"email\": false}."]
            elif faults := _choice_faults(choice):
                errors[type_] = faults
            elif "email" in choice:
                choices[type_] = choice["email"]
        if errors:
            raise ValidationError(errors)
        return choices

    def _serialize(self, value, attr, obj, **kwargs) -> dict:
        return {type_: {"email": wanted, "in_app": True} for type_, wanted in (value or {}).items()}


def _choice_faults(choice: Mapping) -> dict[str, list[str]]:
    faults: dict[str, list[str]] = {}
    for key, wanted in choice.items():
        if key not in ("email", "in_app"):
            faults[str(key)] = ["Unknown setting: only email can be chosen."]
        elif not isinstance(wanted, bool):
            faults[key] = ["Not a valid boolean."]
        elif key == "in_app" and not wanted:
            faults[key] = ["In-app notifications cannot be turned off."]
    return faults


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
    preferred_language = fields.String(validate=_app_language, metadata={"x-enum-setting": "LANGUAGES"})
    notification_emails = NotificationPreferencesField(data_key="notification_preferences", metadata={
        "description": '{type: {"email": bool}}: which notification types are also emailed (in-app always on)',
        "type": "object"})


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


class ProfileSchema(UserSchema):
    """The caller's own profile: the User plus `notification_preferences` {type: {"email", "in_app"}}."""

    notification_preferences = fields.Method("_preferences", metadata={"type": "object"})

    def _preferences(self, user: User) -> dict:
        return NotificationPreferencesField()._serialize(email_preferences(user), None, user)


class TokenPairSchema(Schema):
    access_token = fields.String()
    refresh_token = fields.String()


class AuthResponseSchema(TokenPairSchema):
    user = fields.Nested(UserSchema)


def dump_user(user: User) -> dict:
    """The contract's User object."""
    return UserSchema().dump(user)


def dump_profile(user: User) -> dict:
    """The caller's own User with their notification preferences."""
    return ProfileSchema().dump(user)


class GoogleSignInSchema(Schema):
    id_token = fields.String(required=True, validate=validate.Length(min=1, max=OAUTH_TOKEN_MAX),
                             metadata={"description": "the ID token from Google's mobile sign-in SDK"})


class FacebookSignInSchema(Schema):
    access_token = fields.String(required=True, validate=validate.Length(min=1, max=OAUTH_TOKEN_MAX),
                                 metadata={"description": "the user access token from Facebook Login"})


class IdentitySchema(Schema):
    """A provider account linked to the caller's: sign-in with it opens this account."""

    provider = fields.String(metadata={"enum": ["google", "facebook"]})
    email = fields.String(allow_none=True, metadata={"description": "the email the provider gave when it was linked"})
    linked_at = Timestamp(attribute="created_at")
