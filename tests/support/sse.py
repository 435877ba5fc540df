"""A server-sent events client over a real HTTP connection, for the notification stream's tests and benchmark."""

from __future__ import annotations

import http.client
import json
import re
from urllib.parse import urlsplit

import requests

CSRF_INPUT = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


class EventStreamClient:
    """GET an event stream and read it event by event (a socket timeout, not a clock, bounds each read)."""

    def __init__(self, base: str, path: str = "/api/v1/notifications/stream", headers: dict | None = None,
                 timeout: float = 10.0):
        parts = urlsplit(base)
        self.connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=timeout)
        self.connection.request("GET", path, headers={"Accept": "text/event-stream", **(headers or {})})
        self.response = self.connection.getresponse()
        self.status = self.response.status
        self.headers = dict(self.response.getheaders())

    def json(self) -> dict:
        """The body of an error answer."""
        return json.loads(self.response.read())

    def next_block(self) -> dict | None:
        """The next block up to a blank line, as {"id", "data" (parsed), "retry", "comment"}; None at the end."""
        block: dict = {}
        while True:
            line = self.response.readline()
            if not line:
                return block or None
            text = line.decode().rstrip("\r\n")
            if not text:
                if block:
                    return block
                continue
            field, _, value = text.partition(":")
            value = value[1:] if value.startswith(" ") else value
            if field == "":
                block["comment"] = value
            elif field == "data":
                block["data"] = json.loads(value)
            else:
                block[field] = value

    def next_event(self) -> dict:
        """The next notification event (skipping `retry:` and heartbeats); fails at the stream's end."""
        while True:
            block = self.next_block()
            assert block is not None, "the stream ended before the event came"
            if "data" in block:
                return block

    def close(self) -> None:
        self.connection.close()

    def __enter__(self) -> EventStreamClient:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def browser_session(base: str, email: str, password: str) -> requests.Session:
    """A requests session signed in through the log-in page, as a browser would be (session cookie)."""
    session = requests.Session()
    page = session.get(base + "/login", timeout=10)
    token = CSRF_INPUT.search(page.text).group(1)
    answer = session.post(base + "/login", data={"csrf_token": token, "email": email, "password": password},
                          allow_redirects=False, timeout=10)
    assert answer.status_code == 302, answer.text[:300]
    return session


def cookie_header(session: requests.Session) -> dict:
    return {"Cookie": "; ".join(f"{name}={value}" for name, value in session.cookies.items())}
