"""JWT issuing, refresh-token rotation with reuse detection, and revocation (a database blocklist, mirrored in
Redis when configured)."""

from __future__ import annotations

import logging
import time
import uuid
from datetime import UTC, datetime, timedelta

from flask import current_app
from flask_jwt_extended import create_access_token, create_refresh_token
from redis.exceptions import RedisError
from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError

from ...extensions import db
from ...models import PasswordReset, RefreshToken, RevokedToken, User, utcnow
from ...redis_client import get_redis

logger = logging.getLogger(__name__)

BLOCKLIST_PREFIX = "abode:revoked:"


def _jti_key(jti: str) -> str:
    return f"jti:{jti}"


def _family_key(family: str) -> str:
    return f"fam:{family}"


def revoke_keys(keys_ttl: dict[str, int]) -> None:
    """Blocklist each key for its TTL in seconds: always in revoked_tokens (the truth, read while Redis is down),
    and in Redis too when configured (the fast path of every authenticated request)."""
    now = utcnow()
    for key, ttl in keys_ttl.items():
        expires = now + timedelta(seconds=max(int(ttl), 1))
        row = db.session.get(RevokedToken, key)
        if row is not None:
            row.expires_at = max(row.expires_at, expires)
            continue
        try:
            with db.session.begin_nested():  # a concurrent revocation of the same key may insert it first
                db.session.add(RevokedToken(key=key, expires_at=expires))
        except IntegrityError:
            pass
    client = get_redis()
    if client is None:
        return
    try:
        with client.pipeline(transaction=False) as pipe:
            for key, ttl in keys_ttl.items():
                pipe.set(BLOCKLIST_PREFIX + key, "1", ex=max(int(ttl), 1))
            pipe.execute()
    except RedisError as exc:  # the database row still refuses the token, on every process
        logger.warning("token blocklist: Redis unreachable, revocation kept in the database only: %s", exc)


def is_revoked(payload: dict) -> bool:
    """True when the token's jti or its family is on the blocklist (Redis, or the database without it)."""
    keys = [_jti_key(payload["jti"])]
    if payload.get("fam"):
        keys.append(_family_key(payload["fam"]))
    client = get_redis()
    if client is not None:
        try:
            return any(client.mget([BLOCKLIST_PREFIX + k for k in keys]))
        except RedisError as exc:
            logger.warning("token blocklist: Redis unreachable, reading the database: %s", exc)
    found = db.session.scalar(
        select(RevokedToken.key).where(RevokedToken.key.in_(keys), RevokedToken.expires_at > utcnow()).limit(1)
    )
    return found is not None


def issue_tokens(user: User, family: str | None = None) -> dict[str, str]:
    """Create an access/refresh pair in `family` (a new one when None); the caller commits."""
    family = family or str(uuid.uuid4())
    refresh_jti = str(uuid.uuid4())
    expires_at = utcnow() + current_app.config["JWT_REFRESH_TOKEN_EXPIRES"]
    db.session.add(RefreshToken(jti=refresh_jti, family=family, user_id=user.id, expires_at=expires_at))
    identity = str(user.id)
    issued = round(time.time(), 6)  # "iat" has whole seconds; this orders tokens against a same-second suspension
    return {
        "access_token": create_access_token(identity=identity,
                                            additional_claims={"fam": family, "role": user.role, "ts": issued}),
        "refresh_token": create_refresh_token(identity=identity,
                                              additional_claims={"fam": family, "jti": refresh_jti, "ts": issued}),
    }


def consume_refresh_token(jti: str) -> bool:
    """Mark the refresh token used; False when it was used, revoked, expired or unknown (atomic)."""
    now = utcnow()
    result = db.session.execute(
        update(RefreshToken)
        .where(RefreshToken.jti == jti, RefreshToken.used_at.is_(None), RefreshToken.revoked_at.is_(None),
               RefreshToken.expires_at > now)
        .values(used_at=now)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1


def revoke_family(family: str) -> None:
    """Revoke every refresh token of `family` and every access token issued with it; the caller commits."""
    db.session.execute(
        update(RefreshToken)
        .where(RefreshToken.family == family, RefreshToken.revoked_at.is_(None))
        .values(revoked_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    ttl = current_app.config["JWT_REFRESH_TOKEN_EXPIRES"].total_seconds()
    revoke_keys({_family_key(family): ttl})


def revoke_access_token(payload: dict) -> None:
    """Blocklist one token until it would have expired anyway."""
    remaining = payload["exp"] - int(time.time())
    revoke_keys({_jti_key(payload["jti"]): remaining})


def revoke_user_refresh_tokens(user: User) -> None:
    """Mark every live refresh token of `user` revoked; the caller commits."""
    db.session.execute(
        update(RefreshToken)
        .where(RefreshToken.user_id == user.id, RefreshToken.revoked_at.is_(None))
        .values(revoked_at=utcnow())
        .execution_options(synchronize_session=False)
    )


def issued_before_cutoff(user: User, payload: dict) -> bool:
    """True when the token was issued before the user's tokens_valid_after (e.g. before a suspension)."""
    cutoff = user.tokens_valid_after
    return cutoff is not None and payload.get("ts", payload.get("iat", 0)) < cutoff.replace(tzinfo=UTC).timestamp()


def purge_expired(now: datetime | None = None) -> int:
    """Delete refresh tokens, blocklist rows and password reset links expired at `now` (naive UTC); returns how many
    rows went."""
    now = now or utcnow()
    gone = db.session.execute(delete(RevokedToken).where(RevokedToken.expires_at <= now)).rowcount
    gone += db.session.execute(delete(RefreshToken).where(RefreshToken.expires_at <= now)).rowcount
    gone += db.session.execute(delete(PasswordReset).where(PasswordReset.expires_at <= now)).rowcount
    db.session.commit()
    return gone
