"""The reviews aggregate: a guest's rating of a completed stay, with the host's one reply."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, SmallInteger, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .base import TimestampMixin

# The optional sub-ratings a guest may give beside the overall rating, each 1-5, in the order pages show them.
SUB_RATINGS = ("cleanliness", "accuracy", "communication", "location", "check_in", "value")
COMMENT_MAX_LENGTH = 2000
RESPONSE_MAX_LENGTH = 2000


class Review(TimestampMixin, db.Model):
    """One per booking (the unique key refuses a second); hidden_at set by an admin takes it out of every list and
    of the listing's rating (listings.rating_sum / rating_count count the visible reviews only)."""

    __tablename__ = "reviews"
    __table_args__ = (
        CheckConstraint("rating BETWEEN 1 AND 5", name="rating_range"),
        *(CheckConstraint(f"{name} IS NULL OR {name} BETWEEN 1 AND 5", name=f"{name}_range") for name in SUB_RATINGS),
        Index("ix_reviews_listing_created", "listing_id", "hidden_at", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    booking_id: Mapped[int] = mapped_column(ForeignKey("bookings.id"), nullable=False, unique=True)
    listing_id: Mapped[int] = mapped_column(ForeignKey("listings.id"), nullable=False)
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id"), nullable=False, index=True)
    rating: Mapped[int] = mapped_column(SmallInteger, nullable=False)
    cleanliness: Mapped[int | None] = mapped_column(SmallInteger)
    accuracy: Mapped[int | None] = mapped_column(SmallInteger)
    communication: Mapped[int | None] = mapped_column(SmallInteger)
    location: Mapped[int | None] = mapped_column(SmallInteger)
    check_in: Mapped[int | None] = mapped_column(SmallInteger)
    value: Mapped[int | None] = mapped_column(SmallInteger)
    comment: Mapped[str] = mapped_column(Text, nullable=False, default="")
    response_body: Mapped[str | None] = mapped_column(Text)
    response_at: Mapped[datetime | None] = mapped_column()
    hidden_at: Mapped[datetime | None] = mapped_column()
    hidden_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    hidden_reason: Mapped[str | None] = mapped_column(Text)

    author = relationship("User", foreign_keys=[author_id], lazy="joined")
    listing = relationship("Listing")
    booking = relationship("Booking")

    @property
    def is_hidden(self) -> bool:
        return self.hidden_at is not None

    @property
    def sub_ratings(self) -> dict[str, int | None]:
        return {name: getattr(self, name) for name in SUB_RATINGS}
