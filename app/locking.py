"""Row locks that hold on every back end: what a writer reads after taking one is what the last writer committed.

On MariaDB a locking read (`SELECT ... FOR UPDATE`) takes the row's write lock until the transaction ends. SQLite
has no row locks and drops FOR UPDATE; worse, pysqlite begins a transaction only at the first write, so two
writers could both read, both decide and both write. There the lock is taken as SQLite's own write lock on the
database, by a write that changes nothing, before the read: writers queue behind it as they would behind a row
lock (more coarsely: it is the embedded, one-process default).
"""

from __future__ import annotations

from typing import TypeVar

from sqlalchemy import select, text

from .extensions import db

Model = TypeVar("Model")


def locked(model: type[Model], row_id: int) -> Model | None:
    """The row `row_id` of `model` re-read under its write lock (until the transaction ends), or None."""
    if db.session.get_bind().dialect.name == "sqlite":
        table = model.__table__.name
        # The table name is the model's own, never input.
        db.session.execute(text(f"UPDATE {table} SET id = id WHERE id = :id"), {"id": row_id})  # noqa: S608  # nosec B608
    return db.session.scalars(select(model).where(model.id == row_id).with_for_update()
                              .execution_options(populate_existing=True)).one_or_none()
