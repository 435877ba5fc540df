"""Plain builders for test data: each fills defaults, adds, flushes and returns."""

from __future__ import annotations

import itertools

from app.blueprints.auth.passwords import hash_password
from app.extensions import db
from app.models import User

DEFAULT_PASSWORD = "correct-horse-battery"
_counter = itertools.count(1)
_hash_cache: dict[str, str] = {}


def _hash(password: str) -> str:
    # argon2id at OWASP cost takes ~30 ms; one hash per distinct password keeps the suite fast.
    if password not in _hash_cache:
        _hash_cache[password] = hash_password(password)
    return _hash_cache[password]


def make_user(*, email: str | None = None, password: str = DEFAULT_PASSWORD, role: str = "guest",
              name: str | None = None, **kwargs) -> User:
    """A committed user (guest by default) whose password is DEFAULT_PASSWORD."""
    n = next(_counter)
    user = User(email=(email or f"user{n}@example.com").lower(), name=name or f"User {n}", role=role,
                password_hash=_hash(password), **kwargs)
    db.session.add(user)
    db.session.commit()
    return user


def listing_data(**overrides) -> dict:
    """A valid listing body in the API's shape."""
    data = {
        "title": "Sunny loft by the canal", "description": "Two rooms, big windows.", "property_type": "apartment",
        "address": {"line1": "12 Canal St", "city": "Amsterdam", "state": "North Holland", "country": "NL",
                    "postal_code": "1012"},
        "latitude": 52.3731, "longitude": 4.8922, "price_per_night": {"amount": 12500, "currency": "EUR"},
        "cleaning_fee": {"amount": 3000, "currency": "EUR"}, "max_guests": 4, "bedrooms": 2, "beds": 2,
        "bathrooms": 1, "amenities": ["wifi", "kitchen"], "min_nights": 2, "max_nights": 30,
        "cancellation_policy": "moderate", "instant_book": True, "timezone": "Europe/Amsterdam",
    }
    data.update(overrides)
    return data


def make_listing(host: User | None = None, **overrides):
    """An active listing (through the API's schema and the service, so it is valid) owned by `host` (a new host
    when None)."""
    from app.blueprints.listings import schemas, services

    values = schemas.ListingInputSchema().load(listing_data(**overrides))
    return services.create_listing(host=host or make_user(role="host"), **values)
