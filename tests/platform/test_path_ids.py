"""Every id in every path answers as docs/api.md says, whatever its value: an integer that names nothing is 404,
a value that is not an integer is 422 naming the id (on pages, 404). Generated from the app's url map, so a
route added later is covered too. Werkzeug's own converter refused such values while matching, and the request
fell through to a sibling rule of another method: an undocumented 405."""

from __future__ import annotations

import pytest

from app import create_app
from config import TestingConfig

NOT_FOUND = ["0", "-1", "-99999999999999999999", str(2**31), str(2**63), str(2**64 + 1), "9" * 40]
NOT_INTEGERS = ["abc", "1.5", "1e3", "+1", "0x1f", "%C2%B2", "1%20"]


def _id_routes() -> list[tuple[str, str, str, str]]:
    """(method, rule, id argument, url with that id as {}) for every method of every rule with an <int:> id."""
    app = create_app(TestingConfig)
    routes = []
    for rule in app.url_map.iter_rules():
        ids = [name for name, converter in rule._converters.items() if type(converter).__name__ == "IdConverter"]
        for name in ids:
            url = rule.rule
            for other in rule.arguments:
                url = url.replace(f"<int:{other}>", "{}" if other == name else "1")
            for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
                routes.append((method, rule.rule, name, url))
    return sorted(set(routes))


ID_ROUTES = _id_routes()


def test_the_url_map_has_id_routes_of_the_api_and_of_pages():
    assert len([r for r in ID_ROUTES if r[1].startswith("/api/")]) >= 20
    assert len([r for r in ID_ROUTES if not r[1].startswith("/api/")]) >= 10


@pytest.mark.parametrize(("method", "rule", "name", "url"), ID_ROUTES, ids=lambda v: v if "{" not in v else "")
def test_an_id_that_names_nothing_is_404(client, method, rule, name, url):
    for value in NOT_FOUND:
        response = client.open(url.format(value), method=method)
        assert response.status_code == 404, (value, response.get_data(as_text=True)[:300])
        if rule.startswith("/api/"):
            assert response.get_json()["error"]["code"] == "not_found"


@pytest.mark.parametrize(("method", "rule", "name", "url"), ID_ROUTES, ids=lambda v: v if "{" not in v else "")
def test_an_id_that_is_not_an_integer_is_422_on_the_api_and_404_on_pages(client, method, rule, name, url):
    for value in NOT_INTEGERS:
        response = client.open(url.format(value), method=method)
        if rule.startswith("/api/"):
            assert response.status_code == 422, (value, response.get_data(as_text=True)[:300])
            error = response.get_json()["error"]
            assert (error["code"], error["fields"]) == ("validation_error", {name: ["Not a valid integer."]})
            assert error["request_id"] == response.headers["X-Request-ID"]
        else:
            assert response.status_code == 404, (value, response.get_data(as_text=True)[:300])


def test_a_real_id_still_reaches_its_view(client, app):
    from ..support.factories import make_listing

    listing = make_listing()
    assert client.get(f"/api/v1/properties/{listing.id}").status_code == 200
    assert client.get(f"/api/v1/properties/{listing.id:05d}").get_json()["id"] == listing.id
    assert client.get(f"/listings/{listing.id}").status_code == 200
