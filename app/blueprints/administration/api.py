"""JSON API for admins: /api/v1/admin lists, suspension, figures and the audit log (anyone else: 403)."""

from __future__ import annotations

from flask import request
from flask_jwt_extended import get_current_user

from ...authz import admin_required
from ...openapi import api_doc
from ...pagination import page_args
from ..bookings.schemas import BookingPageSchema, BookingSchema
from ..listings.schemas import ListingPageSchema, ListingSchema
from . import api_bp, queries, schemas, services

_LIST_ERRORS = (400, 403, 422)


def _page(schema: schemas.FilterSchema, lister, item_schema) -> dict:
    """One page of `lister` filtered by the request's query (`schema`), its items dumped by `item_schema`."""
    filters = schemas.load_filters(schema)
    page, per_page = page_args(request.args)
    return lister(page, per_page, **filters).to_dict(item_schema.dump)


@api_bp.get("/admin/users")
@admin_required
@api_doc(summary="Every account (admins)", query=schemas.UserFilterSchema, response=schemas.AdminUserPageSchema,
         errors=_LIST_ERRORS)
def list_users():
    """Newest first; `q` is found in the email or the name; phones are masked. An unknown parameter is 422."""
    return _page(schemas.UserFilterSchema(), queries.list_users, schemas.AdminUserSchema())


@api_bp.patch("/admin/users/<int:user_id>")
@admin_required
@api_doc(summary="Suspend or reinstate an account (admins)", body=schemas.UserPatchSchema,
         response=schemas.AdminUserSchema, errors=(403, 404, 409))
def update_user(user_id: int):
    """Only `is_active`; any other key is 422. A suspended user's tokens are refused (403 account_suspended) at
    once. 409 `conflict` for suspending oneself or the last active admin. Audited."""
    active = schemas.load_user_patch()
    return schemas.AdminUserSchema().dump(services.set_user_active(user_id, active, actor=get_current_user()))


@api_bp.get("/admin/properties")
@admin_required
@api_doc(summary="Every listing, deleted ones included (admins)", query=schemas.PropertyFilterSchema,
         response=ListingPageSchema, errors=_LIST_ERRORS)
def list_properties():
    """Newest first; `city` is the whole city name, in any case."""
    return _page(schemas.PropertyFilterSchema(), queries.list_properties, ListingSchema())


@api_bp.get("/admin/bookings")
@admin_required
@api_doc(summary="Every booking (admins)", query=schemas.BookingFilterSchema, response=BookingPageSchema,
         errors=_LIST_ERRORS)
def list_bookings():
    """Newest first; `check_in_from` inclusive, `check_in_to` exclusive."""
    return _page(schemas.BookingFilterSchema(), queries.list_bookings, BookingSchema())


@api_bp.get("/admin/payments")
@admin_required
@api_doc(summary="Every payment (admins)", query=schemas.PaymentFilterSchema, response=schemas.AdminPaymentPageSchema,
         errors=_LIST_ERRORS)
def list_payments():
    """Newest first; never a client_secret."""
    return _page(schemas.PaymentFilterSchema(), queries.list_payments, schemas.AdminPaymentSchema())


@api_bp.get("/admin/stats")
@admin_required
@api_doc(summary="The marketplace's figures (admins)", response=schemas.StatsSchema, errors=(403,))
def get_stats():
    """Users by role, properties and bookings by status, and per currency the ledger's money (minor units):
    charged, refunded, service fees kept, paid out. Up to 30 seconds old."""
    return schemas.StatsSchema().dump(queries.marketplace_stats())


@api_bp.get("/admin/audit")
@admin_required
@api_doc(summary="The audit log of admin changes (admins)", query=schemas.AuditFilterSchema,
         response=schemas.AuditPageSchema, errors=_LIST_ERRORS)
def list_audit():
    """Newest first; `from` inclusive, `to` exclusive (days, UTC)."""
    return _page(schemas.AuditFilterSchema(), queries.list_audit, schemas.AuditEntrySchema())
