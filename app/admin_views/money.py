"""Dashboard views of money and mail: bookings, payments, payouts, exchange rates, the email outbox."""

from __future__ import annotations

from flask_admin import Admin


def register(admin: Admin, db) -> None:
    """Add this area's views to `admin`."""
