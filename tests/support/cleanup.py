"""Empty the tables a test wrote to, and the Redis db: a blank Abode for the next test.

One query asks which tables hold a row (an exact EXISTS per table, not InnoDB's estimated TABLE_ROWS), then only
those are emptied, children before parents. Rows written by subprocesses (gunicorn, `flask ...` commands) are
found as well, which tracking the app's own statements would miss.

audit_log refuses DELETE (its triggers, app/models/audit.py), so it is emptied first, the way only the schema's
owner can: TRUNCATE on MariaDB (fires no DELETE trigger), and on SQLite, in one transaction, drop the DELETE
trigger, delete the rows and create the trigger again, so no other connection ever sees the table unguarded."""

from __future__ import annotations

import logging

from sqlalchemy import Connection, Table, exists, literal, select, union_all

from app.extensions import db
from app.models import AuditEntry
from app.models.audit import IMMUTABLE_TRIGGERS
from app.redis_client import get_redis

logger = logging.getLogger(__name__)

KEEP_TABLES = frozenset({"amenities"})  # reference data, loaded once per run like the migration does
GUARDED = AuditEntry.__table__  # rows the app may never delete


def tables_with_rows(conn: Connection, tables: list[Table]) -> list[Table]:
    """The tables among `tables` that hold at least one row, in the order given (one round trip)."""
    if not tables:
        return []
    probes = [select(literal(index).label("i")).where(exists().select_from(table))
              for index, table in enumerate(tables)]
    found = set(conn.execute(union_all(*probes)).scalars())
    return [table for index, table in enumerate(tables) if index in found]


def empty_audit_log() -> None:
    """Remove every audit_log row past its triggers (see the module's docstring)."""
    if db.engine.dialect.name != "sqlite":
        with db.engine.connect() as conn:
            conn.exec_driver_sql(f"TRUNCATE TABLE {GUARDED.name}")
        return
    name, create = next((name, sql) for name, sql in IMMUTABLE_TRIGGERS["sqlite"] if name.endswith("_delete"))
    raw = db.engine.raw_connection()
    try:  # executescript runs the script as written: BEGIN ... COMMIT is one transaction, DDL included
        raw.driver_connection.executescript(
            f"BEGIN IMMEDIATE; DROP TRIGGER {name}; DELETE FROM {GUARDED.name}; {create}; COMMIT;")
    finally:
        raw.close()


def empty_tables(keep: frozenset[str] = KEEP_TABLES) -> None:
    """Delete every row of every table but `keep`, and flush the app's Redis db (an app context is pushed)."""
    db.session.remove()
    tables = [table for table in reversed(db.metadata.sorted_tables) if table.name not in keep]
    with db.engine.connect() as conn:
        written = tables_with_rows(conn, tables)
    if GUARDED in written:
        empty_audit_log()  # before the users its rows refer to
    with db.engine.begin() as conn:
        for table in written:
            if table is not GUARDED:
                conn.execute(table.delete())
    logger.debug("emptied %s", [table.name for table in written])
    if (client := get_redis()) is not None:
        client.flushdb()
