"""Administration schemas: the lists' filters (strict: an unknown parameter is 422), the items admins see (other
features' own shapes, minus secrets), the PATCH body and the figures of /admin/stats."""

from __future__ import annotations

from flask import request
from marshmallow import Schema, ValidationError, fields, pre_load, validate, validates_schema

from ...errors import ValidationFailed
from ...models import BOOKING_STATUSES, PAYMENT_STATUSES, ROLES, User
from ...models.listing import COUNTED_STATUSES, LISTING_STATUSES
from ...money import CURRENCIES
from ...payment_providers import PROVIDERS
from ...schemas import IsoDate, PageSchema, PublicUserSchema, StrictBoolean, Timestamp
from ...validation import json_object, load_data, load_query
from ..auth.schemas import UserSchema
from ..payments.schemas import PaymentSchema

_ID = {"validate": validate.Range(1, 2**31 - 1, error="must be an id from 1 to 2147483647"),
       "error_messages": {"invalid": "must be a whole number"}}
PAGE_PARAMS = ("page", "per_page")


def _choice(options) -> validate.OneOf:
    return validate.OneOf(sorted(options), error=f"choose one of {', '.join(sorted(options))}")


class FilterSchema(Schema):
    """A list's query: blank values count as absent; `page`/`per_page` are read by pagination.page_args."""

    page = fields.Integer(load_only=True)
    per_page = fields.Integer(load_only=True)
    date_range: tuple[str, str] | None = None  # (from, to) field names: to must be after from

    @pre_load
    def _drop_blanks(self, data: dict, **_kw) -> dict:
        return {key: value for key, value in data.items() if value != ""}

    @validates_schema
    def _range(self, data: dict, **_kw) -> None:
        if self.date_range is None:
            return
        start, end = self.date_range
        low, high = data.get(start), data.get(end)
        if low is not None and high is not None and high <= low:
            raise ValidationError(f"must be after {self.fields[start].data_key or start}",
                                  self.fields[end].data_key or end)


class UserFilterSchema(FilterSchema):
    q = fields.String(validate=validate.Length(max=255), metadata={"description": "email or name contains"})
    role = fields.String(validate=_choice(ROLES))
    is_active = fields.Boolean()
    created_from = IsoDate(metadata={"description": "joined on or after (YYYY-MM-DD)"})
    created_to = IsoDate(metadata={"description": "joined before (YYYY-MM-DD, exclusive)"})
    date_range = ("created_from", "created_to")


class PropertyFilterSchema(FilterSchema):
    city = fields.String(validate=validate.Length(max=120))
    host_id = fields.Integer(**_ID)
    status = fields.String(validate=_choice(LISTING_STATUSES))


class BookingFilterSchema(FilterSchema):
    status = fields.String(validate=_choice(BOOKING_STATUSES))
    listing_id = fields.Integer(data_key="property_id", **_ID)
    guest_id = fields.Integer(**_ID)
    check_in_from = IsoDate(metadata={"description": "check-in on or after"})
    check_in_to = IsoDate(metadata={"description": "check-in before (exclusive)"})
    date_range = ("check_in_from", "check_in_to")


class PaymentFilterSchema(FilterSchema):
    status = fields.String(validate=_choice(PAYMENT_STATUSES))
    provider = fields.String(validate=_choice(PROVIDERS))
    currency = fields.String(validate=_choice(CURRENCIES))
    booking_id = fields.Integer(**_ID)


class AuditFilterSchema(FilterSchema):
    actor_id = fields.Integer(**_ID)
    action = fields.String(validate=validate.Length(max=50))
    target_type = fields.String(validate=validate.Length(max=30))
    target_id = fields.Integer(**_ID)
    from_ = IsoDate(data_key="from", attribute="from_", metadata={"description": "on or after (YYYY-MM-DD)"})
    to = IsoDate(metadata={"description": "before (YYYY-MM-DD, exclusive)"})
    date_range = ("from_", "to")


