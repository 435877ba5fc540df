"""Every model, re-exported so Alembic and the app see the whole schema."""

from .audit import AuditEntry
from .base import TimestampMixin, utcnow
from .booking import ACTIVE_BOOKING_STATUSES, BOOKING_STATUSES, CANCELERS, Booking, IdempotencyKey
from .listing import (
                      CANCELLATION_POLICIES,
                      PROPERTY_TYPES,
                      Amenity,
                      Listing,
                      ListingImage,
                      ListingPlace,
                      NightHold,
                      NightPrice,
                      listing_amenities,
)
from .money import ExchangeRate
from .notification import NOTIFICATION_LABELS, NOTIFICATION_TYPES, Notification, NotificationPreference, OutboxEmail
from .payment import PAYMENT_STATUSES, PAYOUT_STATUSES, Payment, PaymentRefund, Payout, RevenueDay, WebhookEvent
from .review import SUB_RATINGS, Review
from .stats import SearchDay
from .user import ROLES, OAuthIdentity, PasswordReset, RefreshToken, RevokedToken, User

__all__ = [
    "ACTIVE_BOOKING_STATUSES", "AuditEntry", "BOOKING_STATUSES", "CANCELERS", "CANCELLATION_POLICIES",
    "PROPERTY_TYPES", "ROLES", "Amenity", "Booking",
    "ExchangeRate", "IdempotencyKey", "NOTIFICATION_LABELS", "NOTIFICATION_TYPES", "Notification",
    "NotificationPreference", "OAuthIdentity", "OutboxEmail", "PasswordReset",
    "Review", "SUB_RATINGS", "NightHold", "NightPrice", "PAYMENT_STATUSES",
    "PAYOUT_STATUSES", "Payment", "PaymentRefund", "Payout", "RevenueDay", "Listing", "ListingImage", "ListingPlace",
    "RefreshToken", "RevokedToken", "SearchDay", "TimestampMixin", "User", "WebhookEvent", "listing_amenities",
    "utcnow",
]
