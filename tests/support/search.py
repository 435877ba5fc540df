"""Calling the search API from tests."""

from __future__ import annotations


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
