"""Reviews: a guest's rating of a completed stay and the host's reply (HTML pages and /api/v1)."""

from flask import Blueprint

bp = Blueprint("reviews", __name__)
api_bp = Blueprint("reviews_api", __name__)

from . import api, routes  # noqa: E402,F401
