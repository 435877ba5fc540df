"""Bookings: quotes, booking a stay, the host's answer, cancellation with refunds (HTML pages and /api/v1)."""

from flask import Blueprint

bp = Blueprint("bookings", __name__)
api_bp = Blueprint("bookings_api", __name__)

from . import api, routes  # noqa: E402,F401
