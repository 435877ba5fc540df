"""The live stream over real HTTP: who may open it, an event per committed notification, resuming with
Last-Event-ID, heartbeats, its end and its cap, and delivery across two app processes through Redis."""

from __future__ import annotations

import os

import pytest
import requests

from ..support.app_process import app_processes
from ..support.factories import DEFAULT_PASSWORD
from ..support.local_server import live_server
from ..support.notification_world import World
from ..support.sse import EventStreamClient, browser_session, cookie_header

STREAM = "/api/v1/notifications/stream"


@pytest.fixture
def world(app) -> World:
    return World()


def test_stream_without_a_token_or_a_session_is_401_with_the_error_body(app):
    with live_server(app) as base, EventStreamClient(base) as stream:
        assert stream.status == 401 and stream.json()["error"]["code"] == "unauthorized"
    with live_server(app) as base, EventStreamClient(base, headers={"Authorization": "Bearer nonsense"}) as stream:
        assert stream.status == 401 and stream.json()["error"]["code"] == "unauthorized"


def test_an_event_arrives_after_the_commit_of_a_paid_booking(app, auth_headers, world):
    headers = auth_headers(world.host)
    with live_server(app) as base, EventStreamClient(base, headers=headers) as stream:
        assert stream.status == 200 and stream.headers["Content-Type"].startswith("text/event-stream")
        assert stream.next_block() == {"retry": "3000"}
        booking_id = world.booking()
        event = stream.next_event()
    assert event["data"]["type"] == "booking_confirmed" and event["data"]["data"]["booking_id"] == booking_id
    assert event["id"] == str(event["data"]["id"]) and event["data"]["read_at"] is None
    assert set(event["data"]) == {"id", "type", "title", "body", "data", "read_at", "created_at"}


def test_a_stream_hears_only_its_own_users_notifications(app, auth_headers, world):
    other = World()
    with live_server(app) as base, EventStreamClient(base, headers=auth_headers(world.host)) as stream:
        stream.next_block()
        other.booking()  # tells the other host and guest
        mine = world.booking()
        assert stream.next_event()["data"]["data"]["booking_id"] == mine


def test_last_event_id_resumes_with_the_missed_ones_oldest_first_then_live(app, auth_headers, world):
    first, second, third = world.booking(), world.booking(), world.booking()
    headers = auth_headers(world.host)
    with live_server(app) as base:
        with EventStreamClient(base, headers={**headers, "Last-Event-ID": "0"}) as stream:
            stream.next_block()
            ids = [stream.next_event()["data"]["data"]["booking_id"] for _ in range(3)]
        assert ids == [first, second, third]
        listed = requests.get(base + "/api/v1/notifications", headers=headers, timeout=10).json()["items"]
        after_first = min(item["id"] for item in listed)
        with EventStreamClient(base, headers={**headers, "Last-Event-ID": str(after_first)}) as stream:
            stream.next_block()
            assert [stream.next_event()["data"]["data"]["booking_id"] for _ in range(2)] == [second, third]
            fourth = world.booking()
            assert stream.next_event()["data"]["data"]["booking_id"] == fourth
        # EventSource's first connection cannot send the header: the query parameter does the same
        with EventStreamClient(base, f"{STREAM}?last_event_id={after_first}", headers=headers) as stream:
            stream.next_block()
            assert stream.next_event()["data"]["data"]["booking_id"] == second


@pytest.mark.parametrize("headers, path", [({"Last-Event-ID": "abc"}, STREAM), ({}, STREAM + "?last_event_id=x"),
                                           ({"Last-Event-ID": "-1"}, STREAM)])
def test_a_last_event_id_that_is_not_an_id_is_400(app, auth_headers, world, headers, path):
    with live_server(app) as base, EventStreamClient(base, path, headers={**auth_headers(world.host),
                                                                          **headers}) as stream:
        assert stream.status == 400 and stream.json()["error"]["code"] == "bad_request"


def test_the_browsers_session_cookie_opens_the_stream(app, world):
    with live_server(app) as base:
        session = browser_session(base, world.host.email, DEFAULT_PASSWORD)
        with EventStreamClient(base, headers=cookie_header(session)) as stream:
            assert stream.status == 200
            stream.next_block()
            booking_id = world.booking()
            assert stream.next_event()["data"]["data"]["booking_id"] == booking_id


def test_an_idle_stream_sends_heartbeats_and_ends_after_its_lifetime(make_app, auth_headers):
    app = make_app(NOTIFICATION_STREAM_HEARTBEAT_SECONDS=0.1, NOTIFICATION_STREAM_MAX_SECONDS=1)
    world = World()
    with live_server(app) as base, EventStreamClient(base, headers=auth_headers(world.host)) as stream:
        blocks = []
        while (block := stream.next_block()) is not None:
            blocks.append(block)
    assert blocks[0] == {"retry": "3000"}
    assert {"comment": "heartbeat"} in blocks[1:] and all(block == {"comment": "heartbeat"} for block in blocks[1:])


def test_over_the_cap_a_stream_is_503_with_retry_after(make_app, auth_headers):
    app = make_app(NOTIFICATION_STREAMS_PER_PROCESS=1, NOTIFICATION_STREAM_RETRY_MS=5000)
    world = World()
    with live_server(app) as base, EventStreamClient(base, headers=auth_headers(world.host)) as held:
        held.next_block()
        with EventStreamClient(base, headers=auth_headers(world.guest)) as refused:
            assert refused.status == 503 and refused.headers["Retry-After"] == "5"
            assert refused.json()["error"]["code"] == "service_unavailable"


def test_an_event_committed_in_one_process_reaches_a_stream_held_by_another(app, auth_headers, world):
    if not os.environ.get("REDIS_URL"):
        pytest.skip("two processes share notifications through Redis; REDIS_URL is unset")
    env = {"APP_CONFIG": "testing", "TEST_DATABASE_URL": os.environ["TEST_DATABASE_URL"],
           "REDIS_URL": os.environ["REDIS_URL"], "LOG_LEVEL": "WARNING",
           "NOTIFICATION_STREAM_HEARTBEAT_SECONDS": "0.5"}  # a closed stream is noticed soon: the processes stop
    booking_id = world.booking()  # paid: the host's stream starts after its booking_confirmed
    host, guest = auth_headers(world.host), auth_headers(world.guest)
    with app_processes(env, 2) as (process_a, process_b):
        with EventStreamClient(process_b, headers=host) as stream:
            assert stream.status == 200
            stream.next_block()
            canceled = requests.post(f"{process_a}/api/v1/bookings/{booking_id}/cancel", headers=guest,
                                     json={"reason": "plans changed"}, timeout=30)
            assert canceled.status_code == 200, canceled.text
            event = stream.next_event()
    assert event["data"]["type"] == "booking_canceled" and event["data"]["data"]["booking_id"] == booking_id
    assert event["data"]["data"]["role"] == "host"
