"""JSON API for search: GET /api/v1/search."""

from __future__ import annotations

from flask import Response

from ...openapi import api_doc
from ...rate_limits import search_limit
from ...validation import load_query
from . import api_bp, schemas, services

ARGS = schemas.SearchArgsSchema()  # one instance: a load keeps no state on it, and building one is not free


@api_bp.get("/search")
@search_limit
@api_doc(summary="Search listings", query=schemas.SearchArgsSchema, response=schemas.SearchPageSchema,
         errors=(400, 422))
def search():
    """With dates, only listings free for every night and within their min/max nights; prices shown in `currency`."""
    args = load_query(ARGS)  # 400 for a value that is not a number or a date, 422 for one out of bounds
    return Response(services.search_json(services.search_query(**args)), mimetype="application/json")
