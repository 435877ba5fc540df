"""JSON API for accounts: /api/v1/register, login, sign-in with Google and Facebook, token refresh, logout,
sign out everywhere, profile, password change and reset."""

from __future__ import annotations

from collections.abc import Callable

from flask import request
from flask_jwt_extended import get_current_user

from ...authz import login_required, roles_required, token_payload
from ...errors import Unauthorized
from ...openapi import api_doc
from ...rate_limits import write_limit
from ...validation import load_json
from . import (
    api_bp,
    login_limits,
    oauth_accounts,
    oauth_providers,
    password_change,
    password_reset,
    profiles,
    schemas,
    services,
)
from .throttle import auth_rate_limit, client_address, known_device, remember_device


@api_bp.post("/register")
@auth_rate_limit
@api_doc(summary="Create a guest or host account", body=schemas.RegisterSchema,
         response=schemas.AuthResponseSchema, status=201, errors=(409, 429))
def register():
    """Register and sign in at once; answers the user and a token pair."""
    data = load_json(schemas.RegisterSchema())
    user = services.register_user(**data)
    return {"user": schemas.dump_user(user), **services.start_session(user)}, 201


@api_bp.post("/login")
@api_doc(summary="Sign in with email and password", body=schemas.LoginSchema,
         response=schemas.AuthResponseSchema, errors=(401, 403, 429))
def login():
    """Exchange credentials for a new token pair. Failures are counted per email and per client address together
    with the log-in page's (429 with Retry-After once a budget is spent); a client that signed in to the account
    before (the `abode_device` cookie set here) is not held back by other clients' failures."""
    data = load_json(schemas.LoginSchema())
    user = services.authenticate(email=data["email"], password=data["password"], address=client_address(),
                                 device=known_device())
    remember_device(user)
    return {"user": schemas.dump_user(user), **services.start_session(user)}


@api_bp.post("/profile/password")
@login_required
@api_doc(summary="Change the caller's password", body=schemas.PasswordChangeSchema,
         response=schemas.TokenPairSchema, errors=(401, 403, 422, 429))
def change_password():
    """Every token and browser session issued before is refused afterwards; the answer is a fresh pair. 401
    `invalid_credentials` for a wrong current password (counted like a failed login), 422 for a weak new one or an
    account without a password (it sets one through `POST /password/forgot`)."""
    data = load_json(schemas.PasswordChangeSchema())
    return password_change.change_password(get_current_user(), **data, address=client_address(), device=known_device())


@api_bp.post("/logout-all")
@login_required
@api_doc(summary="Sign out everywhere: end every token and browser session of the caller", status=204,
         errors=(403,))
def logout_all():
    """Every access and refresh token and browser session of the account, this token's included, is refused."""
    password_change.sign_out_everywhere(get_current_user())
    return "", 204


@api_bp.post("/password/forgot")
@auth_rate_limit
@api_doc(summary="Email a password reset link", body=schemas.PasswordForgotSchema, status=202, errors=(429,))
def forgot_password():
    """202 whatever the email: a link is emailed when an active account has it. Limited per email and per
    client address (429)."""
    data = load_json(schemas.PasswordForgotSchema())
    password_reset.request_password_reset(data["email"], address=client_address())
    return "", 202


@api_bp.post("/password/reset")
@auth_rate_limit
@api_doc(summary="Set a new password with the token of a reset link", body=schemas.PasswordResetSchema,
         status=204, errors=(422, 429))
def reset_password():
    """The token works once and for an hour (422 otherwise, as for a weak password); every older access and
    refresh token and browser session of the account is refused afterwards."""
    data = load_json(schemas.PasswordResetSchema())
    password_reset.reset_password(data["token"], data["password"])
    return "", 204


Identity = oauth_providers.ProviderIdentity


def _verified(verify: Callable[[str], Identity], token: str) -> Identity:
    """verify(token), charged to the client address's budget of failed sign-ins (login_limits): a refused token
    (401) keeps its charge, anything else gives it back. Raises RateLimited once the budget is spent."""
    charge = login_limits.charge_token_check(address=client_address())
    try:
        identity = verify(token)
    except Unauthorized:
        raise
    except Exception:
        charge.refund()
        raise
    charge.refund()
    return identity


def _provider_session(identity: oauth_providers.ProviderIdentity) -> tuple[dict, int]:
    user, created = oauth_accounts.sign_in_with_identity(identity)
    return {"user": schemas.dump_user(user), **services.start_session(user)}, 201 if created else 200


@api_bp.post("/auth/oauth/google")
@auth_rate_limit
@api_doc(summary="Sign in with a Google ID token from the mobile SDK", body=schemas.GoogleSignInSchema,
         response=schemas.AuthResponseSchema, errors=(401, 403, 404, 409, 422, 429, 503))
def sign_in_with_google():
    """The token's signature, issuer, audience, expiry and issue time are checked; 201 when the account is new."""
    oauth_providers.ensure_configured("google")
    data = load_json(schemas.GoogleSignInSchema())
    return _provider_session(_verified(oauth_providers.verify_google_id_token, data["id_token"]))


