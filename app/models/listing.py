"""The listings aggregate; for now the amenity catalogue (seeded by a migration)."""

from __future__ import annotations

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db


class Amenity(db.Model):
    """One amenity a listing can offer, addressed by its stable code."""

    __tablename__ = "amenities"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True, nullable=False)
    name: Mapped[str] = mapped_column(String(80), nullable=False)


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
