"""Notification schemas: the contract's Notification, as the list, the stream and the read answer show it."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from ...models import NOTIFICATION_TYPES
from ...schemas import PageArgsSchema, PageSchema, Timestamp


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


class QueryBoolean(fields.Boolean):
    """`true` or `false` in a query string, nothing else ("1", "yes", "TRUE" are refused)."""

    default_error_messages = {"invalid": "must be true or false"}

    def _deserialize(self, value, attr, data, **kwargs) -> bool:
        if value not in ("true", "false"):
            raise self.make_error("invalid")
        return value == "true"


class NotificationListArgsSchema(PageArgsSchema):
    """`unread=true` keeps the unread notifications, `unread=false` the read ones; page and per_page."""

    unread = QueryBoolean(metadata={"description": "true: only unread; false: only read; absent: all"})


class StreamArgsSchema(Schema):
    """`last_event_id`: resume after this notification id (for EventSource, which cannot send the
    Last-Event-ID header on its first connection; the header wins when both are sent)."""

    last_event_id = fields.Integer(validate=validate.Range(min=0, max=2**63 - 1))
