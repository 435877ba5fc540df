"""Shared model helpers: UTC timestamps and the created_at mixin."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy.orm import Mapped, mapped_column


def utcnow() -> datetime:
    """Naive UTC now: every timestamp column stores UTC without an offset."""
    return datetime.now(UTC).replace(tzinfo=None)


class TimestampMixin:
    """created_at / updated_at in UTC."""

    created_at: Mapped[datetime] = mapped_column(default=utcnow, nullable=False)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow, nullable=False)
