"""Accounts: sign-up, sign-in, tokens, profiles (HTML pages and /api/v1)."""

from flask import Blueprint

bp = Blueprint("auth", __name__)
api_bp = Blueprint("auth_api", __name__)

from . import api, oauth_pages, password_pages, routes  # noqa: E402,F401  (routes register themselves on the blueprints)
