"""Where sent email goes, chosen by MAIL_TRANSPORT: "smtp" (Flask-Mail to MAIL_SERVER, one connection reused for
a run of emails, with a timeout) or "file" (each email an .eml file under MAIL_FILE_DIR, for development).

`open_transport()` gives an object with `send(message)`; an SMTP refusal raises smtplib.SMTPException, a timeout
or an unreachable server OSError, and the next send opens a fresh connection.
"""

from __future__ import annotations

import logging
import re
import smtplib
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from flask import Flask, current_app
from flask_mail import Connection, Message

logger = logging.getLogger(__name__)


def configure_mail(app: Flask) -> None:
    """Fill in MAIL_TRANSPORT, MAIL_FILE_DIR and MAIL_QUEUE where config left them unset (see config.py)."""
    redis_url = app.config.get("REDIS_URL")
    if not app.config.get("MAIL_TRANSPORT"):
        development = app.config.get("ENV_NAME") == "development"
        app.config["MAIL_TRANSPORT"] = "file" if development and not redis_url else "smtp"
    if app.config["MAIL_TRANSPORT"] not in ("smtp", "file"):
        raise RuntimeError(f"MAIL_TRANSPORT must be smtp or file, not {app.config['MAIL_TRANSPORT']!r}")
    app.config["MAIL_FILE_DIR"] = app.config.get("MAIL_FILE_DIR") or str(Path(app.instance_path) / "mail")
    if not app.config.get("MAIL_QUEUE"):
        app.config["MAIL_QUEUE"] = "celery" if redis_url else "inline"
    if app.config["MAIL_QUEUE"] not in ("celery", "inline", "none"):
        raise RuntimeError(f"MAIL_QUEUE must be celery, inline or none, not {app.config['MAIL_QUEUE']!r}")
    if app.config["MAIL_QUEUE"] == "celery" and not redis_url:
        raise RuntimeError("MAIL_QUEUE=celery needs REDIS_URL (the worker's queue)")


def announce(app: Flask) -> None:
    """Say at start where email goes when it is not sent (development's file transport)."""
    if app.config["MAIL_TRANSPORT"] == "file":
        logger.info("emails are written to %s/ (MAIL_TRANSPORT=file), not sent", app.config["MAIL_FILE_DIR"])


class _TimedConnection(Connection):
    """Flask-Mail's connection, with MAIL_TIMEOUT on connect and every command (Flask-Mail sets none)."""

    def configure_host(self) -> smtplib.SMTP:
        mail, timeout = self.mail, current_app.config["MAIL_TIMEOUT"]
        smtp_class = smtplib.SMTP_SSL if mail.use_ssl else smtplib.SMTP
        host = smtp_class(mail.server, mail.port, timeout=timeout)
        try:
            if mail.use_tls:
                host.starttls()
            if mail.username and mail.password:
                host.login(mail.username, mail.password)
        except BaseException:
            host.close()
            raise
        return host


class SmtpTransport:
    """Sends through MAIL_SERVER; connects on the first send and after a failed one."""

    def __init__(self) -> None:
        self._connection: _TimedConnection | None = None
        self.unreachable = False  # set when connecting failed: the rest of this run would wait for the same

    def send(self, message: Message) -> None:
        if self._connection is None:
            connection = _TimedConnection(current_app.extensions["mail"])
            try:
                connection.host = None if connection.mail.suppress else connection.configure_host()
            except BaseException:
                self.unreachable = True
                raise
            self._connection = connection
        try:
            self._connection.send(message)
        except BaseException:
            self.close(polite=False)
            raise

    def close(self, polite: bool = True) -> None:
        connection, self._connection = self._connection, None
        if connection is None or connection.host is None:
            return
        try:
            if polite:
                connection.host.quit()
            else:
                connection.host.close()
        except (smtplib.SMTPException, OSError):
            connection.host.close()


class FileTransport:
    """Writes each email to MAIL_FILE_DIR as <time>-<message id>.eml (open it with any mail program)."""

    unreachable = False

    def send(self, message: Message) -> None:
        folder = Path(current_app.config["MAIL_FILE_DIR"])
        folder.mkdir(parents=True, exist_ok=True)
        name = re.sub(r"[^A-Za-z0-9.-]+", "_", message.msgId.strip("<>").split("@")[0])
        path = folder / f"{datetime.now(UTC):%Y%m%dT%H%M%S%f}-{name}.eml"
        path.write_bytes(message.as_bytes())
        logger.info("email written to %s", path)

    def close(self) -> None:
        """Nothing to close."""


@contextmanager
def open_transport() -> Iterator[SmtpTransport | FileTransport]:
    """The configured transport for a run of sends, closed afterwards."""
    transport = FileTransport() if current_app.config["MAIL_TRANSPORT"] == "file" else SmtpTransport()
    try:
        yield transport
    finally:
        transport.close()
