"""DomainError hierarchy and the handlers that turn any error into the contract's body or an HTML page."""

from __future__ import annotations

import logging
from collections.abc import Mapping

from flask import Flask, g, jsonify, render_template, request
from jinja2 import TemplateNotFound
from redis.exceptions import RedisError
from werkzeug.exceptions import HTTPException, InternalServerError, UnprocessableEntity

from .extensions import db

logger = logging.getLogger(__name__)

REDIS_RETRY_AFTER_SECONDS = 30  # what a 503 for an unreachable Redis asks the client to wait

# Werkzeug's status codes mapped to the contract's error codes.
HTTP_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "validation_error",
    429: "rate_limited",
    500: "internal_error",
    503: "service_unavailable",
}


class DomainError(Exception):
    """A rule the request broke; carries the HTTP status and the contract's error code."""

    status_code = 400
    code = "bad_request"

    def __init__(self, message: str, *, code: str | None = None, fields: Mapping | None = None,
                 status_code: int | None = None, headers: Mapping[str, str] | None = None):
        super().__init__(message)
        self.message = message
        self.code = code or self.code
        self.status_code = status_code or self.status_code
        self.fields = normalise_fields(fields) if fields else None
        self.headers = dict(headers or {})  # e.g. Retry-After on a 503


class BadRequest(DomainError):
    status_code, code = 400, "bad_request"


class Unauthorized(DomainError):
    status_code, code = 401, "unauthorized"


class ServiceUnavailable(DomainError):
    """Too busy for this request now (say when to come back with a Retry-After header)."""

    status_code, code = 503, "service_unavailable"


class RateLimited(DomainError):
    """Too many attempts from this client or at this account; carries a Retry-After header."""

    status_code, code = 429, "rate_limited"

    def __init__(self, message: str, *, retry_after: int):
        super().__init__(message, headers={"Retry-After": str(max(int(retry_after), 1))})


class PaymentFailed(DomainError):
    """The payment provider refused the charge: 402 `card_declined` or `payment_failed`."""

    status_code, code = 402, "payment_failed"


class PermissionDenied(DomainError):
    status_code, code = 403, "forbidden"


class NotFoundError(DomainError):
    status_code, code = 404, "not_found"


class Conflict(DomainError):
    status_code, code = 409, "conflict"


class PayloadTooLarge(DomainError):
    status_code, code = 413, "payload_too_large"


class UnsupportedMediaType(DomainError):
    status_code, code = 415, "unsupported_media_type"


class ValidationFailed(DomainError):
    """Well-formed but invalid input; `fields` maps each field to its messages."""

    status_code, code = 422, "validation_error"

    def __init__(self, fields: Mapping, message: str | None = None):
        fields = normalise_fields(fields)
        if message is None:
            name, messages = next(iter(fields.items()))
            message = f"{name}: {messages[0]}" if name != "_schema" else messages[0]
        super().__init__(message, fields=fields)


class InvalidPathValue(UnprocessableEntity):
    """A path segment that must be an integer and is not. Raised while the URL is matched, before any view runs,
    where only an HTTPException reaches the error handlers; it answers 422 validation_error naming the segment."""

    def __init__(self, name: str, message: str):
        super().__init__(f"{name}: {message}")
        self.fields = {name: [message]}


def normalise_fields(fields: Mapping) -> dict[str, list[str]]:
    """Return {field: [message, ...]}, flattening marshmallow's nested dicts into dotted names."""
    out: dict[str, list[str]] = {}
    for name, value in fields.items():
        if isinstance(value, Mapping):
            for sub, messages in normalise_fields(value).items():
                out[f"{name}.{sub}"] = messages
        elif isinstance(value, (list, tuple)):
            out[str(name)] = [str(v) for v in value]
        else:
            out[str(name)] = [str(value)]
    return out


def is_api_request() -> bool:
    """True for /api/ paths (request.blueprint is None when no URL matched, the path is not)."""
    return request.path.startswith("/api/")


def error_body(status: int, code: str, message: str, fields: Mapping | None = None) -> dict:
    """The contract's error envelope."""
    error = {"code": code, "message": message, "request_id": g.get("request_id")}
    if fields:
        error["fields"] = dict(fields)
    return {"error": error}


def api_error(status: int, code: str, message: str, fields: Mapping | None = None, headers=None):
    """A JSON error response with the contract's body."""
    response = jsonify(error_body(status, code, message, fields))
    response.status_code = status
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def _page(status: int, message: str, headers=None):
    try:
        html = render_template(f"errors/{status}.html", status=status, message=message)
    except TemplateNotFound:
        html = render_template("errors/generic.html", status=status, message=message)
    return html, status, headers or {}


def _http_headers(exc: HTTPException) -> dict:
    headers = {}
    for name, value in exc.get_headers():
        if name.lower() in {"allow", "retry-after", "www-authenticate"}:
            headers[name] = value
    retry_after = getattr(exc, "retry_after", None)
    if exc.code == 429 and "Retry-After" not in headers:
        headers["Retry-After"] = str(int(retry_after or 60))
    return headers


def register_error_handlers(app: Flask) -> None:
    """Install handlers for DomainError, every HTTPException and unexpected 500s."""

    @app.errorhandler(DomainError)
    def handle_domain_error(exc: DomainError):
        if exc.status_code >= 500:
            db.session.rollback()
        if is_api_request():
            return api_error(exc.status_code, exc.code, exc.message, exc.fields, headers=exc.headers)
        return _page(exc.status_code, exc.message, exc.headers)

    @app.errorhandler(HTTPException)
    def handle_http_exception(exc: HTTPException):
        status = exc.code or 500
        headers = _http_headers(exc)
        if status == 429:
            message = "Too many requests; try again later."
        else:
            message = exc.description or exc.name
        if is_api_request():
            return api_error(status, HTTP_CODES.get(status, "error"), message, getattr(exc, "fields", None),
                             headers=headers)
        return _page(status, message, headers)

    @app.errorhandler(RedisError)
    def handle_redis_down(exc: RedisError):
        # The parts that can do without Redis fall back (cache, rate limits, token blocklist, notifications); what
        # reaches here cannot work without it, and says when to come back rather than failing with a 500.
        logger.error("Redis unreachable: %s %s", type(exc).__name__, exc)
        db.session.rollback()
        message = "A service this request needs is unavailable; try again shortly."
        headers = {"Retry-After": str(REDIS_RETRY_AFTER_SECONDS)}
        if is_api_request():
            return api_error(503, "service_unavailable", message, headers=headers)
        return _page(503, message, headers)

    @app.errorhandler(InternalServerError)
    def handle_internal_error(exc: InternalServerError):
        # Flask has already logged the exception with its traceback; the client sees only the request id.
        db.session.rollback()
        message = "An unexpected error occurred; quote the request id when you report it."
        if is_api_request():
            return api_error(500, "internal_error", message)
        return _page(500, message)
