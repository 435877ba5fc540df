"""Review pages: leave a review, the host's Reviews page with replies."""

from __future__ import annotations

from flask import abort

from . import bp


@bp.get("/bookings/<int:booking_id>/review")
def new(booking_id: int):
    """Leave a review (built next)."""
    abort(404)


@bp.get("/host/reviews")
def host_index():
    """The host's reviews (built next)."""
    abort(404)
