"""A listing's place rows (ListingPlace): how location search finds it, with copies of what search filters on.

The rows are written by primary key only (exact deletes, updates and inserts), so keeping them current never
takes a range lock that two writers could deadlock on. Callers hold the listing's row lock (services.lock_listing)
and pass the place keys the listing had before they changed it.
"""

from __future__ import annotations

from sqlalchemy import and_, delete, insert, update

from ... import geo
from ...extensions import db
from ...models import Listing, ListingPlace

HELD_COLUMNS = ("held_from", "held_nights")


def place_keys(listing: Listing) -> set[tuple[str, str]]:
    """The (kind, place) keys of the rows an active listing has (none for a deleted one)."""
    return geo.search_places(listing.city, listing.state, listing.country) if listing.is_active else set()


def _row(kind: str, place: str, listing_id: int):
    table = ListingPlace.__table__.c
    return and_(table.kind == kind, table.place == place, table.listing_id == listing_id)


def write_places(listing: Listing, before: set[tuple[str, str]]) -> None:
    """Make the listing's place rows match it, given the keys it had before this change (empty when new)."""
    db.session.flush()
    after = place_keys(listing)
    values = {name: getattr(listing, name) for name in (*ListingPlace.COPIED, *HELD_COLUMNS)}
    for kind, place in sorted(before - after):
        db.session.execute(delete(ListingPlace.__table__).where(_row(kind, place, listing.id)))
    for kind, place in sorted(before & after):
        db.session.execute(update(ListingPlace.__table__).where(_row(kind, place, listing.id)).values(**values))
    new = [{"kind": kind, "place": place, "listing_id": listing.id, **values}
           for kind, place in sorted(after - before)]
    if new:
        db.session.execute(insert(ListingPlace.__table__), new)


def copy_held_nights(listing: Listing) -> None:
    """Copy the listing's held-nights string to its place rows."""
    values = {name: getattr(listing, name) for name in HELD_COLUMNS}
    for kind, place in sorted(place_keys(listing)):
        db.session.execute(update(ListingPlace.__table__).where(_row(kind, place, listing.id)).values(**values))
