"""Ids in URL paths: `<int:...>` matches any path segment, so a route answers for every value of its ids.

An integer that no row can have (0, negative, above the INT column's 2,147,483,647, or beyond 64 bits) is
`404 not_found`; anything else (`abc`, `1.5`, `+3`) is `422 validation_error` naming the id on /api/ routes,
and 404 on pages. Werkzeug's own `int` converter refused both while matching, so the request
fell through to a sibling rule of another method and answered an undocumented 405.
"""

from __future__ import annotations

import re

from flask import has_request_context
from werkzeug.exceptions import NotFound
from werkzeug.routing import BaseConverter, Rule

from .errors import InvalidPathValue, is_api_request

MAX_ID = 2**31 - 1
_INTEGER = re.compile(r"-?[0-9]+")


class IdRule(Rule):
    """A Rule whose converters know the name of the argument they convert (for the 422's `fields`)."""

    def get_converter(self, variable_name, converter_name, args, kwargs):
        converter = super().get_converter(variable_name, converter_name, args, kwargs)
        converter.argument = variable_name
        return converter


class IdConverter(BaseConverter):
    """`<int:name>`: an id from 1 to MAX_ID; see the module's docstring for every other value."""

    regex = r"[^/]+"
    weight = 50  # werkzeug's IntegerConverter's: a static segment still wins over it
    part_isolating = True
    argument = "id"

    def to_python(self, value: str) -> int:
        if not _INTEGER.fullmatch(value):
            if has_request_context() and is_api_request():
                raise InvalidPathValue(self.argument, "Not a valid integer.")
            raise NotFound()  # a page (not ValidationError: that would try a sibling rule's method, a 405)
        number = int(value)
        if not 1 <= number <= MAX_ID:
            raise NotFound(f"No {self.argument} {value} exists.")
        return number

    def to_url(self, value) -> str:
        return str(int(value))
