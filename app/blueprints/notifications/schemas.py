"""Notification schemas: the contract's Notification, as the list, the stream and the read answer show it."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from ...models import NOTIFICATION_TYPES
from ...schemas import PageSchema, Timestamp


class NotificationSchema(Schema):
    """`{"id", "type", "title", "body", "data", "read_at", "created_at"}`; `data.url` is the page it is about."""

    id = fields.Integer()
    type = fields.String(validate=validate.OneOf(NOTIFICATION_TYPES))
    title = fields.String()
    body = fields.String()
    data = fields.Dict()
    read_at = Timestamp(allow_none=True, metadata={"format": "date-time"})
    created_at = Timestamp(metadata={"format": "date-time"})


class NotificationPageSchema(PageSchema):
    items = fields.List(fields.Nested(NotificationSchema))


def dump_notification(notification) -> dict:
    """The contract's JSON of one notification."""
    return NotificationSchema().dump(notification)
