"""Site-wide HTML routes: home page, uploaded files, the OpenAPI document."""

from __future__ import annotations

from flask import current_app, render_template

from ... import storage
from ...extensions import limiter
from ...openapi import build_spec
from ..listings import services as listings
from ..reviews import services as reviews
from . import bp


@bp.get("/")
def index():
    """Home page: the search bar, the newest stays and the newest reviews."""
    return render_template("main/index.html", featured=listings.latest_listings(8),
                           reviews=reviews.recent_reviews(3))


@bp.get("/uploads/<path:key>")
@limiter.exempt
def uploaded_file(key: str):
    """Serve a stored upload (local backend) or redirect to it (S3)."""
    return storage.local_file_response(key)


@bp.get("/api/openapi.json")
def openapi():
    """The OpenAPI 3 document of the JSON API, built once per process."""
    spec = current_app.extensions.get("abode_openapi")
    if spec is None:
        spec = current_app.extensions["abode_openapi"] = build_spec(current_app)
    return spec
