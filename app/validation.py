"""Request parsing for the JSON API: body and query string through marshmallow schemas, errors as the contract says."""

from __future__ import annotations

import copy
import json
from collections.abc import Mapping

from flask import request
from marshmallow import EXCLUDE, RAISE, Schema, ValidationError
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
    """Load a page form's values with `schema`, unknown keys ignored (a form also posts its button, its token).

    Raises ValidationFailed naming each field, so a page maps it onto its form like any service error.
    """
    return _load(schema, data, partial, EXCLUDE)


def load_body(schema: Schema, data: Mapping, *, partial: bool = False) -> dict:
    """Load a JSON body's object with `schema`. A key the schema does not know, at any depth, is ValidationFailed
    naming it ("Unknown field."), as the OpenAPI document's `additionalProperties: false` says: a misspelt or
    read-only field is refused rather than silently left unchanged."""
    return _load(schema, data, partial, RAISE)


def reject_unknown(schema: Schema, data: Mapping) -> None:
    """ValidationFailed naming each key of `data` that `schema` does not load (for a view that reads its body's
    fields itself, in its own order of checks)."""
    known = {field.data_key or name for name, field in schema.load_fields.items()}
    unknown = sorted(str(key) for key in data if key not in known)
    if unknown:
        raise ValidationFailed({key: ["Unknown field."] for key in unknown})


def _load(schema: Schema, data: Mapping, partial: bool, unknown: str) -> dict:
    try:
        return schema.load(data, partial=partial, unknown=unknown)
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
    """Validate the JSON body with `schema` (unknown keys refused, see load_body) and return the loaded data.
    Raises BadRequest, UnsupportedMediaType or ValidationFailed."""
    return load_body(schema, json_object(), partial=partial)


def load_query(schema: Schema, args: Mapping | None = None) -> dict:
    """Load the query string (or `args`, a page's values of it) with `schema`, unknown keys ignored.

    A value that cannot be parsed (a field's type: not a number, not a date) is BadRequest, 400 bad_request; a
    value that parses but breaks a rule (a field's validators, the schema's rules across fields) is
    ValidationFailed, 422, as the contract says. `fields` names every field at fault either way. A schema's
    pre_load may drop keys but should not rewrite values: the type is told apart on the value as sent.
    """
    data = request.args.to_dict() if args is None else dict(args)
    try:
        return schema.load(data, unknown=EXCLUDE)
    except ValidationError as exc:
        fields = exc.normalized_messages()
        unparsable = _unparsable(schema, data, fields)
        if not unparsable:
            raise ValidationFailed(fields) from None
        message = "; ".join(f"{name} {messages[0]}".rstrip(".") for name, messages in unparsable.items())
        raise BadRequest(message + ".", fields=fields) from None


def _unparsable(schema: Schema, data: Mapping, fields: Mapping) -> dict[str, list[str]]:
    """Of the fields at fault, those whose value is not even of the field's type: each is parsed again by a
    copy of its field without validators."""
    out = {}
    for field in schema.load_fields.values():
        name = field.data_key or field.name
        if name not in fields or name not in data:
            continue
        bare = copy.copy(field)
        bare.validators = []
        try:
            bare.deserialize(data[name], name, data)
        except ValidationError as exc:
            out[name] = exc.messages if isinstance(exc.messages, list) else [str(exc.messages)]
    return out
