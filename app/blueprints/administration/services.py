"""Administration writes: each goes through the owning feature's service, which checks its rules and audits."""

from __future__ import annotations

import logging

from ...errors import NotFoundError
from ...extensions import db
from ...models import User
from ..auth import services as accounts

logger = logging.getLogger(__name__)


def set_user_active(user_id: int, active: bool, *, actor: User) -> User:
    """Suspend or reinstate user `user_id` as admin `actor` and return the user. Raises NotFoundError, and
    LastAdmin (409) from auth for suspending oneself or the last active admin."""
    user = db.session.get(User, user_id)
    if user is None:
        raise NotFoundError("User not found.")
    return accounts.set_active(user, active, actor=actor)
