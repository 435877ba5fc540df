"""The listings aggregate: listings, their photos and amenities, and the nightly calendar."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    Date,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Table,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..cancellation import CANCELLATION_POLICIES  # noqa: F401 (re-exported: the column's values)
from ..extensions import db
from .base import TimestampMixin, utcnow

PROPERTY_TYPES = ("apartment", "house", "room", "cabin", "villa", "other")
# active: in search and bookable; unpublished: taken down by an admin (moderation), seen only by its host and admins,
# bookings already made stand; deleted: soft-deleted by its host or an admin. Only an admin's restore makes an
# unpublished or deleted listing active again.
LISTING_STATUSES = ("active", "unpublished", "deleted")
COUNTED_STATUSES = ("active", "deleted")  # the contract's /admin/stats "properties" keys: unpublished is in neither
HELD_NIGHTS_LENGTH = 1200  # calendars reach three years (1,098 nights) ahead of the day the string is rebuilt
MASKED_AMENITY_IDS = range(1, 63)  # amenities with these ids are also bits of listings.amenity_mask


def amenity_mask(amenity_ids) -> int:
    """The bits of listings.amenity_mask for these amenities: bit (id - 1) for ids 1-62; other ids have none."""
    return sum({1 << (amenity_id - 1) for amenity_id in amenity_ids if amenity_id in MASKED_AMENITY_IDS})

listing_amenities = Table(
    "listing_amenities",
    db.metadata,
    Column("listing_id", ForeignKey("listings.id", ondelete="CASCADE"), primary_key=True),
    Column("amenity_id", ForeignKey("amenities.id", ondelete="CASCADE"), primary_key=True),
    Index("ix_listing_amenities_amenity_id", "amenity_id"),
)


class Amenity(db.Model):
    """One amenity a listing can offer, addressed by its stable code."""

    __tablename__ = "amenities"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True, nullable=False)
    name: Mapped[str] = mapped_column(String(80), nullable=False)


class Listing(TimestampMixin, db.Model):
    """A listing: a place a host offers by the night. Deletion is soft (status), so history survives."""

    __tablename__ = "listings"
    __table_args__ = (
        CheckConstraint("price_per_night_amount >= 0", name="price_non_negative"),
        CheckConstraint("cleaning_fee_amount >= 0", name="cleaning_fee_non_negative"),
        CheckConstraint("min_nights >= 1 AND max_nights >= min_nights", name="nights_range"),
        Index("ix_listings_host_status", "host_id", "status"),
        Index("ix_listings_status_lat_lng", "status", "latitude", "longitude"),
        Index("ix_listings_status_price", "status", "price_usd_micros"),
        Index("ix_listings_status_rank", "status", "rank_score"),
        Index("ix_listings_status_rating", "status", "rating_score", "rating_count"),
        Index("ix_listings_status_city", "status", "city"),  # admin analytics: active listings per city
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    host_id: Mapped[int] = mapped_column(ForeignKey("users.id"), nullable=False)
    status: Mapped[str] = mapped_column(String(12), nullable=False, default="active")
    title: Mapped[str] = mapped_column(String(120), nullable=False)
    description: Mapped[str] = mapped_column(Text, nullable=False, default="")
    property_type: Mapped[str] = mapped_column(String(20), nullable=False)
    address_line1: Mapped[str] = mapped_column(String(200), nullable=False, default="")
    city: Mapped[str] = mapped_column(String(100), nullable=False)
    state: Mapped[str] = mapped_column(String(100), nullable=False, default="")
    country: Mapped[str] = mapped_column(String(2), nullable=False)
    postal_code: Mapped[str] = mapped_column(String(20), nullable=False, default="")
    latitude: Mapped[float | None] = mapped_column(Numeric(9, 6, asdecimal=False))
    longitude: Mapped[float | None] = mapped_column(Numeric(9, 6, asdecimal=False))
    timezone: Mapped[str] = mapped_column(String(64), nullable=False, default="UTC")
    currency: Mapped[str] = mapped_column(String(3), nullable=False)
    price_per_night_amount: Mapped[int] = mapped_column(Integer, nullable=False)
    cleaning_fee_amount: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    max_guests: Mapped[int] = mapped_column(Integer, nullable=False)
    bedrooms: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    beds: Mapped[int] = mapped_column(Integer, nullable=False, default=1)
    bathrooms: Mapped[int] = mapped_column(Integer, nullable=False, default=1)
    min_nights: Mapped[int] = mapped_column(Integer, nullable=False, default=1)
    max_nights: Mapped[int] = mapped_column(Integer, nullable=False, default=365)
    cancellation_policy: Mapped[str] = mapped_column(String(10), nullable=False, default="moderate")
    instant_book: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    rating_count: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    rating_sum: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    # Search keys, kept current by the services: the nightly price in millionths of a US dollar (one indexed
    # column compares prices across currencies), the mean rating x100, and the relevance rank.
    price_usd_micros: Mapped[int] = mapped_column(BigInteger, nullable=False, default=0)
    rating_score: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    rank_score: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    # The amenities again as bits (amenity_mask()), so search tests them on the row; set with the amenities.
    amenity_mask: Mapped[int] = mapped_column(BigInteger, nullable=False, default=0, server_default="0")
    # The nights held in night_holds as one character each from held_from ("1" held, "0" free), rebuilt with
    # every hold change (calendar/holds.py) so search checks a stay on the row instead of probing night_holds.
    held_from: Mapped[date] = mapped_column(Date, nullable=False, default=date.today, server_default="2000-01-01")
    held_nights: Mapped[str] = mapped_column(String(HELD_NIGHTS_LENGTH), nullable=False, default="",
                                             server_default="")
    deleted_at: Mapped[datetime | None] = mapped_column()

    host = relationship("User", lazy="joined")
    amenities: Mapped[list[Amenity]] = relationship(secondary=listing_amenities, order_by=Amenity.name)
    images: Mapped[list[ListingImage]] = relationship(back_populates="listing", order_by="ListingImage.position",
                                                       cascade="all, delete-orphan")

    @property
    def is_active(self) -> bool:
        """In search, on its public page, bookable."""
        return self.status == "active"

    @property
    def is_unpublished(self) -> bool:
        """Taken down by an admin: hidden from everyone but its host and admins, not bookable."""
        return self.status == "unpublished"

    @property
    def rating_average(self) -> float | None:
        """Mean rating to one decimal, or None before the first review."""
        return round(self.rating_sum / self.rating_count, 2) if self.rating_count else None

    @property
    def cover_image(self) -> ListingImage | None:
        return self.images[0] if self.images else None


class ListingImage(db.Model):
    """A listing photo; position 0 is the cover."""

    __tablename__ = "listing_images"
    __table_args__ = (Index("ix_listing_images_listing_position", "listing_id", "position"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    listing_id: Mapped[int] = mapped_column(ForeignKey("listings.id", ondelete="CASCADE"), nullable=False)
    key: Mapped[str] = mapped_column(String(255), nullable=False)
    thumbnail_key: Mapped[str | None] = mapped_column(String(255))
    position: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    width: Mapped[int] = mapped_column(Integer, nullable=False)
    height: Mapped[int] = mapped_column(Integer, nullable=False)
    created_at: Mapped[datetime] = mapped_column(nullable=False, default=utcnow)

    listing: Mapped[Listing] = relationship(back_populates="images")


class ListingPlace(db.Model):
    """A place an active listing is found by, with a copy of the listing's filter columns: location search.

    A listing has one row per kind: its city, state and country name as geo.place_key has them (kinds "city",
    "state", "country", matched by prefix) and its ISO country code ("code", matched whole), so `location` is
    a few ranges of this table's primary key instead of an OR over three columns of listings. The rows of a
    place lie together and carry the columns the filters test (held nights too) and the sort keys, so a
    search counts and sorts its matches while reading those ranges and reads the listing rows of one page
    only. listings/places.py writes them with the listing and removes them when it is deleted,
    holds.refresh_held_nights copies the held nights, and rates.set_rate keeps the price current. Whatever
    changes a copied column calls places.write_places.
    """

    __tablename__ = "listing_places"
    __table_args__ = (Index("ix_listing_places_listing_id", "listing_id"),)

    kind: Mapped[str] = mapped_column(String(7), primary_key=True)
    place: Mapped[str] = mapped_column(String(100), primary_key=True)
    listing_id: Mapped[int] = mapped_column(ForeignKey("listings.id", ondelete="CASCADE"), primary_key=True)
    # Copies of the listing's columns of the same names.
    property_type: Mapped[str] = mapped_column(String(20), nullable=False)
    max_guests: Mapped[int] = mapped_column(Integer, nullable=False)
    min_nights: Mapped[int] = mapped_column(Integer, nullable=False)
    max_nights: Mapped[int] = mapped_column(Integer, nullable=False)
    instant_book: Mapped[bool] = mapped_column(Boolean, nullable=False)
    price_usd_micros: Mapped[int] = mapped_column(BigInteger, nullable=False)
    amenity_mask: Mapped[int] = mapped_column(BigInteger, nullable=False)
    rank_score: Mapped[int] = mapped_column(Integer, nullable=False)
    rating_score: Mapped[int] = mapped_column(Integer, nullable=False)
    rating_count: Mapped[int] = mapped_column(Integer, nullable=False)
    held_from: Mapped[date] = mapped_column(Date, nullable=False)
    held_nights: Mapped[str] = mapped_column(String(HELD_NIGHTS_LENGTH), nullable=False)

    COPIED = ("property_type", "max_guests", "min_nights", "max_nights", "instant_book", "price_usd_micros",
              "amenity_mask", "rank_score", "rating_score", "rating_count")


class NightHold(db.Model):
    """One night taken on a listing's calendar: blocked by the host (booking_id NULL) or held by a booking.

    The primary key (listing_id, night) is what makes a double booking impossible: a clashing insert fails.
    """

    __tablename__ = "night_holds"

    listing_id: Mapped[int] = mapped_column(ForeignKey("listings.id", ondelete="CASCADE"), primary_key=True)
    night: Mapped[date] = mapped_column(Date, primary_key=True)
    # The booking that holds the night; a booking row that goes takes its nights with it.
    booking_id: Mapped[int | None] = mapped_column(ForeignKey("bookings.id", ondelete="CASCADE"), index=True)


class NightPrice(db.Model):
    """A custom price for one night; nights without a row cost the listing's base price."""

    __tablename__ = "night_prices"
    __table_args__ = (CheckConstraint("amount >= 0", name="amount_non_negative"),)

    listing_id: Mapped[int] = mapped_column(ForeignKey("listings.id", ondelete="CASCADE"), primary_key=True)
    night: Mapped[date] = mapped_column(Date, primary_key=True)
    amount: Mapped[int] = mapped_column(Integer, nullable=False)


# The catalogue as first shipped; migration 0001 inserts these rows, the test fixtures load them too.
DEFAULT_AMENITIES = [
    ("wifi", "Wi-Fi"),
    ("kitchen", "Kitchen"),
    ("parking", "Free parking"),
    ("pool", "Pool"),
    ("air_conditioning", "Air conditioning"),
    ("heating", "Heating"),
    ("washer", "Washer"),
    ("dryer", "Dryer"),
    ("tv", "TV"),
    ("workspace", "Dedicated workspace"),
    ("pets_allowed", "Pets allowed"),
    ("hot_tub", "Hot tub"),
    ("gym", "Gym"),
    ("breakfast", "Breakfast"),
    ("ev_charger", "EV charger"),
    ("smoke_alarm", "Smoke alarm"),
]
