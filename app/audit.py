"""The audit log: `record()` adds one AuditEntry for an admin change to the transaction making it.

Every feature's service that an admin can drive (suspend a user, hide a review, cancel a booking, refund...)
calls record() before it commits, so a change and its entry commit together or not at all, and a change a rule
refuses writes nothing. The request id and client address come from the request when there is one.
"""

from __future__ import annotations

import logging
from datetime import date, datetime
from decimal import Decimal

from flask import g, has_request_context, request

from .extensions import db
from .models import AuditEntry, User, utcnow

logger = logging.getLogger(__name__)


def _plain(value: object) -> object:
    """A JSON-safe copy of a before/after value (dates as ISO text, decimals as text)."""
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value


def record(actor: User | None, action: str, target_type: str, target_id: int | None,
           changes: dict[str, tuple[object, object]] | None = None) -> AuditEntry:
    """Add the entry for `actor` doing `action` to `target_type` #`target_id`; `changes` maps each changed field
    to (before, after). Never commits: the caller's commit carries it with the change."""
    entry = AuditEntry(actor_id=actor.id if actor is not None else None, action=action, target_type=target_type,
                       target_id=target_id, created_at=utcnow(),
                       changes={name: [_plain(before), _plain(after)]
                                for name, (before, after) in (changes or {}).items()},
                       request_id=g.get("request_id") if has_request_context() else None,
                       ip_address=(request.remote_addr or None) if has_request_context() else None)
    db.session.add(entry)
    logger.info("audit: user %s %s %s %s", entry.actor_id, action, target_type, target_id)
    return entry
