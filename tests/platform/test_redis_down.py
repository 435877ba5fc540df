"""With Redis down (REDIS_URL pointing at a closed port, no mock): each part falls back or answers 503, never 500.

Rate limits count in process memory, the token blocklist is read from the database, the cache misses, and
/api/v1/health names Redis as the part that is down."""

from __future__ import annotations

import pytest
import redis

from app.extensions import limiter

from ..support.factories import DEFAULT_PASSWORD, make_listing, make_user

DEAD_REDIS = "redis://127.0.0.1:9/0"  # the discard port: nothing listens, every connection is refused


@pytest.fixture
def dead_redis_app(make_app):
    make_app()  # the first app empties the tables and the live Redis; the next one cannot reach its Redis
    app = make_app(REDIS_URL=DEAD_REDIS, RATELIMIT_ENABLED=True)
    yield app
    limiter._storage_dead = False  # the limiter is one object shared by every app the tests build


def _login(client, email="bo@example.com", password=DEFAULT_PASSWORD):
    return client.post("/api/v1/login", json={"email": email, "password": password})


def test_sign_in_refresh_and_logout_work_without_redis(dead_redis_app):
    make_user(email="bo@example.com")
    client = dead_redis_app.test_client()
    login = _login(client)
    assert login.status_code == 200, login.get_data(as_text=True)
    tokens = login.get_json()
    bearer = {"Authorization": f"Bearer {tokens['access_token']}"}
    assert client.get("/api/v1/profile", headers=bearer).status_code == 200
    refreshed = client.post("/api/v1/token/refresh", headers={"Authorization": f"Bearer {tokens['refresh_token']}"})
    assert refreshed.status_code == 200
    fresh = {"Authorization": f"Bearer {refreshed.get_json()['access_token']}"}
    assert client.post("/api/v1/logout", headers=fresh).status_code == 204
    # the revocation is in the database, which every process reads while Redis is away
    assert client.get("/api/v1/profile", headers=fresh).status_code == 401
    again = client.post("/api/v1/token/refresh", headers={"Authorization": f"Bearer {tokens['refresh_token']}"})
    assert again.status_code == 401  # rotation still refuses a used refresh token


def test_revocation_made_while_redis_was_up_holds_when_it_goes_down(make_app):
    live = make_app()
    make_user(email="bo@example.com")
    tokens = _login(live.test_client()).get_json()
    bearer = {"Authorization": f"Bearer {tokens['access_token']}"}
    assert live.test_client().post("/api/v1/logout", headers=bearer).status_code == 204
    dead = make_app(REDIS_URL=DEAD_REDIS)
    assert dead.test_client().get("/api/v1/profile", headers=bearer).status_code == 401


def test_rate_limits_still_count_in_memory_without_redis(dead_redis_app):
    dead_redis_app.config["LOGIN_FAILURE_LIMIT"] = "2 per 15 minutes"
    make_user(email="bo@example.com")
    client = dead_redis_app.test_client()
    assert [_login(client, password="wrong-password").status_code for _ in range(2)] == [401, 401]
    blocked = _login(client)
    assert blocked.status_code == 429
    assert blocked.get_json()["error"]["code"] == "rate_limited" and int(blocked.headers["Retry-After"]) > 0


def test_pages_search_and_the_login_form_work_without_redis(dead_redis_app, login):
    user = make_user(email="bo@example.com")
    make_listing(title="Harbour loft")
    client = dead_redis_app.test_client()
    assert client.get("/").status_code == 200
    search = client.get("/api/v1/search")
    assert search.status_code == 200 and search.get_json()["total"] == 1
    assert client.get("/search").status_code == 200
    login(client, user)
    assert client.get("/profile").status_code == 200


def test_health_names_redis_as_the_part_that_is_down(dead_redis_app):
    response = dead_redis_app.test_client().get("/api/v1/health")
    assert response.status_code == 200
    assert response.get_json() == {"status": "degraded", "database": "ok", "cache": "error", "redis": "error"}


def test_what_cannot_work_without_redis_is_503_with_retry_after(dead_redis_app):
    @dead_redis_app.get("/api/v1/_needs_redis")
    def needs_redis():
        raise redis.ConnectionError("Error 111 connecting to 127.0.0.1:9. Connection refused.")

    response = dead_redis_app.test_client().get("/api/v1/_needs_redis")
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "30"
    assert response.get_json()["error"]["code"] == "service_unavailable"
