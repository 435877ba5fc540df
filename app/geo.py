"""Places: ISO 3166 countries (names from Babel's CLDR data) and IANA time zones."""

from __future__ import annotations

import math
import sqlite3
import unicodedata
from functools import cache
from zoneinfo import available_timezones

from babel import Locale

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
