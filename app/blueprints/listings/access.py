"""Who may manage a listing (its host and admins) and the lock every writer of a listing takes first; the
listing, photo and calendar services all use both."""

from __future__ import annotations

from ...locking import locked
from ...models import Listing, User


def can_manage(user: User | None, listing: Listing) -> bool:
    """True for the listing's host and for admins."""
    return user is not None and (user.is_admin or user.id == listing.host_id)


def lock_listing(listing_id: int) -> Listing | None:
    """Take the listing row's write lock for the rest of the transaction and return the listing as last committed
    (app/locking.py: the locking read refreshes the loaded object; on SQLite the database's write lock).

    Every writer of a listing, its calendar or its bookings takes it first, so two of them never interleave;
    at READ COMMITTED (the app's isolation on MariaDB) what each reads after it is what the other committed.
    """
    return locked(Listing, listing_id)
