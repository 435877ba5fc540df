"""Encryption at rest for sensitive columns (Fernet, keys from DATA_ENCRYPTION_KEY), and their key rotation."""

from __future__ import annotations

import base64
import hashlib
import logging
from dataclasses import dataclass, field
from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from flask import current_app
from sqlalchemy import Column, Table, Text, and_, column, select, table, update
from sqlalchemy.types import TypeDecorator

logger = logging.getLogger(__name__)

ROTATE_BATCH = 500  # rows read, re-encrypted and committed per transaction


@lru_cache(maxsize=8)
def _fernets(keys: str) -> tuple[Fernet, ...]:
    """One Fernet per comma-separated key, in order."""
    fernets = []
    for secret in (k.strip() for k in keys.split(",") if k.strip()):
        digest = hashlib.sha256(secret.encode()).digest()
        fernets.append(Fernet(base64.urlsafe_b64encode(digest)))
    return tuple(fernets)


@lru_cache(maxsize=8)
def _fernet(keys: str) -> MultiFernet:
    """A MultiFernet over comma-separated keys: the first encrypts, all decrypt (key rotation)."""
    return MultiFernet(list(_fernets(keys)))


def encrypt(value: str) -> str:
    """Return the token that stores `value` at rest."""
    return _fernet(current_app.config["DATA_ENCRYPTION_KEY"]).encrypt(value.encode()).decode()


def decrypt(token: str) -> str:
    """Return the plain text behind `token`; raises ValueError when no configured key opens it."""
    try:
        return _fernet(current_app.config["DATA_ENCRYPTION_KEY"]).decrypt(token.encode()).decode()
    except InvalidToken:
        raise ValueError("encrypted value cannot be read with the configured DATA_ENCRYPTION_KEY") from None


class EncryptedText(TypeDecorator):
    """A text column stored encrypted; reads and writes plain strings."""

    impl = Text
    cache_ok = True

    def process_bind_param(self, value, dialect):
        return None if value is None else encrypt(value)

    def process_result_value(self, value, dialect):
        return None if value is None else decrypt(value)


def render_migration_type(type_: str, obj, autogen_context):
    """Alembic hook: write EncryptedText columns as plain sa.Text() in generated migrations."""
    if type_ == "type" and isinstance(obj, EncryptedText):
        return "sa.Text()"
    return False


def encrypted_columns() -> list[tuple[Table, Column]]:
    """Every (table, column) stored as EncryptedText, found in the models' metadata (nothing to keep in step)."""
    from .extensions import db

    return [(tbl, col) for tbl in db.metadata.sorted_tables for col in tbl.columns
            if isinstance(col.type, EncryptedText)]


@dataclass
class RotationReport:
    """What `rotate_keys` did, per "table.column": rows re-encrypted, rows already under the first key, and the
    primary keys of rows that no configured key opens (left untouched)."""

    rotated: dict[str, int] = field(default_factory=dict)
    current: dict[str, int] = field(default_factory=dict)
    unreadable: dict[str, list] = field(default_factory=dict)


def rotate_keys(batch: int = ROTATE_BATCH) -> RotationReport:
    """Re-encrypt every encrypted column under DATA_ENCRYPTION_KEY's first key, so older keys can be dropped.

    Reads the stored tokens as plain text (not through EncryptedText), in primary-key order and batches of
    `batch` rows, each committed on its own. A row is written only if its token is unchanged since it was read
    (a concurrent write, already under the first key, wins). Safe to run again, or while the app serves."""
    from .extensions import db

    fernets = _fernets(current_app.config["DATA_ENCRYPTION_KEY"])
    first, every = fernets[0], MultiFernet(list(fernets))
    report = RotationReport()
    for tbl, col in encrypted_columns():
        name = f"{tbl.name}.{col.name}"
        (pk,) = tbl.primary_key.columns  # every table with an encrypted column has a one-column key
        raw = table(tbl.name, column(pk.name), column(col.name, Text))
        key, value = raw.c[pk.name], raw.c[col.name]
        report.rotated[name] = report.current[name] = 0
        after = None
        while True:
            query = select(key, value).where(value.is_not(None)).order_by(key).limit(batch)
            if after is not None:
                query = query.where(key > after)
            rows = db.session.execute(query).all()
            if not rows:
                break
            for row_id, token in rows:
                try:
                    first.decrypt(token.encode())
                except InvalidToken:
                    pass
                else:
                    report.current[name] += 1
                    continue
                try:
                    fresh = every.rotate(token.encode()).decode()
                except InvalidToken:
                    report.unreadable.setdefault(name, []).append(row_id)
                    continue
                done = db.session.execute(update(raw).where(and_(key == row_id, value == token)).values(
                    {col.name: fresh}))
                report.rotated[name] += done.rowcount
            db.session.commit()
            after = rows[-1][0]
        logger.info("keys rotate: %s: %s re-encrypted, %s already current, %s unreadable", name,
                    report.rotated[name], report.current[name], len(report.unreadable.get(name, [])))
    return report
