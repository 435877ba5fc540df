"""Discovery endpoints under /api/v1: health, amenities, currencies."""

from __future__ import annotations

from marshmallow import Schema, fields

from ... import money
from ...extensions import limiter
from ...openapi import api_doc
from ..listings import services as listings
from . import api_bp, services


class HealthSchema(Schema):
    status = fields.String()
    database = fields.String()
    cache = fields.String()
    redis = fields.String(metadata={"description": "ok, error, or not_configured (no REDIS_URL)"})


class AmenitySchema(Schema):
    code = fields.String()
    name = fields.String()


class CurrencySchema(Schema):
    code = fields.String()
    minor_units = fields.Integer()


@api_bp.get("/health")
@limiter.exempt
@api_doc(summary="Health of the app, its database and its cache", response=HealthSchema, errors=(503,))
def health():
    """200 when the database answers, 503 when it does not; the cache and Redis are reported, not required."""
    database, cache, redis = services.check_database(), services.check_cache(), services.check_redis()
    healthy = cache and redis in (None, "ok")
    body = {"status": "ok" if database and healthy else ("degraded" if database else "down"),
            "database": "ok" if database else "error", "cache": "ok" if cache else "error",
            "redis": redis or "not_configured"}
    return body, 200 if database else 503


@api_bp.get("/amenities")
@api_doc(summary="The amenity catalogue", response=AmenitySchema(many=True))
def list_amenities():
    """Codes to use in listings and search filters."""
    return [{"code": a.code, "name": a.name} for a in listings.list_amenities()]


@api_bp.get("/currencies")
@api_doc(summary="Supported currencies and their minor units", response=CurrencySchema(many=True))
def list_currencies():
    """Amounts are integers in each currency's minor unit."""
    return money.currency_list()
