"""Notifications: in-app notices, their live stream, and email through the outbox (HTML pages and /api/v1)."""

from flask import Blueprint

bp = Blueprint("notifications", __name__)
api_bp = Blueprint("notifications_api", __name__)

from . import api, receivers, routes, unsubscribe  # noqa: E402,F401
