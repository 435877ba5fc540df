"""Calling the search API from tests."""

from __future__ import annotations

import math


def search(client, query: str = "", status: int = 200) -> dict:
    response = client.get(f"/api/v1/search?{query}")
    assert response.status_code == status, response.get_json()
    return response.get_json()


def titles(client, query: str = "") -> list[str]:
    return [item["title"] for item in search(client, query)["items"]]


def search_query(args: dict, now=None):
    """The SearchQuery of query-string arguments, loaded as the API loads them (SearchArgsSchema), as at `now`."""
    from app.blueprints.search import schemas, services
    from app.validation import load_query

    return services.search_query(**load_query(schemas.SearchArgsSchema(), args), now=now)


def haversine_km(lat1: float, lng1: float, lat2: float, lng2: float) -> float:
    """Great-circle distance on the sphere of radius 6371 km, as docs/api.md measures radius_km."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    inner = (math.sin((p2 - p1) / 2) ** 2
             + math.cos(p1) * math.cos(p2) * math.sin(math.radians(lng2 - lng1) / 2) ** 2)
    return 2 * 6371.0 * math.asin(math.sqrt(min(inner, 1.0)))
