"""Site-wide pages and discovery: home, uploaded files, health, OpenAPI, amenities, currencies."""

from flask import Blueprint

bp = Blueprint("main", __name__)
api_bp = Blueprint("main_api", __name__)

from . import api, routes  # noqa: E402,F401
