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


def booking_holding(listing, *nights, status: str = "confirmed", guest: User | None = None):
    """A booking row of `listing` with `status` that holds `nights` (dates), written directly, so the nights may lie
    in the past or be booked in a status the flows would not leave them in. Returns the committed Booking."""
    from datetime import timedelta

    from app.models import Booking, NightHold

    first, last = min(nights), max(nights)
    amount = listing.price_per_night_amount * len(nights)
    booking = Booking(listing_id=listing.id, guest_id=(guest or make_user()).id, check_in=first,
                      check_out=last + timedelta(days=1), nights=len(nights), guests=1, status=status,
                      currency=listing.currency, nightly_amount=amount, cleaning_fee_amount=0, service_fee_amount=0,
                      total_amount=amount, cancellation_policy=listing.cancellation_policy,
                      instant_book=listing.instant_book, timezone=listing.timezone)
    db.session.add(booking)
    db.session.flush()
    db.session.add_all(NightHold(listing_id=listing.id, night=night, booking_id=booking.id) for night in nights)
    db.session.commit()
    return booking
