"""The notifications JSON API: the list (filter, pages, ETag and 304), marking read, and who may see what."""

from __future__ import annotations

import pytest

from ..support.notification_world import World


@pytest.fixture
def world(app) -> World:
    return World()


def test_list_is_newest_first_and_unread_true_keeps_the_unread(client, auth_headers, world):
    first, second = world.booking(), world.booking()
    headers = auth_headers(world.host)
    page = client.get("/api/v1/notifications", headers=headers).get_json()
    assert [item["data"]["booking_id"] for item in page["items"]] == [second, first]
    assert {k: page[k] for k in ("page", "per_page", "total", "pages")} == {"page": 1, "per_page": 20, "total": 2,
                                                                            "pages": 1}
    item = page["items"][0]
    assert set(item) == {"id", "type", "title", "body", "data", "read_at", "created_at"}
    assert item["type"] == "booking_confirmed" and item["read_at"] is None and item["created_at"].endswith("Z")
    assert item["data"]["url"] == f"/bookings/{second}"

    read = client.post(f"/api/v1/notifications/{item['id']}/read", headers=headers)
    assert read.status_code == 200 and read.get_json()["read_at"].endswith("Z")
    unread = client.get("/api/v1/notifications?unread=true", headers=headers).get_json()
    assert [i["data"]["booking_id"] for i in unread["items"]] == [first]
    done = client.get("/api/v1/notifications?unread=false", headers=headers).get_json()
    assert [i["data"]["booking_id"] for i in done["items"]] == [second]
    one = client.get("/api/v1/notifications?per_page=1&page=2", headers=headers).get_json()
    assert one["total"] == 2 and one["pages"] == 2 and [i["data"]["booking_id"] for i in one["items"]] == [first]


@pytest.mark.parametrize("value", ["yes", "1", "TRUE", ""])
def test_unread_other_than_true_or_false_is_400(client, auth_headers, world, value):
    answer = client.get(f"/api/v1/notifications?unread={value}", headers=auth_headers(world.host))
    assert answer.status_code == 400
    assert answer.get_json()["error"]["code"] == "bad_request" and "unread" in answer.get_json()["error"]["fields"]


def test_bad_page_is_400(client, auth_headers, world):
    assert client.get("/api/v1/notifications?page=x", headers=auth_headers(world.host)).status_code == 400


def test_read_is_idempotent_and_keeps_the_first_read_time(client, auth_headers, world):
    world.booking()
    headers = auth_headers(world.guest)
    note = client.get("/api/v1/notifications", headers=headers).get_json()["items"][0]
    first = client.post(f"/api/v1/notifications/{note['id']}/read", headers=headers).get_json()
    again = client.post(f"/api/v1/notifications/{note['id']}/read", headers=headers)
    assert again.status_code == 200 and again.get_json()["read_at"] == first["read_at"]


def test_another_users_notification_or_an_unknown_one_is_404(client, auth_headers, world):
    world.booking()
    host_note = client.get("/api/v1/notifications", headers=auth_headers(world.host)).get_json()["items"][0]
    guest = auth_headers(world.guest)
    for path in (f"/api/v1/notifications/{host_note['id']}/read", "/api/v1/notifications/999999/read"):
        answer = client.post(path, headers=guest)
        assert answer.status_code == 404 and answer.get_json()["error"]["code"] == "not_found"
    still = client.get("/api/v1/notifications?unread=true", headers=auth_headers(world.host)).get_json()
    assert still["total"] == 1  # the guest's attempt read nothing of the host's


def test_read_all_is_204_and_reads_only_the_callers(client, auth_headers, world):
    world.booking()
    world.booking()
    host = auth_headers(world.host)
    answer = client.post("/api/v1/notifications/read-all", headers=host)
    assert answer.status_code == 204 and answer.get_data() == b""
    assert client.get("/api/v1/notifications?unread=true", headers=host).get_json()["total"] == 0
    assert client.get("/api/v1/notifications?unread=true", headers=auth_headers(world.guest)).get_json()["total"] == 2
    assert client.post("/api/v1/notifications/read-all", headers=host).status_code == 204  # nothing left: still 204


@pytest.mark.parametrize("method, path", [("get", "/api/v1/notifications"), ("post", "/api/v1/notifications/1/read"),
                                          ("post", "/api/v1/notifications/read-all"),
                                          ("get", "/api/v1/notifications/stream")])
