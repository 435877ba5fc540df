"""Who may manage a listing: its host and admins (the listing, photo and calendar services all ask this)."""

from __future__ import annotations

from ...models import Property, User


def can_manage(user: User | None, listing: Property) -> bool:
    """True for the listing's host and for admins."""
    return user is not None and (user.is_admin or user.id == listing.host_id)
