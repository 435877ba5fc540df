"""Review reads: one visible review, a listing's and a host's reviews (newest first, hidden ones left out), and
which of a guest's trips can still be reviewed (the Trips page's buttons)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from ...errors import NotFoundError
from ...extensions import db
from ...models import Booking, Listing, Review, User, utcnow
from ...pagination import Page, paginate
from ..bookings.state import check_out_at
from ..listings import services as listings
from ..listings.ratings import sub_rating_averages  # noqa: F401 (re-exported: the reviews API)

REVIEW_WINDOW = timedelta(days=14)  # a guest may review until 14 days after check-out (11:00 listing-local)


def window_closes_at(booking: Booking) -> datetime:
    """The instant (naive UTC) after which the stay can no longer be reviewed: 14 days after check-out."""
    return check_out_at(booking) + REVIEW_WINDOW


def get_review(review_id: int, viewer: User | None = None) -> Review:
    """A visible review of a listing `viewer` may see (listings.get_listing: an active one, or an unpublished one
    to its host and admins); raises NotFoundError for a missing or hidden one, or one of a listing that is deleted
    or, to anyone else, unpublished."""
    review = db.session.get(Review, review_id)
    if review is None or review.is_hidden:
        raise NotFoundError("Review not found.")
    try:
        listings.get_listing(review.listing_id, viewer)
    except NotFoundError:
        raise NotFoundError("Review not found.") from None
    return review


def _newest_first(query):
    return query.order_by(Review.created_at.desc(), Review.id.desc())


def list_listing_reviews(listing_id: int, page: int = 1, per_page: int = 20, viewer: User | None = None) -> Page:
    """The visible reviews of an active listing (or of an unpublished one its host or an admin `viewer` sees),
    newest first. Raises NotFoundError (missing or deleted listing, unpublished to anyone else)."""
    listing = listings.get_listing(listing_id, viewer)
    query = select(Review).where(Review.listing_id == listing.id, Review.hidden_at.is_(None))
    return paginate(_newest_first(query), page, per_page)


def recent_reviews(limit: int = 3) -> list[Review]:
    """The newest visible reviews of active listings, with something to read (a comment), for the home page."""
    query = (select(Review).join(Listing, Listing.id == Review.listing_id)
             .where(Listing.status == "active", Review.hidden_at.is_(None), Review.comment != "")
             .options(selectinload(Review.listing)))
    return list(db.session.scalars(_newest_first(query).limit(limit)))


def list_host_reviews(host: User, page: int = 1, per_page: int = 20) -> Page:
    """The visible reviews of every listing `host` has (deleted ones too: their reviews stay), newest first."""
    query = (select(Review).join(Listing, Listing.id == Review.listing_id)
             .where(Listing.host_id == host.id, Review.hidden_at.is_(None)))
    return paginate(_newest_first(query), page, per_page)


def review_states(bookings: Iterable[Booking], now: datetime | None = None) -> dict[int, str]:
    """{booking id: "open" (its guest may review it now) or "reviewed"} for the completed ones among `bookings`
    (one query); others are left out: a stay whose window closed unreviewed, and every stay not completed."""
    completed = [booking for booking in bookings if booking.status == "completed"]
    if not completed:
        return {}
    reviewed = set(db.session.scalars(select(Review.booking_id).where(
        Review.booking_id.in_([booking.id for booking in completed]))))
    now = now or utcnow()
    states = {}
    for booking in completed:
        if booking.id in reviewed:
            states[booking.id] = "reviewed"
        elif now <= window_closes_at(booking):
            states[booking.id] = "open"
    return states

