"""The admin aggregate's record: one row per admin change, written with the change and never changed after.

The database itself holds the "never": triggers refuse every UPDATE and DELETE of audit_log (migration 0014
creates them; so does create_all, through the DDL listeners below, so the tests' schema has them too)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DDL, JSON, ForeignKey, Index, Integer, String, event
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .base import utcnow


class AuditEntry(db.Model):
    """Who changed what, when and from where: `changes` is {field: [before, after]}. Written by app/audit.py in
    the transaction of the change it records; nothing in the app updates or deletes a row."""

    __tablename__ = "audit_log"
    __table_args__ = (
        Index("ix_audit_log_target", "target_type", "target_id"),
        Index("ix_audit_log_actor_created", "actor_id", "created_at"),
        Index("ix_audit_log_action_created", "action", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))  # None: the command line
    action: Mapped[str] = mapped_column(String(50), nullable=False)
    target_type: Mapped[str] = mapped_column(String(30), nullable=False)
    target_id: Mapped[int | None] = mapped_column(Integer)
    changes: Mapped[dict] = mapped_column(JSON, nullable=False, default=dict)
    request_id: Mapped[str | None] = mapped_column(String(64))
    ip_address: Mapped[str | None] = mapped_column(String(45))
    created_at: Mapped[datetime] = mapped_column(default=utcnow, nullable=False, index=True)

    actor = relationship("User", lazy="joined")


REFUSED = "audit_log rows cannot be changed or deleted"
# (trigger name, statement) per back end. MariaDB/MySQL: SIGNAL SQLSTATE '45000' fails the statement (error 1644);
# SQLite: RAISE(ABORT) fails it and undoes its changes. Migration 0014 holds its own copy of these statements.
IMMUTABLE_TRIGGERS = {
    "mysql": [(f"audit_log_no_{verb.lower()}",
               f"CREATE TRIGGER audit_log_no_{verb.lower()} BEFORE {verb} ON audit_log FOR EACH ROW "
               f"SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = '{REFUSED}'") for verb in ("UPDATE", "DELETE")],
    "sqlite": [(f"audit_log_no_{verb.lower()}",
                f"CREATE TRIGGER audit_log_no_{verb.lower()} BEFORE {verb} ON audit_log "
                f"BEGIN SELECT RAISE(ABORT, '{REFUSED}'); END") for verb in ("UPDATE", "DELETE")],
}
for _dialects, _backend in ((("mysql", "mariadb"), "mysql"), (("sqlite",), "sqlite")):
    for _name, _statement in IMMUTABLE_TRIGGERS[_backend]:
        event.listen(AuditEntry.__table__, "after_create", DDL(_statement).execute_if(dialect=_dialects))
