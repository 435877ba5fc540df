"""A real SMTP server for tests (aiosmtpd on a free loopback port): it keeps every email it accepts, can refuse the
next ones with chosen replies, and can hold a send until a second one arrives (two deliverers pinned mid-send)."""

from __future__ import annotations

import asyncio
import logging
import socket
import threading
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass
from email import message_from_bytes, policy
from email.message import EmailMessage

import pytest
from aiosmtpd.controller import Controller

logging.getLogger("mail.log").setLevel(logging.WARNING)  # aiosmtpd logs every connection at INFO


@dataclass
class Received:
    """One email the server accepted: the envelope and the parsed message."""

    mail_from: str
    rcpt_tos: list[str]
    message: EmailMessage
    raw: bytes  # the message as it came over the wire

    @property
    def message_id(self) -> str:
        return self.message["Message-ID"]

    def part(self, subtype: str) -> str:
        """The text of the text/<subtype> part ("plain" or "html")."""
        return self.message.get_body(preferencelist=(subtype,)).get_content()


class SmtpServer:
    """The handler and its controller; `emails` holds what was accepted, in order."""

    def __init__(self) -> None:
        self.emails: list[Received] = []
        self.refusals: deque[str] = deque()  # replies to give the next DATA commands instead of 250
        self.hold_until_two = False  # the first DATA waits (up to 15 s) until a second arrives alongside it (once)
        self.overlapped = False  # True once two DATA commands were in progress together
        self._arrived = threading.Condition()
        self._in_flight = 0
        self._second: asyncio.Event | None = None
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.controller = Controller(self, hostname="127.0.0.1", port=self.port)

    def settings(self) -> dict:
        """Config overrides pointing an app (or a worker's environment, as strings) at this server."""
        return {"MAIL_SERVER": "127.0.0.1", "MAIL_PORT": self.port, "MAIL_SUPPRESS_SEND": False,
                "MAIL_TRANSPORT": "smtp", "MAIL_USE_TLS": False}

    async def handle_DATA(self, server, session, envelope) -> str:  # noqa: N802 (aiosmtpd's hook name)
        if self.hold_until_two and not self.overlapped:
            await self._wait_for_company()
        if self.refusals:
            return self.refusals.popleft()
        received = Received(envelope.mail_from, list(envelope.rcpt_tos),
                            message_from_bytes(envelope.content, policy=policy.default), envelope.content)
        with self._arrived:
            self.emails.append(received)
            self._arrived.notify_all()
        return "250 Message accepted for delivery"

    async def _wait_for_company(self) -> None:
        self._in_flight += 1
        try:
            if self._second is None:
                self._second = asyncio.Event()
            if self._in_flight >= 2:
                self.overlapped = True
                self._second.set()
            else:
                try:
                    await asyncio.wait_for(self._second.wait(), 15)
                except TimeoutError:
                    pass
                self._second = None
        finally:
            self._in_flight -= 1

    def wait_for(self, count: int, timeout: float = 30) -> list[Received]:
        """Block until at least `count` emails arrived (or the timeout passed); returns every email so far."""
        with self._arrived:
            self._arrived.wait_for(lambda: len(self.emails) >= count, timeout)
            return list(self.emails)


@pytest.fixture(name="smtp_server")
def smtp_server_fixture() -> Iterator[SmtpServer]:
    """An SmtpServer listening on a free local port for one test."""
    server = SmtpServer()
    server.controller.start()
    try:
        yield server
    finally:
        server.controller.stop()
