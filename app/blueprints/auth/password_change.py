"""Sessions a user ends: changing the password (which proves the current one) and "sign out everywhere"."""

from __future__ import annotations

import logging

from ...errors import Unauthorized, ValidationFailed
from ...extensions import db
from ...models import User
from . import tokens
from .services import check_password, end_sessions, set_password

logger = logging.getLogger(__name__)


def sign_out_everywhere(user: User) -> None:
    """End every session and token of `user`, this one's included."""
    end_sessions(user)
    db.session.commit()
    logger.info("user %s signed out everywhere", user.id)


NO_PASSWORD = ("This account has no password yet (you sign in with Google or Facebook): ask for a password reset "
               "email to set one.")


def change_password(user: User, *, current_password: str, new_password: str, address: str | None = None,
                    device: tuple[str, set[int]] | None = None) -> dict[str, str]:
    """Replace the password of `user`, who proves it with `current_password` (charged on the sign-in budgets like
    a login); every older token and session ends, and a fresh token pair is returned. Raises
    Unauthorized(invalid_credentials), ValidationFailed (a weak new password, or an account without a password:
    it sets one through a reset email), RateLimited."""
    if not user.password_hash:
        raise ValidationFailed({"current_password": [NO_PASSWORD]}, NO_PASSWORD)
    if not check_password(user, user.email, current_password, address=address, device=device):
        logger.warning("wrong current password for user %s", user.id)
        raise Unauthorized("The current password is incorrect.", code="invalid_credentials",
                           fields={"current_password": ["The current password is incorrect."]})
    set_password(user, new_password, field="new_password")
    pair = tokens.issue_tokens(user)
    db.session.commit()
    logger.info("user %s changed their password", user.id)
    return pair