@api_bp.post("/auth/oauth/facebook")
@auth_rate_limit
@api_doc(summary="Sign in with a Facebook user access token", body=schemas.FacebookSignInSchema,
         response=schemas.AuthResponseSchema, errors=(401, 403, 404, 409, 422, 429, 503))
def sign_in_with_facebook():
    """The token must be a valid user token of this app (Graph API token debugging); 201 when the account is new."""
    oauth_providers.ensure_configured("facebook")
    data = load_json(schemas.FacebookSignInSchema())
    return _provider_session(_verified(oauth_providers.verify_facebook_token, data["access_token"]))


def _linked(identity: oauth_providers.ProviderIdentity) -> tuple[dict, int]:
    row, created = oauth_accounts.link_identity(get_current_user(), identity)
    return schemas.IdentitySchema().dump(row), 201 if created else 200


@api_bp.get("/profile/identities")
@login_required
@api_doc(summary="The provider accounts linked to the caller's", response=schemas.IdentitySchema(many=True),
         errors=(403,))
def list_identities():
    """Google and Facebook accounts that sign in to this account, oldest link first."""
    return schemas.IdentitySchema(many=True).dump(oauth_accounts.identities_of(get_current_user()))


@api_bp.post("/profile/identities/google")
@login_required
@auth_rate_limit
@api_doc(summary="Link a Google account (an ID token from the mobile SDK) to the caller's",
         body=schemas.GoogleSignInSchema, response=schemas.IdentitySchema, status=201,
         errors=(401, 403, 404, 409, 422, 429, 503))
def link_google():
    """The token is checked as for sign-in; its email need not be the account's. 200 when it was linked already;
    409 `identity_taken` when it opens another Abode account, or another Google account is linked here."""
    oauth_providers.ensure_configured("google")
    data = load_json(schemas.GoogleSignInSchema())
    return _linked(_verified(oauth_providers.verify_google_id_token, data["id_token"]))


@api_bp.post("/profile/identities/facebook")
@login_required
@auth_rate_limit
@api_doc(summary="Link a Facebook account (a user access token) to the caller's", body=schemas.FacebookSignInSchema,
         response=schemas.IdentitySchema, status=201, errors=(401, 403, 404, 409, 422, 429, 503))
def link_facebook():
    """As for Google: 200 when linked already, 409 `identity_taken` when it belongs elsewhere."""
    oauth_providers.ensure_configured("facebook")
    data = load_json(schemas.FacebookSignInSchema())
    return _linked(_verified(oauth_providers.verify_facebook_token, data["access_token"]))


@api_bp.delete("/profile/identities/<provider>")
@login_required
@api_doc(summary="Unlink a provider account", status=204, errors=(403, 404, 409))
def unlink_identity(provider: str):
    """409 `last_sign_in_method` when it is the account's only way to sign in (no password, no other provider)."""
    oauth_accounts.unlink_identity(get_current_user(), provider)
    return "", 204


@api_bp.post("/token/refresh")
@auth_rate_limit
@roles_required(refresh=True)
@api_doc(summary="Rotate the refresh token (send it as Bearer)", response=schemas.TokenPairSchema, errors=(403, 429))
def refresh_token():
    """The old refresh token stops working; reusing it revokes its whole family."""
    return services.refresh_session(user=get_current_user(), payload=token_payload())


@api_bp.post("/logout")
@login_required
@api_doc(summary="Revoke the access token and its refresh token", status=204)
def logout():
    """After this the access token and every refresh token of its family are refused."""
    services.logout(token_payload())
    return "", 204


@api_bp.get("/profile")
@login_required
@api_doc(summary="The caller's profile", response=schemas.ProfileSchema, errors=(403,))
def get_profile():
    """The signed-in user's own profile, with `notification_preferences`."""
    return schemas.dump_profile(get_current_user())


@api_bp.patch("/profile")
@login_required
@api_doc(summary="Update name, phone, bio, preferences and email notifications", body=schemas.ProfileUpdateSchema,
         response=schemas.ProfileSchema, errors=(403,))
def update_profile():
    """Email, role and password are not changed here. `notification_preferences` {type: {"email": bool}} turns
    a type's email on or off, in the same transaction as the rest."""
    data = load_json(schemas.ProfileUpdateSchema(), partial=True)
    return schemas.dump_profile(profiles.update_profile(get_current_user(), **data))


@api_bp.post("/profile/photo")
@login_required
@write_limit("upload")
@api_doc(summary="Upload a profile photo (JPEG, PNG or WebP, at most 5 MiB)", response=schemas.UserSchema,
         multipart={"photo": "the image file"}, errors=(403, 413, 415, 422))
def upload_profile_photo():
    """The image is checked, re-encoded without EXIF and stored; avatar_url points at it."""
    photo = request.files.get("photo")
    return schemas.dump_user(profiles.set_avatar(get_current_user(), photo.stream if photo is not None else None))


@api_bp.post("/profile/become-host")
@login_required
@api_doc(summary="Become a host (hosts can still book)", response=schemas.UserSchema, errors=(403,))
def become_host():
    """Guests become hosts; hosts and admins are unchanged."""
    return schemas.dump_user(profiles.become_host(get_current_user()))
