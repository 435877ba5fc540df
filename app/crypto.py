"""Encryption at rest for sensitive columns (Fernet, keys from DATA_ENCRYPTION_KEY)."""

from __future__ import annotations

import base64
import hashlib
from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from flask import current_app
from sqlalchemy import Text
from sqlalchemy.types import TypeDecorator


@lru_cache(maxsize=8)
def _fernet(keys: str) -> MultiFernet:
    """A MultiFernet over comma-separated keys: the first encrypts, all decrypt (key rotation)."""
    fernets = []
    for secret in (k.strip() for k in keys.split(",") if k.strip()):
        digest = hashlib.sha256(secret.encode()).digest()
        fernets.append(Fernet(base64.urlsafe_b64encode(digest)))
    return MultiFernet(fernets)


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
