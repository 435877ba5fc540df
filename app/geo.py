"""Places: ISO 3166 countries (names from Babel's CLDR data), IANA time zones, and approximate points."""

from __future__ import annotations

import hashlib
import hmac
import math
import sqlite3
import unicodedata
from functools import cache
from zoneinfo import available_timezones

from babel import Locale
from flask import current_app

# CLDR territories that are not countries a listing can be in.
_NOT_COUNTRIES = {"EU", "EZ", "UN", "QO", "XA", "XB", "ZZ"}


@cache
def countries() -> dict[str, str]:
    """{ISO 3166-1 alpha-2 code: English name}, sorted by name."""
    names = Locale("en").territories
    pairs = [(code, name) for code, name in names.items()
             if len(code) == 2 and code.isalpha() and code not in _NOT_COUNTRIES]
    return dict(sorted(pairs, key=lambda pair: pair[1]))


def is_country(code: object) -> bool:
    """True for a known ISO 3166-1 alpha-2 code (upper case)."""
    return isinstance(code, str) and code in countries()


def country_name(code: str) -> str:
    """The English name of a country code (the code itself when unknown)."""
    return countries().get(code, code)


PLACE_NAME_KINDS = ("city", "state", "country")


def place_key(text: str) -> str:
    """A place name as location search compares it: case-folded, accents and other marks removed, at most 100
    characters ("İstanbul" and "Île-de-France" become "istanbul" and "ile-de-france")."""
    decomposed = unicodedata.normalize("NFKD", text.strip().casefold())
    return "".join(char for char in decomposed if not unicodedata.combining(char))[:100]


def search_places(city: str, state: str, country: str) -> set[tuple[str, str]]:
    """The (kind, place) rows a location search finds a listing by: its city, state and country name as
    place_key has them (matched by prefix) and its ISO country code in lower case ("code", matched whole)."""
    names = zip(PLACE_NAME_KINDS, (city, state, country_name(country)), strict=True)
    keys = {(kind, place_key(name)) for kind, name in names}
    return {(kind, key) for kind, key in keys if key} | {("code", country.lower())}


@cache
def timezones() -> frozenset[str]:
    """Every IANA time zone name this machine knows."""
    return frozenset(available_timezones())


def is_timezone(name: object) -> bool:
    """True for a valid IANA time zone name such as Europe/Paris."""
    return isinstance(name, str) and name in timezones()


EARTH_RADIUS_KM = 6371.0
APPROXIMATE_KM = (0.3, 1.0)  # how far an approximate point lies from the true one


def approximate_point(key: int, latitude: float | None, longitude: float | None) -> tuple[float | None, float | None]:
    """A point 0.3 to 1 km from (latitude, longitude) in a direction and at a distance drawn from an HMAC of `key`
    (a listing id) under the app's SECRET_KEY: the same for one key on every request, so repeated requests cannot
    be averaged back to the true point, and unguessable without the secret. (None, None) without a point."""
    if latitude is None or longitude is None:
        return None, None
    secret = str(current_app.config["SECRET_KEY"]).encode()
    digest = hmac.new(secret, f"approximate-point:{key}".encode(), hashlib.sha256).digest()
    bearing = 2 * math.pi * int.from_bytes(digest[:8]) / 2**64
    near, far = APPROXIMATE_KM
    angle = (near + (far - near) * int.from_bytes(digest[8:16]) / 2**64) / EARTH_RADIUS_KM
    lat1, lng1 = math.radians(latitude), math.radians(longitude)
    lat2 = math.asin(math.sin(lat1) * math.cos(angle) + math.cos(lat1) * math.sin(angle) * math.cos(bearing))
    lng2 = lng1 + math.atan2(math.sin(bearing) * math.sin(angle) * math.cos(lat1),
                             math.cos(angle) - math.sin(lat1) * math.sin(lat2))
    wrapped = (math.degrees(lng2) + 180) % 360 - 180  # back into -180..180 across the antimeridian
    return round(math.degrees(lat2), 6), round(wrapped, 6)


def _nullable(function):
    return lambda *args: None if any(arg is None for arg in args) else function(*args)


SQLITE_FUNCTIONS = {"radians": (1, math.radians), "sin": (1, math.sin), "cos": (1, math.cos),
                    "asin": (1, math.asin), "sqrt": (1, math.sqrt), "power": (2, math.pow), "least": (2, min),
                    "lower": (1, str.lower)}  # SQLite's own lower() folds only ASCII; "Île" must match "île"


def add_sqlite_math(dbapi_connection, _record) -> None:
    """SQLAlchemy connect hook: give SQLite the math functions MariaDB has (distance filter) and a Unicode lower()."""
    if isinstance(dbapi_connection, sqlite3.Connection):
        for name, (arity, function) in SQLITE_FUNCTIONS.items():
            dbapi_connection.create_function(name, arity, _nullable(function), deterministic=True)
