"""Payment providers behind one interface (base.py), chosen by PAYMENT_PROVIDER: fake, stripe or paypal."""

from __future__ import annotations

import importlib

from flask import current_app

from .base import Charge, InvalidSignature, PaymentError, PaymentProvider, Refund, Transfer, WebhookEvent

PROVIDERS = {"fake": ("fake", "FakeProvider"), "stripe": ("stripe_provider", "StripeProvider"),
             "paypal": ("paypal", "PayPalProvider")}

__all__ = ["Charge", "InvalidSignature", "PaymentError", "PaymentProvider", "Refund", "Transfer", "WebhookEvent",
           "get_provider"]


def get_provider(name: str | None = None) -> PaymentProvider:
    """The provider called `name` (default: PAYMENT_PROVIDER), built from the app's config."""
    name = name or current_app.config.get("PAYMENT_PROVIDER", "fake")
    if name not in PROVIDERS:
        raise RuntimeError(f"Unknown PAYMENT_PROVIDER {name!r}; use one of {', '.join(PROVIDERS)}")
    module, cls = PROVIDERS[name]
    return getattr(importlib.import_module(f".{module}", __name__), cls).from_config(current_app.config)
