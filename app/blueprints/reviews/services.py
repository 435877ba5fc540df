"""Review rules: who may review a stay and until when, the host's one reply, an admin hiding a review; and the
listing's rating (rating_sum, rating_count, rating_score and its place rows' copies), kept current in the same
transaction as every change to a visible review. The reads are in queries.py, re-exported here.

Every writer takes the listing's row lock first (listings.access.lock_listing), so two writers of one listing's
rating queue and each adds to what the other committed; the reviews' unique booking key refuses a second review
of a stay whatever happens before it.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from ... import audit, search_cache, transactions
from ...errors import Conflict, NotFoundError, PermissionDenied, ValidationFailed
from ...extensions import db
from ...locking import locked
from ...models import Booking, Listing, Review, User, utcnow
from ...models.review import COMMENT_MAX_LENGTH, RESPONSE_MAX_LENGTH, SUB_RATINGS
from ..listings import places
from ..listings.access import lock_listing
from . import signals
from .queries import (  # noqa: F401 (the reviews API: callers import every reviews service from here)
    REVIEW_WINDOW,
    get_review,
    list_host_reviews,
    list_listing_reviews,
    recent_reviews,
    review_states,
    sub_rating_averages,
    window_closes_at,
)

logger = logging.getLogger(__name__)

RATING_MIN, RATING_MAX = 1, 5
HIDE_REASON_MAX_LENGTH = 500


class AlreadyReviewed(Conflict):
    code = "already_reviewed"


class AlreadyResponded(Conflict):
    code = "already_responded"


def review_problems(rating: object, sub_ratings: Mapping[str, object], comment: str) -> dict[str, list[str]]:
    """The rules a review's values obey, by field: rating a whole number 1-5, each sub-rating 1-5 or None, the
    comment at most COMMENT_MAX_LENGTH characters. Empty when the values are fine."""
    problems: dict[str, list[str]] = {}
    scale = f"must be a whole number from {RATING_MIN} to {RATING_MAX}"
    for name, value in {"rating": rating, **sub_ratings}.items():
        if value is None and name != "rating":
            continue
        if isinstance(value, bool) or not isinstance(value, int) or not RATING_MIN <= value <= RATING_MAX:
            problems[name] = [scale]
    if len(comment) > COMMENT_MAX_LENGTH:
        problems["comment"] = [f"use at most {COMMENT_MAX_LENGTH} characters"]
    return problems


def review_refusal(booking: Booking, user: User, now: datetime) -> Exception | None:
    """Why `user` may not review `booking` at `now` (the error to raise), or None when they may.

    PermissionDenied for anyone but its guest; ValidationFailed for a booking that is not completed or whose
    window has closed; AlreadyReviewed once it has a review."""
    if booking.guest_id != user.id:
        return PermissionDenied("Only the guest of this stay can review it.")
    if booking.status != "completed":
        return ValidationFailed({"booking_id": ["only a completed stay can be reviewed"]})
    if now > window_closes_at(booking):
        return ValidationFailed({"booking_id": [f"reviews close {REVIEW_WINDOW.days} days after check-out"]})
    if db.session.scalar(select(Review.id).where(Review.booking_id == booking.id)) is not None:
        return AlreadyReviewed("This stay has already been reviewed.")
    return None


def reviewable_booking(booking_id: int, user: User, now: datetime | None = None) -> Booking:
    """The booking `user` may review now (the review form's page). Raises NotFoundError and review_refusal's."""
    booking = db.session.get(Booking, booking_id)
    if booking is None:
        raise NotFoundError("Booking not found.")
    if (refusal := review_refusal(booking, user, now or utcnow())) is not None:
        raise refusal
    return booking


def _set_rating(listing: Listing, rating: int, sign: int) -> None:
    """Add (sign 1) or take away (sign -1) one visible review's rating, with the search keys and place rows."""
    before = places.place_keys(listing)
    listing.rating_sum += sign * rating
    listing.rating_count += sign
    count = listing.rating_count
    listing.rating_score = (listing.rating_sum * 100 + count // 2) // count if count else 0
    places.write_places(listing, before)


def _commit(what: str, review_id: int | None = None) -> None:
    """Commit (what receivers deferred runs after), then make every cached search see the new rating."""
    transactions.commit()
    search_cache.bump()
    logger.info("review %s %s", review_id, what)


def create_review(*, author: User, booking_id: int, rating: int, comment: str = "",
                  sub_ratings: Mapping[str, int | None] | None = None, now: datetime | None = None) -> Review:
    """The guest reviews a completed stay: the review, the listing's rating and the host's notification
    (signals.review_created), in one transaction. Raises ValidationFailed (values; a booking not completed, or
    its window closed), NotFoundError (no such booking), PermissionDenied (not its guest), AlreadyReviewed."""
    subs = {name: (sub_ratings or {}).get(name) for name in SUB_RATINGS}
    comment = (comment or "").strip()
    if problems := review_problems(rating, subs, comment):
        raise ValidationFailed(problems)
    now = now or utcnow()
    booking = db.session.get(Booking, booking_id)
    if booking is None:
        raise NotFoundError("Booking not found.")
    try:
        listing = lock_listing(booking.listing_id)  # writers of the rating queue; what follows reads the latest
        if (refusal := review_refusal(booking, author, now)) is not None:
            raise refusal
        review = Review(booking_id=booking.id, listing_id=listing.id, author_id=author.id, rating=rating,
                        comment=comment, created_at=now, updated_at=now, **subs)
        db.session.add(review)
        db.session.flush()  # the unique booking key refuses a second review here
        _set_rating(listing, rating, 1)
        signals.review_created.send(review)
        _commit(f"created for booking {booking.id} by user {author.id}", review.id)
    except IntegrityError:
        db.session.rollback()
        if db.session.scalar(select(Review.id).where(Review.booking_id == booking_id)) is None:
            raise  # not the unique booking key: a bug to see, not a 409
        raise AlreadyReviewed("This stay has already been reviewed.") from None
    except Exception:
        db.session.rollback()
        raise
    return review


def respond_to_review(review_id: int, host: User, body: str, now: datetime | None = None) -> Review:
    """The listing's host replies, once: the reply and the guest's notification (signals.review_responded) in
    one transaction; the review's row lock makes a second, simultaneous reply wait and then see the first.
    Raises NotFoundError (no such or a hidden review, or its listing deleted), PermissionDenied, ValidationFailed,
    AlreadyResponded."""
    review = get_review(review_id, host)
    if review.listing.host_id != host.id:
        raise PermissionDenied("Only the listing's host can reply to its reviews.")
    body = (body or "").strip()
    if not body or len(body) > RESPONSE_MAX_LENGTH:
        raise ValidationFailed({"body": [f"write 1 to {RESPONSE_MAX_LENGTH} characters"]},
                               f"Write your reply: 1 to {RESPONSE_MAX_LENGTH} characters.")
    try:
        review = locked(Review, review_id)
        if review.response_body is not None:
            raise AlreadyResponded("This review already has a reply.")
        review.response_body, review.response_at = body, now or utcnow()
        signals.review_responded.send(review)
        _commit(f"answered by user {host.id}", review.id)
    except Exception:
        db.session.rollback()
        raise
    return review


def _set_hidden(review_id: int, admin: User, hide: bool, reason: str | None, now: datetime | None) -> Review:
    if not (admin is not None and admin.is_admin):
        raise PermissionDenied("Only an admin can hide or show reviews.")
    listing_id = db.session.scalar(select(Review.listing_id).where(Review.id == review_id))
    if listing_id is None:
        raise NotFoundError("Review not found.")
    try:
        listing = lock_listing(listing_id)
        review = locked(Review, review_id)
        if review.is_hidden != hide:
            before = (review.hidden_at, review.hidden_reason)
            review.hidden_at, review.hidden_by_id = (now or utcnow(), admin.id) if hide else (None, None)
            review.hidden_reason = reason if hide else None
            _set_rating(listing, review.rating, -1 if hide else 1)
            audit.record(admin, "review.hide" if hide else "review.unhide", "review", review.id,
                         {"hidden_at": (before[0], review.hidden_at), "reason": (before[1], review.hidden_reason)})
            _commit(f"{'hidden' if hide else 'shown again'} by admin {admin.id}", review.id)
        else:
            db.session.rollback()
    except Exception:
        db.session.rollback()
        raise
    return review


def hide_review(review_id: int, *, admin: User, reason: str | None = None, now: datetime | None = None) -> Review:
    """An admin hides a review: it leaves every list and the listing's rating (and search's keys) in the same
    transaction, with its audit row (review.hide). Hiding a hidden review changes nothing. Raises
    PermissionDenied, NotFoundError, ValidationFailed (a reason over HIDE_REASON_MAX_LENGTH characters)."""
    reason = (reason or "").strip() or None
    if reason is not None and len(reason) > HIDE_REASON_MAX_LENGTH:
        raise ValidationFailed({"reason": [f"use at most {HIDE_REASON_MAX_LENGTH} characters"]})
    return _set_hidden(review_id, admin, True, reason, now)


def unhide_review(review_id: int, *, admin: User) -> Review:
    """An admin shows a hidden review again, with its rating counted again and its audit row (review.unhide).
    Raises PermissionDenied, NotFoundError."""
    return _set_hidden(review_id, admin, False, None, None)
