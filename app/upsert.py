"""INSERT, or UPDATE the row already there: one statement on MariaDB (ON DUPLICATE KEY UPDATE) and on SQLite (ON
CONFLICT DO UPDATE), so two writers at once never both insert and one fail on the key."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Table
from sqlalchemy.dialects.mysql import insert as mysql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from .extensions import db


def upsert(table: Table, rows: list[dict], keys: Sequence[str], *, replace: Sequence[str] = (),
           add: Sequence[str] = ()):
    """The statement inserting `rows` into `table`; where a row with the same `keys` exists, its `replace` columns
    take the new values and its `add` columns are increased by them."""
    if db.session.get_bind().dialect.name == "sqlite":
        statement = sqlite_insert(table).values(rows)
        new = statement.excluded
    else:
        statement = mysql_insert(table).values(rows)
        new = statement.inserted
    changes = {name: new[name] for name in replace} | {name: table.c[name] + new[name] for name in add}
    if db.session.get_bind().dialect.name == "sqlite":
        return statement.on_conflict_do_update(index_elements=list(keys), set_=changes)
    return statement.on_duplicate_key_update(changes)
