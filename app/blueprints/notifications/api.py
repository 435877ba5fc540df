"""Notification JSON routes under /api/v1 (docs/api.md "Notifications"): the list (with ETags for polling),
marking read, and the live stream."""

from __future__ import annotations

from flask import current_app, request
from flask_jwt_extended import get_current_user, verify_jwt_in_request
from flask_login import current_user

from ...authz import login_required
from ...errors import BadRequest, Unauthorized
from ...openapi import api_doc
from ...pagination import page_args
from ...validation import load_query
from . import api_bp, live, queries, schemas, services
from .stream import open_stream


@api_bp.get("/notifications")
@login_required
@api_doc(summary="The caller's notifications, newest first", query=schemas.NotificationListArgsSchema,
         response=schemas.NotificationPageSchema, errors=(400, 422))
def list_notifications():
    """`unread=true` for the unread ones only. Answers a strong `ETag`; send it back as `If-None-Match` to get
    304 Not Modified until a notification arrives or one is read."""
    args = load_query(schemas.NotificationListArgsSchema())
    page, per_page = page_args(request.args)
    user = get_current_user()
    etag = queries.list_version(user, args.get("unread"), page, per_page)
    if request.if_none_match.contains(etag):
        return "", 304, {"ETag": f'"{etag}"', "Cache-Control": "private, no-cache"}
    result = queries.list_notifications(user, unread=args.get("unread"), page=page, per_page=per_page)
    return result.to_dict(schemas.dump_notification), 200, {"ETag": f'"{etag}"',
                                                             "Cache-Control": "private, no-cache"}


@api_bp.post("/notifications/<int:notification_id>/read")
@login_required
@api_doc(summary="Mark one notification read", response=schemas.NotificationSchema, errors=(404,))
def read_notification(notification_id: int):
    """Idempotent: reading it again keeps the first read time. Another user's notification is 404."""
    return schemas.dump_notification(services.mark_read(get_current_user(), notification_id))


@api_bp.post("/notifications/read-all")
@login_required
@api_doc(summary="Mark every notification of the caller read", status=204)
def read_all_notifications():
    """Answers 204 whether or not anything was unread."""
    services.mark_all_read(get_current_user())
    return "", 204


def _stream_user_id() -> int:
    """The caller by Bearer token, or else by the browser's session cookie (EventSource sends no headers).
    Raises Unauthorized (or the token's own 401) without either."""
    if request.headers.get("Authorization"):
        verify_jwt_in_request()
        return get_current_user().id
    if current_user.is_authenticated:
        return current_user.id
    raise Unauthorized("Sign in first: send a Bearer token, or open the stream from a signed-in browser.")


def _last_event_id() -> int | None:
    """Last-Event-ID (sent by EventSource when it reconnects), else the `last_event_id` query parameter.
    Raises BadRequest for an id that is not a whole number."""
    args = load_query(schemas.StreamArgsSchema())
    header = request.headers.get("Last-Event-ID", "").strip()
    if not header:
        return args.get("last_event_id")
    if not header.isascii() or not header.isdigit() or len(header) > 18:
        raise BadRequest("Last-Event-ID must be a notification id.", fields={"Last-Event-ID": ["not an id"]})
    return int(header)


@api_bp.get("/notifications/stream")
@api_doc(summary="Live stream of the caller's new notifications (text/event-stream)",
         query=schemas.StreamArgsSchema, response={"type": "string"}, media_type="text/event-stream",
         errors=(400, 422, 503))
def stream_notifications():
    """Server-sent events: `id:` the notification id, `data:` its JSON; `Last-Event-ID` (or `last_event_id`)
    resumes with what was missed, oldest first. Bearer token or the browser's session cookie. A heartbeat
    comment keeps idle streams open; the server ends a stream after a while and the client reconnects.
    503 with Retry-After when this server holds as many streams as it may."""
    user_id = _stream_user_id()
    last_event_id = _last_event_id()
    return open_stream(current_app._get_current_object(), live.hub(), user_id, last_event_id)


stream_notifications.requires_auth = True  # for the OpenAPI document: 401 without a token or a session
