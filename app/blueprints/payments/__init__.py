"""Payments: guests pay for bookings through a provider, get refunds by the policy; hosts get payouts."""

from flask import Blueprint

bp = Blueprint("payments", __name__)
api_bp = Blueprint("payments_api", __name__)

# receivers connects to the bookings signals
from . import account_api, account_routes, api, receivers, routes  # noqa: E402,F401
