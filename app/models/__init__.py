"""Every model, re-exported so Alembic and the app see the whole schema."""

from .base import TimestampMixin, utcnow
from .listing import Amenity
from .user import ROLES, RefreshToken, RevokedToken, User

__all__ = ["ROLES", "Amenity", "RefreshToken", "RevokedToken", "TimestampMixin", "User", "utcnow"]
