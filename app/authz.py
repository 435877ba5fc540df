"""One decorator family for sign-in and roles: JSON 401/403 on /api/, login redirect or 403 page in the browser."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from flask import current_app
from flask_jwt_extended import get_current_user, get_jwt, verify_jwt_in_request
from flask_login import current_user

from .errors import PermissionDenied, is_api_request
from .models import User


def current_account() -> User | None:
    """The signed-in user of this request: the JWT's user on /api/, the session's user in the browser."""
    if is_api_request():
        verify_jwt_in_request(optional=True)
        return get_current_user()
    return current_user if current_user.is_authenticated else None


def viewer_locale() -> str:
    """The signed-in viewer's preferred language (for money and dates on pages), else English."""
    return getattr(current_account(), "preferred_language", None) or "en"


def roles_required(*roles: str, refresh: bool = False) -> Callable:
    """Require a signed-in user (any role when `roles` is empty); API: Bearer token, browser: session."""

    def decorator(view: Callable) -> Callable:
        @wraps(view)
        def wrapped(*args, **kwargs):
            if is_api_request():
                verify_jwt_in_request(refresh=refresh)
                user = get_current_user()
            else:
                if not current_user.is_authenticated:
                    return current_app.login_manager.unauthorized()
                user = current_user
            if roles and not user.has_role(*roles):
                raise PermissionDenied("Your account is not allowed to do this.")
            return view(*args, **kwargs)

        wrapped.required_roles = roles  # read by the OpenAPI generator
        wrapped.requires_auth = True
        return wrapped

    return decorator


login_required = roles_required()
host_required = roles_required("host", "admin")
admin_required = roles_required("admin")


def token_payload() -> dict:
    """The verified JWT's claims of this API request."""
    return get_jwt()
