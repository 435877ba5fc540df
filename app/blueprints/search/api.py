"""JSON API for search: GET /api/v1/search."""

from __future__ import annotations

from flask import Response, request

from ...openapi import api_doc
from . import api_bp, schemas, services


@api_bp.get("/search")
@api_doc(summary="Search listings", query=schemas.SearchArgsSchema, response=schemas.SearchPageSchema,
         errors=(400, 422))
def search():
    """With dates, only listings free for every night and within their min/max nights; prices shown in `currency`."""
    args = request.args.to_dict()  # a plain dict: a missing key costs no exception, as MultiDict.get's does
    return Response(services.search_json(services.parse_search(args)), mimetype="application/json")