def test_anonymous_callers_get_401(client, method, path):
    answer = getattr(client, method)(path)
    assert answer.status_code == 401 and answer.get_json()["error"]["code"] == "unauthorized"


def test_etag_answers_304_until_a_notification_arrives_or_one_is_read(client, auth_headers, world):
    world.booking()
    headers = auth_headers(world.host)
    first = client.get("/api/v1/notifications", headers=headers)
    etag = first.headers["ETag"]
    assert etag.startswith('"') and not etag.startswith("W/")
    same = client.get("/api/v1/notifications", headers={**headers, "If-None-Match": etag})
    assert same.status_code == 304 and same.get_data() == b""

    world.booking()  # a new notification
    fresh = client.get("/api/v1/notifications", headers={**headers, "If-None-Match": etag})
    assert fresh.status_code == 200 and fresh.get_json()["total"] == 2 and fresh.headers["ETag"] != etag
    etag = fresh.headers["ETag"]
    assert client.get("/api/v1/notifications", headers={**headers, "If-None-Match": etag}).status_code == 304

    client.post(f"/api/v1/notifications/{fresh.get_json()['items'][0]['id']}/read", headers=headers)  # a read
    after_read = client.get("/api/v1/notifications", headers={**headers, "If-None-Match": etag})
    assert after_read.status_code == 200 and after_read.headers["ETag"] != etag
    etag = after_read.headers["ETag"]
    client.post("/api/v1/notifications/read-all", headers=headers)
    assert client.get("/api/v1/notifications", headers={**headers, "If-None-Match": etag}).status_code == 200


def test_etag_differs_by_query_and_by_user(client, auth_headers, world):
    world.booking()
    host = auth_headers(world.host)
    tags = {client.get(path, headers=host).headers["ETag"]
            for path in ("/api/v1/notifications", "/api/v1/notifications?unread=true", "/api/v1/notifications?page=2")}
    assert len(tags) == 3
    guest_tag = client.get("/api/v1/notifications", headers=auth_headers(world.guest)).headers["ETag"]
    assert guest_tag not in tags


def test_profile_shows_and_changes_email_preferences_in_one_transaction(client, auth_headers, world):
    headers = auth_headers(world.guest)
    profile = client.get("/api/v1/profile", headers=headers).get_json()
    assert profile["notification_preferences"]["booking_confirmed"] == {"email": True, "in_app": True}
    changed = client.patch("/api/v1/profile", headers=headers, json={
        "name": "Gus G", "notification_preferences": {"booking_confirmed": {"email": False},
                                                      "payment_failed": {"email": False, "in_app": True}}})
    assert changed.status_code == 200, changed.get_json()
    prefs = changed.get_json()["notification_preferences"]
    assert prefs["booking_confirmed"] == {"email": False, "in_app": True} and prefs["payment_failed"]["email"] is False
    assert prefs["review_response"]["email"] is True and changed.get_json()["name"] == "Gus G"
    refused = client.patch("/api/v1/profile", headers=headers, json={
        "name": "Never saved", "notification_preferences": {"booking_confirmed": {"email": True},
                                                            "booking_declined": {"email": "no"}}})
    assert refused.status_code == 422
    assert "notification_preferences.booking_declined.email" in refused.get_json()["error"]["fields"]
    again = client.get("/api/v1/profile", headers=headers).get_json()
    assert again["name"] == "Gus G" and again["notification_preferences"]["booking_confirmed"]["email"] is False


@pytest.mark.parametrize("preferences, field", [
    ({"booking_exploded": {"email": False}}, "notification_preferences.booking_exploded"),
    ({"booking_confirmed": {"email": 0}}, "notification_preferences.booking_confirmed.email"),
    ({"booking_confirmed": {"in_app": False}}, "notification_preferences.booking_confirmed.in_app"),
    ({"booking_confirmed": {"sms": True}}, "notification_preferences.booking_confirmed.sms"),
    ({"booking_confirmed": True}, "notification_preferences.booking_confirmed"),
    ([1, 2], "notification_preferences"),
])
def test_bad_notification_preferences_are_422_naming_the_field(client, auth_headers, world, preferences, field):
    answer = client.patch("/api/v1/profile", headers=auth_headers(world.guest),
                          json={"notification_preferences": preferences})
    assert answer.status_code == 422
    assert field in answer.get_json()["error"]["fields"], answer.get_json()
