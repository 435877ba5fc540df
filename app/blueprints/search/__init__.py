"""Search: filtered, date-aware, geo, sorted, paginated and cached (HTML results page and /api/v1/search)."""

from flask import Blueprint

bp = Blueprint("search", __name__)
api_bp = Blueprint("search_api", __name__)

from . import api, routes  # noqa: E402,F401
