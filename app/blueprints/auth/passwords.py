"""Password hashing with argon2id at OWASP's recommended parameters."""

from __future__ import annotations

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

# OWASP Password Storage Cheat Sheet: argon2id, m=19 MiB, t=2, p=1.
hasher = PasswordHasher(time_cost=2, memory_cost=19 * 1024, parallelism=1, hash_len=32, salt_len=16, type=Type.ID)

# Verified against when the email is unknown, so both failures take the same time.
_DUMMY_HASH = hasher.hash("not-a-real-password-used-for-timing")


def hash_password(password: str) -> str:
    """Return the argon2id hash of `password`."""
    return hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    """True when `password` matches; spends the same effort when there is no hash."""
    try:
        return hasher.verify(password_hash or _DUMMY_HASH, password) and password_hash is not None
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    """True when the hash was made with weaker parameters than today's."""
    return hasher.check_needs_rehash(password_hash)
