"""Calling the search API from tests."""

from __future__ import annotations


def search(client, query: str = "", status: int = 200) -> dict:
    response = client.get(f"/api/v1/search?{query}")
    assert response.status_code == status, response.get_json()
    return response.get_json()


def titles(client, query: str = "") -> list[str]:
    return [item["title"] for item in search(client, query)["items"]]
