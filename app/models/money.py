"""The money aggregate: exchange rates (payments arrive with their own issue)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import CheckConstraint, Numeric, String
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from .base import utcnow


class ExchangeRate(db.Model):
    """Units of `currency` per 1 USD, used to show and filter prices across currencies."""

    __tablename__ = "exchange_rates"
    __table_args__ = (CheckConstraint("rate > 0", name="rate_positive"),)

    currency: Mapped[str] = mapped_column(String(3), primary_key=True)
    rate: Mapped[Decimal] = mapped_column(Numeric(18, 8), nullable=False)
    updated_at: Mapped[datetime] = mapped_column(nullable=False, default=utcnow, onupdate=utcnow)


# Sensible starting rates (units per USD), inserted by migration 0003 and by the test fixtures.
DEFAULT_RATES = {
    "USD": "1", "EUR": "0.92", "GBP": "0.79", "JPY": "150", "CAD": "1.36", "AUD": "1.52", "CHF": "0.88",
    "SEK": "10.5", "NOK": "10.6", "DKK": "6.9", "MXN": "17.1", "BRL": "5.0", "INR": "83.2", "KRW": "1330",
    "SGD": "1.34", "NZD": "1.64",
}