def load_filters(schema: FilterSchema) -> dict:
    """The request's filters loaded by `schema`, without the page arguments. Raises ValidationFailed (422) naming
    each parameter the list does not know, then load_query's errors (400 unparsable, 422 invalid)."""
    known = {field.data_key or name for name, field in schema.load_fields.items()}
    unknown = sorted(set(request.args) - known)
    if unknown:
        raise ValidationFailed({name: ["unknown parameter"] for name in unknown})
    data = load_query(schema)
    return {name: value for name, value in data.items() if name not in PAGE_PARAMS}


def mask_phone(phone: str | None) -> str | None:
    """A phone number with every digit but the last two hidden (`+44 20 7946 0958` → `+** ** **** **58`)."""
    if not phone:
        return phone
    digits = sum(char.isdigit() for char in phone)
    seen, out = 0, []
    for char in phone:
        if char.isdigit():
            seen += 1
            out.append(char if seen > digits - 2 else "*")
        else:
            out.append(char)
    return "".join(out)


class AdminUserSchema(UserSchema):
    """The User as admins see it in lists: the profile's shape (role, is_active, created_at), phone masked."""

    phone = fields.Method("_phone", allow_none=True, metadata={"type": "string", "description": "masked"})

    def _phone(self, user: User) -> str | None:
        return mask_phone(user.phone)


class AdminPaymentSchema(PaymentSchema):
    """The Payment without the guest's client_secret."""

    class Meta:
        exclude = ("client_secret",)


class AuditEntrySchema(Schema):
    """One audit row: `changes` is {field: [before, after]}; `actor` null for the command line."""

    id = fields.Integer()
    actor = fields.Nested(PublicUserSchema, allow_none=True)
    action = fields.String()
    target_type = fields.String()
    target_id = fields.Integer(allow_none=True)
    changes = fields.Dict(keys=fields.String(), values=fields.List(fields.Raw()))
    request_id = fields.String(allow_none=True)
    created_at = Timestamp()


class AdminUserPageSchema(PageSchema):
    items = fields.List(fields.Nested(AdminUserSchema))


class AdminPaymentPageSchema(PageSchema):
    items = fields.List(fields.Nested(AdminPaymentSchema))


class AuditPageSchema(PageSchema):
    items = fields.List(fields.Nested(AuditEntrySchema))


class UserPatchSchema(Schema):
    """PATCH /admin/users/{id}: only `is_active`, a JSON boolean."""

    is_active = StrictBoolean(required=True, error_messages={"invalid": "must be true or false",
                                                              "null": "must be true or false"})


def load_user_patch() -> bool:
    """The PATCH body's is_active. Raises ValidationFailed naming any other key, or a missing or non-bool value."""
    body = json_object()
    unknown = sorted(str(key) for key in body if key not in UserPatchSchema().fields)
    if unknown:
        raise ValidationFailed({key: ["unknown field: only is_active can be changed"] for key in unknown})
    return load_data(UserPatchSchema(), body)["is_active"]


class RevenueSchema(Schema):
    """One currency's money, in its minor unit."""

    currency = fields.String()
    charged = fields.Integer()
    refunded = fields.Integer()
    service_fees = fields.Integer()
    paid_out = fields.Integer()


class StatsSchema(Schema):
    """The contract's figures: users by role, properties and bookings by status, revenue per currency. Properties
    has exactly the contract's keys, active and deleted: an unpublished listing is in neither."""

    users = fields.Nested(Schema.from_dict({role: fields.Integer() for role in ROLES}, name="UsersByRole"))
    properties = fields.Nested(Schema.from_dict({status: fields.Integer() for status in COUNTED_STATUSES},
                                                name="PropertiesByStatus"))
    bookings = fields.Nested(Schema.from_dict({status: fields.Integer() for status in BOOKING_STATUSES},
                                              name="BookingsByStatus"))
    revenue = fields.List(fields.Nested(RevenueSchema))
