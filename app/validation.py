"""Request parsing for the JSON API: body and query string through marshmallow schemas, errors as the contract says."""

from __future__ import annotations

import json
from collections.abc import Mapping

from flask import request
from marshmallow import EXCLUDE, Schema, ValidationError
from werkzeug.exceptions import BadRequest as WerkzeugBadRequest

from .errors import BadRequest, UnsupportedMediaType, ValidationFailed


def json_body() -> object:
    """The request's JSON document ({} when the body is empty). Raises BadRequest, UnsupportedMediaType."""
    if not request.get_data(cache=True):
        return {}
    if not request.is_json:
        raise UnsupportedMediaType("Send the body as application/json.")
    try:
        data = request.get_json()
    except (WerkzeugBadRequest, RecursionError):  # RecursionError: absurdly deep nesting
        raise BadRequest("The request body is not valid JSON.") from None
    try:
        json.dumps(data, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:  # "\ud800": valid JSON escapes, but not text anything downstream can store
        raise BadRequest("The request body contains invalid Unicode (a lone surrogate).") from None
    return data


def json_object() -> dict:
    """The JSON body, which must be an object (a schema loads its fields). Raises BadRequest, ValidationFailed."""
    data = json_body()
    if not isinstance(data, dict):
        raise ValidationFailed({"_schema": ["The body must be a JSON object."]})
    return data


def load_data(schema: Schema, data: Mapping, *, partial: bool = False) -> dict:
    """Load `data` (a JSON object, or a page form's values) with `schema`, unknown keys ignored.

    Raises ValidationFailed naming each field, so a page maps it onto its form like any service error.
    """
    try:
        return schema.load(data, partial=partial, unknown=EXCLUDE)
    except ValidationError as exc:
        raise ValidationFailed(field_errors(exc.normalized_messages())) from None


def field_errors(messages: Mapping | list | str, prefix: str = "") -> dict[str, list[str]]:
    """marshmallow's nested messages as the contract's `fields`: dotted keys (`ranges.0.end`), and a nested
    object's fault as a whole (its `_schema`) on the object's own key (`ranges.0`); the body's stays `_schema`."""
    if not isinstance(messages, Mapping):
        return {prefix: [str(m) for m in (messages if isinstance(messages, (list, tuple)) else [messages])]}
    out: dict[str, list[str]] = {}
    for name, value in messages.items():
        if name == "_schema" and prefix:
            key = prefix
        else:
            key = f"{prefix}.{name}" if prefix else str(name)
        for field, texts in field_errors(value, key).items():
            out.setdefault(field, []).extend(texts)
    return out


def load_json(schema: Schema, *, partial: bool = False) -> dict:
    """Validate the JSON body with `schema` and return the loaded data. Raises BadRequest or ValidationFailed."""
    return load_data(schema, json_object(), partial=partial)


def load_query(schema: Schema) -> dict:
    """Validate the query string with `schema`; unparsable values are 400 bad_request, as the contract says."""
    try:
        return schema.load(request.args.to_dict(), unknown=EXCLUDE)
    except ValidationError as exc:
        fields = exc.normalized_messages()
        raise BadRequest(f"Invalid query parameter: {', '.join(map(str, fields))}.", fields=fields) from None
