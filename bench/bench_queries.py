"""Realistic search URLs for the benchmark: a weighted mix of places, dates, guests, prices and filters."""

from __future__ import annotations

import itertools
import random
from datetime import date, timedelta
from urllib.parse import urlencode

from app import geo

SEARCH_PATH = "/api/v1/search"
SORTS = {"relevance": 50, "price_asc": 25, "price_desc": 5, "rating": 15, "newest": 5}
AMENITIES = {"wifi": 30, "kitchen": 20, "parking": 15, "pool": 10, "air_conditioning": 10, "washer": 8,
             "workspace": 8, "pets_allowed": 6, "hot_tub": 4}
TYPES = {"apartment": 40, "house": 30, "room": 10, "cabin": 10, "villa": 10}
GUESTS = {1: 10, 2: 35, 3: 12, 4: 25, 5: 6, 6: 12}
# Each shape of the per-shape breakdown: (where, with dates, with guests/price/amenities, sort).
SHAPES = {
    "city": ("city", False, False, "relevance"),
    "city+dates": ("city", True, False, "relevance"),
    "city+dates+filters": ("city", True, True, "price_asc"),
    "state+dates": ("state", True, False, "relevance"),
    "country": ("country", False, False, "relevance"),
    "country+dates": ("country", True, False, "relevance"),
    "country+dates+price_asc": ("country", True, False, "price_asc"),
    "country+dates+rating": ("country", True, True, "rating"),
    "map+dates": ("map", True, False, "relevance"),
}


def _pick(rng: random.Random, weights: dict):
    return rng.choices(list(weights), list(weights.values()))[0]


def _prefix(rng: random.Random, name: str, shortest: int) -> str:
    """The whole name half the time, else a prefix of it (what a person types before picking)."""
    name = name.lower()
    if rng.random() < 0.5 or len(name) <= shortest:
        return name
    return name[: rng.randint(shortest, len(name) - 1)].rstrip()


class SearchMix:
    """Builds distinct search paths from the places the database holds; no path is handed out twice."""

    def __init__(self, places: list[dict], rng: random.Random, today: date | None = None) -> None:
        self.rng = rng
        self.today = today or date.today()
        self.places = places
        self.cum = list(itertools.accumulate(place["n"] for place in places))
        self.seen: set[tuple] = set()

    def _place(self) -> dict:
        return self.rng.choices(self.places, cum_weights=self.cum)[0]

    def _where(self, kind: str) -> dict:
        place, rng = self._place(), self.rng
        if kind == "city":
            return {"location": _prefix(rng, place["city"], 3)}
        if kind == "state":
            return {"location": _prefix(rng, place["state"], 4)}
        if kind == "country":
            code = place["country"]
            return {"location": code.lower() if rng.random() < 0.4 else _prefix(rng, geo.country_name(code), 4)}
        return {"lat": f"{place['lat'] + rng.uniform(-0.03, 0.03):.4f}",
                "lng": f"{place['lng'] + rng.uniform(-0.03, 0.03):.4f}",
                "radius_km": rng.choice(["5", "10", "25", "50"])}

    def _dates(self) -> dict:
        check_in = self.today + timedelta(days=self.rng.randint(1, 330))
        check_out = check_in + timedelta(days=self.rng.randint(2, 7))
        return {"check_in": check_in.isoformat(), "check_out": check_out.isoformat()}

    def _filters(self, heavy: bool) -> dict:
        rng, params = self.rng, {}
        if heavy or rng.random() < 0.8:
            params["guests"] = str(_pick(rng, GUESTS))
        if heavy or rng.random() < 0.4:
            params["currency"] = rng.choice(["USD", "EUR"])
            top = rng.choice([60, 80, 100, 120, 150, 200, 250, 300, 400])
            params["max_price"] = str(top * 100)
            if rng.random() < 0.3:
                params["min_price"] = str(rng.choice([20, 40, 60, 80, 100]) * 100 if top > 100 else 2000)
        count = rng.choices([0, 1, 2], [55, 30, 15])[0] if not heavy else rng.randint(1, 2)
        codes = {_pick(rng, AMENITIES) for _ in range(count)}
        if codes:
            params["amenities"] = ",".join(sorted(codes))
        if rng.random() < (0.3 if heavy else 0.2):
            params["property_type"] = _pick(rng, TYPES)
        if rng.random() < 0.1:
            params["instant_book"] = "true"
        return params

    def _random(self) -> dict:
        rng = self.rng
        kind = rng.choices(["city", "state", "country", "map"], [55, 15, 20, 10])[0]
        params = {**self._where(kind), **(self._dates() if rng.random() < 0.7 else {}), **self._filters(False)}
        params["sort"] = _pick(rng, SORTS)
        params["page"] = str(rng.choices([1, 2, 3], [80, 15, 5])[0])
        return params

    def _shaped(self, shape: str) -> dict:
        kind, dated, heavy, sort = SHAPES[shape]
        params = {**self._where(kind), **(self._dates() if dated else {})}
        if heavy:
            params.update(self._filters(True))
        params["sort"] = sort
        return params

    def _take(self, make, count: int) -> list[str]:
        paths: list[str] = []
        for _ in range(count * 50):
            params = {k: v for k, v in make().items()
                      if (k, v) not in (("currency", "USD"), ("sort", "relevance"), ("page", "1"))}
            key = tuple(sorted(params.items()))
            if key not in self.seen:
                self.seen.add(key)
                paths.append(f"{SEARCH_PATH}?{urlencode(params)}")
                if len(paths) == count:
                    break
        return paths

    def mixed(self, count: int) -> list[str]:
        """`count` paths of the realistic mix, none seen before."""
        return self._take(self._random, count)

    def shaped(self, shape: str, count: int) -> list[str]:
        """`count` new paths of one named shape (see SHAPES)."""
        return self._take(lambda: self._shaped(shape), count)
