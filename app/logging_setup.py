"""Logging: one stdout handler, request ids on every line, JSON in production."""

from __future__ import annotations

import json
import logging
import re
import sys
import time
import uuid

from flask import Flask, g, has_request_context, request

REQUEST_ID_HEADER = "X-Request-ID"
_CLIENT_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")
_STANDARD_ATTRS = set(vars(logging.makeLogRecord({}))) | {"message", "asctime", "request_id"}


class RequestIdFilter(logging.Filter):
    """Stamp each record with the current request's id ("-" outside a request)."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = g.get("request_id", "-") if has_request_context() else "-"
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, request_id, extras, exception."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created)) + f".{int(record.msecs):03d}Z",
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", "-"),
        }
        for key, value in vars(record).items():
            if key not in _STANDARD_ATTRS and not key.startswith("_"):
                entry[key] = value if isinstance(value, (str, int, float, bool, type(None))) else str(value)
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


class StdoutHandler(logging.StreamHandler):
    """A stream handler that looks sys.stdout up at each write (it may be swapped, e.g. by test capture)."""

    def __init__(self) -> None:
        super().__init__(sys.stdout)

    @property
    def stream(self):
        return sys.stdout

    @stream.setter
    def stream(self, _value) -> None:
        pass


TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"


def configure_logging(app: Flask) -> None:
    """Send the root logger to stdout at LOG_LEVEL, as text or JSON (LOG_FORMAT)."""
    handler = StdoutHandler()
    handler.addFilter(RequestIdFilter())
    if app.config["LOG_FORMAT"] == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter(TEXT_FORMAT))
    root = logging.getLogger()
    for old in [h for h in root.handlers if getattr(h, "_abode", False)]:
        root.removeHandler(old)
    handler._abode = True
    root.addHandler(handler)
    root.setLevel(app.config["LOG_LEVEL"].upper())
    app.logger.handlers.clear()  # propagate to the root handler instead of Flask's default one
    app.logger.propagate = True
    register_request_id(app)


def register_request_id(app: Flask) -> None:
    """Give every request an id (the client's X-Request-ID when well-formed) and echo it back."""

    @app.before_request
    def assign_request_id() -> None:
        incoming = request.headers.get(REQUEST_ID_HEADER, "")
        g.request_id = incoming if _CLIENT_ID.match(incoming) else uuid.uuid4().hex
        g.request_started = time.perf_counter()

    @app.after_request
    def add_request_id(response):
        if "request_id" not in g:  # an error raised before before_request ran
            g.request_id = uuid.uuid4().hex
        response.headers[REQUEST_ID_HEADER] = g.request_id
        if "request_started" in g and not request.path.startswith("/static/"):
            elapsed_ms = round((time.perf_counter() - g.request_started) * 1000, 1)
            logging.getLogger("abode.access").info(
                "%s %s %s %sms", request.method, request.path, response.status_code, elapsed_ms,
                extra={"status": response.status_code, "duration_ms": elapsed_ms},
            )
        return response
