"""Every Jinja filter and global the templates use, registered in one place by register_template_helpers(app).

Shared helpers are defined here; a feature's page helpers (the booking panel, "Pay now", receipts, the payout
account summary, the listing page's reviews, the Trips page's review marks) stay beside the views they serve
and are only registered here.
"""

from __future__ import annotations

from flask import Flask

from . import geo, money
from .authz import viewer_locale
from .storage import image_url


def money_filter(amount: int, currency: str) -> str:
    """Jinja `{{ amount|money(currency) }}`: minor units as text in the viewer's language ('$125.00')."""
    return money.format_money(amount, currency, viewer_locale())


def country_name_filter(code: str) -> str:
    """Jinja `{{ code|country_name }}`: 'FR' -> 'France'."""
    return geo.country_name(code)


def register_template_helpers(app: Flask) -> None:
    """Add the filters and globals to the app's Jinja environment (after the blueprints are imported)."""
    from .blueprints.bookings.routes import booking_panel
    from .blueprints.payments.account_routes import payout_account_summary
    from .blueprints.payments.routes import booking_receipts, can_pay
    from .blueprints.reviews.routes import listing_reviews, review_states

    app.add_template_filter(money_filter, "money")
    app.add_template_filter(country_name_filter, "country_name")
    for helper in (image_url, booking_panel, can_pay, booking_receipts, payout_account_summary, listing_reviews,
                   review_states):
        app.add_template_global(helper)
