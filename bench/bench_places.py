"""Synthetic geography for the benchmark: ~40 countries, their regions and 500+ cities with made-up names."""

from __future__ import annotations

import random
from dataclasses import dataclass

from app import geo

# code, latitude, longitude, spread in degrees, listing currency, typical nightly price in USD, weight
COUNTRIES = [
    ("US", 38.5, -96.0, 9.0, "USD", 165, 14), ("CA", 50.0, -100.0, 8.0, "CAD", 135, 4),
    ("MX", 22.5, -101.5, 5.0, "MXN", 85, 4), ("BR", -14.0, -49.0, 7.0, "BRL", 70, 4),
    ("AR", -36.0, -62.0, 5.0, "USD", 60, 2), ("CL", -33.5, -70.9, 3.0, "USD", 70, 1),
    ("CO", 5.0, -74.5, 3.0, "USD", 55, 2), ("PE", -10.0, -75.5, 3.0, "USD", 55, 1),
    ("GB", 53.5, -2.0, 2.5, "GBP", 145, 7), ("IE", 53.3, -8.0, 1.2, "EUR", 140, 1),
    ("FR", 46.6, 2.3, 3.5, "EUR", 135, 8), ("DE", 51.0, 10.3, 2.8, "EUR", 110, 6),
    ("ES", 40.2, -3.6, 3.0, "EUR", 115, 7), ("PT", 39.6, -8.3, 1.5, "EUR", 95, 3),
    ("IT", 42.8, 12.6, 3.0, "EUR", 125, 7), ("NL", 52.2, 5.4, 0.8, "EUR", 155, 2),
    ("BE", 50.6, 4.5, 0.7, "EUR", 110, 1), ("AT", 47.5, 14.2, 1.3, "EUR", 115, 1),
    ("CH", 46.8, 8.2, 0.8, "CHF", 195, 2), ("SE", 60.0, 16.0, 4.0, "SEK", 120, 1),
    ("NO", 61.0, 9.0, 3.5, "NOK", 145, 1), ("DK", 56.0, 9.8, 0.9, "DKK", 140, 1),
    ("FI", 62.0, 25.5, 2.5, "EUR", 110, 1), ("PL", 52.0, 19.2, 2.2, "EUR", 60, 2),
    ("CZ", 49.8, 15.4, 1.2, "EUR", 70, 1), ("GR", 39.0, 22.5, 2.0, "EUR", 100, 3),
    ("HR", 44.8, 15.6, 1.4, "EUR", 95, 2), ("TR", 39.0, 34.0, 4.0, "EUR", 60, 2),
    ("MA", 31.8, -7.1, 2.5, "EUR", 60, 1), ("ZA", -29.0, 25.0, 4.0, "USD", 70, 1),
    ("EG", 27.0, 31.0, 3.0, "USD", 50, 1), ("IN", 21.0, 78.5, 6.0, "INR", 45, 3),
    ("TH", 15.0, 101.0, 3.5, "USD", 50, 3), ("VN", 15.5, 107.5, 4.0, "USD", 40, 1),
    ("ID", -3.0, 115.0, 5.0, "USD", 55, 2), ("JP", 36.0, 138.0, 3.5, "JPY", 120, 5),
    ("KR", 36.3, 127.8, 1.5, "KRW", 90, 1), ("SG", 1.35, 103.82, 0.1, "SGD", 160, 1),
    ("AU", -27.0, 135.0, 10.0, "AUD", 150, 4), ("NZ", -41.0, 174.0, 3.0, "NZD", 130, 1),
]
ONSETS = ["b", "br", "c", "ch", "d", "f", "g", "gr", "h", "k", "l", "m", "n", "p", "r", "s", "st", "t", "tr", "v",
          "w", "z", "al", "el", "or", "an", "es", "am", "ul", "ir", "kal", "mar", "san", "por", "val", "mon", "bel"]
NUCLEI = ["a", "e", "i", "o", "u", "ai", "ea", "io", "ou", "ar", "en", "or", "el", "an", "is"]
CODAS = ["", "", "n", "r", "s", "l", "m", "x", "t", "th", "nd", "sk", "ra", "na", "ton", "burg", "dale", "ville",
         "mouth", "field", "port", "haven", "stad", "holm", "ford", "wick"]
# About one city in five gets a prefix word, so a prefix like "san" matches a handful of cities, not a third.
PREFIXES = [""] * 32 + ["New ", "Port ", "San ", "Saint ", "Lake ", "Mount ", "North ", "Little "]


@dataclass(frozen=True)
class City:
    """A synthetic city: where listings are placed and what searches ask for."""

    name: str
    state: str
    country: str
    currency: str
    latitude: float
    longitude: float
    usd_nightly: int
    weight: float  # share of the listings, Zipf-like over the cities


def make_name(rng: random.Random, syllables: int) -> str:
    """A pronounceable made-up place name such as 'Valmora' or 'Brenthaven'."""
    parts = [rng.choice(ONSETS) + rng.choice(NUCLEI) for _ in range(syllables)]
    return ("".join(parts) + rng.choice(CODAS)).capitalize()


def _unique(rng: random.Random, taken: set[str], make) -> str:
    while True:
        name = make()
        if name.lower() not in taken:
            taken.add(name.lower())
            return name


def make_cities(rng: random.Random, count: int = 550) -> list[City]:
    """`count` cities spread over the countries by weight, each country with several regions."""
    known = geo.countries()
    countries = [row for row in COUNTRIES if row[0] in known]
    total = sum(row[6] for row in countries)
    taken: set[str] = {name.lower() for name in known.values()}
    cities: list[City] = []
    for code, lat, lng, spread, currency, usd, weight in countries:
        share = max(3, round(count * weight / total))
        regions = [_unique(rng, taken, lambda: make_name(rng, rng.randint(2, 3))) for _ in range(max(2, share // 6))]
        for _ in range(share):
            name = _unique(rng, taken, lambda: rng.choice(PREFIXES) + make_name(rng, rng.randint(1, 3)))
            cities.append(City(name=name, state=rng.choice(regions), country=code, currency=currency,
                               latitude=round(lat + rng.uniform(-spread, spread) * 0.8, 4),
                               longitude=round(lng + rng.uniform(-spread, spread), 4),
                               usd_nightly=round(usd * rng.uniform(0.7, 1.5)), weight=0.0))
    # Big countries tend to hold the big cities: rank by a random key skewed by the country's weight.
    weights = {row[0]: row[6] for row in countries}
    cities.sort(key=lambda city: rng.random() ** (1.0 / weights[city.country]), reverse=True)
    return [City(**{**vars(city), "weight": 1.0 / (rank + 1) ** 0.8}) for rank, city in enumerate(cities)]
