"""Dashboard views of people and content: users, listings, reviews, the audit log."""

from __future__ import annotations

from flask_admin import Admin


def register(admin: Admin, db) -> None:
    """Add this area's views to `admin`."""
