"""The OpenAPI 3 document, generated from the url map and the schemas each API view declares with @api_doc."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping

from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin
from flask import Flask
from marshmallow import EXCLUDE, Schema, ValidationError, fields

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
            media_type: str = "application/json", links: Mapping[str, dict] | None = None) -> Callable:
    """Describe an API view: request body/query schema, success response (of `media_type`) and error statuses.

    `links`: OpenAPI links from the success answer to other operations beyond the ones build_spec derives (a
    created resource to its own routes), as {name: {"operationId": ..., "parameters"/"requestBody": ...}}; an
    operation's id is its endpoint (`listings_api.get_listing`), with `_<method>` when its rule has several.
    """

    def decorator(view: Callable) -> Callable:
        view.openapi = {"summary": summary, "body": body, "query": query, "response": response, "status": status,
                        "errors": tuple(errors), "multipart": multipart, "tags": tuple(tags),
                        "media_type": media_type, "links": dict(links or {})}
        return view

    return decorator


def first_item_links(param: str, *operation_ids: str) -> dict[str, dict]:
    """@api_doc links from a list's answer to operations on its first item (`param` is `items[0].id`)."""
    return {_link_name(op_id): {"operationId": op_id, "parameters": {param: "$response.body#/items/0/id"}}
            for op_id in operation_ids}


def _operation(doc: dict, view: Callable, tag: str, path_params: bool) -> dict:
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
        statuses |= {401, 403}  # 403 account_suspended for a suspended user's token, on every such route
    if path_params:
        statuses |= {404, 422}  # an id that names nothing; a path id that is not an integer (app/routing.py)
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
    links: dict[str, tuple[str, str, str, dict]] = {}  # operationId: (path, method, success status, declared links)
    pages: set[str] = set()  # operationIds of list routes (a page of `items`)
    queries: dict[str, type[Schema] | None] = {}  # operationId: its query schema
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        if not rule.rule.startswith("/api/"):
            continue
        view = app.view_functions[rule.endpoint]
        doc = getattr(view, "openapi", None) or {"summary": (view.__doc__ or rule.endpoint).strip().splitlines()[0],
                                                  "body": None, "query": None, "response": None, "status": 200,
                                                  "errors": (), "multipart": None, "tags": (), "links": {}}
        path = _PATH_PARAM.sub(lambda m: "{" + m.group("name") + "}", rule.rule)
        entry = paths.setdefault(path, {"operations": {}, "parameters": []})
        for match in _PATH_PARAM.finditer(rule.rule):
            param = {"in": "path", "name": match.group("name"), "required": True, "schema": {"type": "string"}}
            if match.group("conv") == "int":
                param["schema"] = {"type": "integer"}
                param["description"] = "Any integer; one that names nothing is 404, a value that is not one 422."
            if param not in entry["parameters"]:
                entry["parameters"].append(param)
        tag = rule.endpoint.split(".")[0].removesuffix("_api")
        methods = sorted(rule.methods - {"HEAD", "OPTIONS"})
        for method in methods:
            op = _operation(doc, view, tag, path_params="<" in rule.rule)
            op["operationId"] = rule.endpoint if len(methods) == 1 else f"{rule.endpoint}_{method.lower()}"
            entry["operations"][method.lower()] = op
            links[op["operationId"]] = (path, method.lower(), str(doc["status"]), doc["links"])
            queries[op["operationId"]] = doc["query"]
            if method == "GET" and {"items", "total"} <= set(getattr(doc["response"], "_declared_fields", {})):
                pages.add(op["operationId"])
    _add_links(paths, links, pages)
    for path, entry in paths.items():
        spec.path(path=path, operations=entry["operations"], parameters=entry["parameters"] or None)
    document = spec.to_dict()
    _exact(document, app, queries)
    return document


def _add_links(paths: dict[str, dict], operations: dict[str, tuple[str, str, str, dict]], pages: set[str]) -> None:
    """Put each operation's links on its success answer, so a stateful client (or fuzzer) can follow a created
    resource: a 201 answer links to every operation under its path plus one id (`POST /properties` to
    `GET/PATCH/DELETE /properties/{listing_id}`, `PUT .../availability`...), the new id taken from the answer's
    `id` and the other ids from the request's path; a list's 200 the same way from its first item
    (`GET /bookings` to `GET /bookings/{booking_id}`...); plus the links a view declares with @api_doc(links=...)."""
    by_path = {path: entry["operations"] for path, entry in paths.items()}
    for op_id, (path, method, status, declared) in operations.items():
        op = by_path[path][method]
        found: dict[str, dict] = {}
        source = "$response.body#/id" if status == "201" else "$response.body#/items/0/id"
        if status == "201" or op_id in pages:
            for other_path, other_ops in by_path.items():
                rest = other_path.removeprefix(path + "/")
                new = _PATH_PARAM_DOC.match(rest) if rest != other_path else None
                if not new or "{" in rest[new.end():]:
                    continue
                params = {name: f"$request.path.{name}" for name in _PATH_PARAM_DOC.findall(path)}
                params[new.group(1)] = source
                for other in other_ops.values():
                    target = other["operationId"]
                    found[_link_name(target)] = {"operationId": target, "parameters": params}
        for name, link in declared.items():
            if link["operationId"] not in operations:
                raise ValueError(f"{op_id}: link {name} to unknown operation {link['operationId']}")
            found[name] = link
        if found:
            op["responses"][status]["links"] = found


_PATH_PARAM_DOC = re.compile(r"\{([^{}]+)\}")


def _link_name(operation_id: str) -> str:
    """`listings_api.get_listing` -> `GetListing` (a link's name must be a plain identifier)."""
    return "".join(part.capitalize() for part in re.split(r"[._]", operation_id.split(".", 1)[-1]))


def _exact(document: dict, app: Flask, queries: dict[str, type[Schema] | None]) -> None:
    """Make the generated schemas say exactly what validation accepts where apispec cannot tell:

    - a nested object that may be null is that object or null (apispec's second choice was any object);
    - `x-enum-setting: NAME` on a field is the enum of the app's setting NAME (LANGUAGES);
    - a query parameter that its schema loads as absent when empty (`?check_in=`, as a page's form sends it)
      has `allowEmptyValue: true`, found by loading it empty (pagination.page_args reads a blank as absent too).
    """
    for schema in _subschemas(document["components"].get("schemas", {})):
        for choice in schema.get("anyOf", []):
            if choice == {"nullable": True, "type": "object"}:
                choice.pop("type")
                choice["enum"] = [None]
        setting = schema.pop("x-enum-setting", None)
        if setting:
            schema["enum"] = list(app.config[setting])
    for entry in document["paths"].values():
        for op in entry.values():
            query = queries.get(op.get("operationId", "")) if isinstance(op, dict) else None
            for param in op.get("parameters", []) if query else []:
                if param["in"] == "query" and _loads_blank_as_absent(query(), param["name"]):
                    param["allowEmptyValue"] = True


def _subschemas(node: object):
    """Every JSON object inside `node`, depth first."""
    if isinstance(node, dict):
        yield node
        for value in node.values():
            yield from _subschemas(value)
    elif isinstance(node, list):
        for value in node:
            yield from _subschemas(value)


def _loads_blank_as_absent(schema: Schema, name: str) -> bool:
    try:
        loaded = schema.load({name: ""}, unknown=EXCLUDE)
    except ValidationError as exc:
        return name not in exc.messages
    field = next((f for key, f in schema.load_fields.items() if (f.data_key or key) == name), None)
    return field is not None and loaded.get(field.attribute or field.name) in (None, field.load_default)
