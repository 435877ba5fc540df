"""Plain builders for test data: each fills defaults, adds, flushes and returns."""

from __future__ import annotations

import itertools

from app.blueprints.auth.passwords import hash_password
from app.extensions import db
from app.models import User

DEFAULT_PASSWORD = "correct-horse-battery"
_counter = itertools.count(1)
_hash_cache: dict[str, str] = {}


def _hash(password: str) -> str:
    # argon2id at OWASP cost takes ~30 ms; one hash per distinct password keeps the suite fast.
    if password not in _hash_cache:
        _hash_cache[password] = hash_password(password)
    return _hash_cache[password]


def make_user(*, email: str | None = None, password: str = DEFAULT_PASSWORD, role: str = "guest",
              name: str | None = None, **kwargs) -> User:
    """A committed user (guest by default) whose password is DEFAULT_PASSWORD."""
    n = next(_counter)
    user = User(email=(email or f"user{n}@example.com").lower(), name=name or f"User {n}", role=role,
                password_hash=_hash(password), **kwargs)
    db.session.add(user)
    db.session.commit()
    return user
