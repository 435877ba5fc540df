"""The OpenAPI 3 document, generated from the url map and the schemas each API view declares with @api_doc."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable

from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin
from flask import Flask
from marshmallow import Schema, fields

from .errors import HTTP_CODES

_PATH_PARAM = re.compile(r"<(?:(?P<conv>[^:<>]+):)?(?P<name>[^<>]+)>")


class ErrorDetailSchema(Schema):
    code = fields.String(required=True)
    message = fields.String(required=True)
    fields_ = fields.Dict(keys=fields.String(), values=fields.List(fields.String()), data_key="fields")
    request_id = fields.String()


class ErrorSchema(Schema):
    """The contract's error body."""

    error = fields.Nested(ErrorDetailSchema, required=True)


def api_doc(*, summary: str, body: type[Schema] | None = None, query: type[Schema] | None = None,
            response: type[Schema] | dict | None = None, status: int = 200, errors: Iterable[int] = (),
            multipart: dict[str, str] | None = None, tags: Iterable[str] = (),
            media_type: str = "application/json") -> Callable:
    """Describe an API view: request body/query schema, success response (of `media_type`) and error statuses."""

    def decorator(view: Callable) -> Callable:
        view.openapi = {"summary": summary, "body": body, "query": query, "response": response, "status": status,
                        "errors": tuple(errors), "multipart": multipart, "tags": tuple(tags),
                        "media_type": media_type}
        return view

    return decorator


def _operation(doc: dict, view: Callable, tag: str) -> dict:
    op: dict = {"summary": doc["summary"], "tags": list(doc["tags"]) or [tag], "responses": {}}
    if view.__doc__:
        op["description"] = view.__doc__.strip()
    if getattr(view, "requires_auth", False):
        op["security"] = [{"bearerAuth": []}]
    if doc["query"]:
        op["parameters"] = [{"in": "query", "schema": doc["query"]}]
    if doc["body"]:
        op["requestBody"] = {"required": True, "content": {"application/json": {"schema": doc["body"]}}}
    if doc["multipart"]:
        props = {name: {"type": "string", "format": "binary", "description": text}
                 for name, text in doc["multipart"].items()}
        op["requestBody"] = {"required": True, "content": {"multipart/form-data": {
            "schema": {"type": "object", "properties": props, "required": list(props)}}}}
    response = doc["response"]
    ok: dict = {"description": "Success"}
    if response is not None:
        ok["content"] = {doc.get("media_type", "application/json"): {"schema": response}}
    op["responses"][str(doc["status"])] = ok
    statuses = set(doc["errors"]) | {500}
    if getattr(view, "requires_auth", False):
        statuses |= {401}
    if doc["body"]:
        statuses |= {400, 422}
    for status in sorted(statuses):
        op["responses"][str(status)] = {"description": HTTP_CODES.get(status, "error"), "content": {
            "application/json": {"schema": "Error"}}}
    return op


def build_spec(app: Flask) -> dict:
    """Return the OpenAPI document for every /api/ route of `app`."""
    spec = APISpec(title="Abode API", version="1.0.0", openapi_version="3.0.3", plugins=[MarshmallowPlugin()],
                   info={"description": "Abode's JSON API; described route by route in docs/api.md."})
    spec.components.schema("Error", schema=ErrorSchema)
    spec.components.security_scheme("bearerAuth", {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"})
    paths: dict[str, dict] = {}
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        if not rule.rule.startswith("/api/"):
            continue
        view = app.view_functions[rule.endpoint]
        doc = getattr(view, "openapi", None) or {"summary": (view.__doc__ or rule.endpoint).strip().splitlines()[0],
                                                  "body": None, "query": None, "response": None, "status": 200,
                                                  "errors": (), "multipart": None, "tags": ()}
        path = _PATH_PARAM.sub(lambda m: "{" + m.group("name") + "}", rule.rule)
        entry = paths.setdefault(path, {"operations": {}, "parameters": []})
        for match in _PATH_PARAM.finditer(rule.rule):
            kind = "integer" if match.group("conv") == "int" else "string"
            param = {"in": "path", "name": match.group("name"), "required": True, "schema": {"type": kind}}
            if param not in entry["parameters"]:
                entry["parameters"].append(param)
        tag = rule.endpoint.split(".")[0].removesuffix("_api")
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            entry["operations"][method.lower()] = _operation(doc, view, tag)
    for path, entry in paths.items():
        spec.path(path=path, operations=entry["operations"], parameters=entry["parameters"] or None)
    return spec.to_dict()
