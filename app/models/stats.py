"""Figures the app counts for its admins: searches answered per day (UTC), when the app runs without Redis."""

from __future__ import annotations

from datetime import date

from sqlalchemy import BigInteger, Date
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db


class SearchDay(db.Model):
    """One day's answered searches (app/search_stats.py: one upsert per search when REDIS_URL is unset)."""

    __tablename__ = "search_days"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    searches: Mapped[int] = mapped_column(BigInteger, nullable=False, default=0)
