"""Listings: hosts manage places, photos and calendars; anyone views a listing (HTML pages and /api/v1)."""

from flask import Blueprint

bp = Blueprint("listings", __name__)
api_bp = Blueprint("listings_api", __name__)

from . import api, routes  # noqa: E402,F401
