"""Calendar: which nights of a listing are held and what each costs; hosts block, reopen and price nights (HTML
page and /api/v1), bookings hold and release nights through its services."""

from flask import Blueprint

bp = Blueprint("calendar", __name__)
api_bp = Blueprint("calendar_api", __name__)

# receivers connects to the listings signals
from . import api, receivers, routes  # noqa: E402,F401
