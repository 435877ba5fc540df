"""A listing's sub-rating averages (cleanliness, accuracy, ...), read from its visible reviews: the Listing JSON
and the listing page show them beside the overall rating, which the listing row itself carries."""

from __future__ import annotations

from sqlalchemy import func, select

from ...extensions import db
from ...models import Review
from ...models.review import SUB_RATINGS


def sub_rating_averages(listing_id: int) -> dict[str, float | None]:
    """{sub-rating: mean of the visible reviews that gave it, to two decimals, or None when none did}: one
    aggregate query over the listing's visible reviews (the (listing_id, hidden_at) index)."""
    columns = [func.avg(getattr(Review, name)) for name in SUB_RATINGS]
    row = db.session.execute(select(*columns).where(Review.listing_id == listing_id,
                                                    Review.hidden_at.is_(None))).one()
    return {name: None if value is None else round(float(value), 2)
            for name, value in zip(SUB_RATINGS, row, strict=True)}
