"""`flask --app wsgi keys rotate`: every encrypted column re-encrypted under DATA_ENCRYPTION_KEY's first key, so
the old key can be dropped (#16 "Sensitive data at rest")."""

from __future__ import annotations

import pytest
from sqlalchemy import select, text

from app.crypto import encrypted_columns
from app.extensions import db
from app.models import Payment, User

from ..support.factories import make_user
from ..support.stays import paid_booking

OLD, NEW = "old-data-key-0123456789", "new-data-key-9876543210"


def _secrets(user_id: int, payment_id: int) -> tuple:
    db.session.expire_all()
    user, payment = db.session.get(User, user_id), db.session.get(Payment, payment_id)
    return user.phone, user.payout_account, payment.client_secret


def test_every_encrypted_column_is_found():
    assert {f"{tbl.name}.{col.name}" for tbl, col in encrypted_columns()} == {
        "users.phone", "users.payout_account", "payments.client_secret"}


def test_rotate_moves_every_value_under_the_new_key_and_the_old_one_can_go(make_app):
    make_app(DATA_ENCRYPTION_KEY=OLD)
    booking = paid_booking()
    host = booking.listing.host
    host.phone, host.payout_account = "+44 20 7946 0958", "acct_1234567890"
    payment = db.session.scalars(select(Payment).where(Payment.booking_id == booking.id)).one()
    payment.client_secret = "pi_123_secret_456"
    quiet = make_user(email="no-phone@example.com")  # NULLs stay NULL
    db.session.commit()
    ids, quiet_id = (host.id, payment.id), quiet.id
    before = _secrets(*ids)
    stored = db.session.execute(text("SELECT phone FROM users WHERE id = :id"), {"id": host.id}).scalar()
    assert "+44" not in stored  # at rest it is a Fernet token

    both = make_app(DATA_ENCRYPTION_KEY=f"{NEW},{OLD}")
    result = both.test_cli_runner().invoke(args=["keys", "rotate"])
    assert result.exit_code == 0, result.output
    assert "users.phone: 1 re-encrypted" in result.output
    assert "payments.client_secret: 1 re-encrypted" in result.output

    make_app(DATA_ENCRYPTION_KEY=NEW)  # the old key dropped
    assert _secrets(*ids) == before
    assert db.session.get(User, quiet_id).phone is None
    make_app(DATA_ENCRYPTION_KEY=OLD)  # and the old key alone opens nothing any more
    with pytest.raises(ValueError):
        _secrets(*ids)

    again = make_app(DATA_ENCRYPTION_KEY=f"{NEW},{OLD}").test_cli_runner().invoke(args=["keys", "rotate"])
    assert again.exit_code == 0 and "users.phone: 0 re-encrypted, 1 already under the first key" in again.output


def test_rotate_exits_1_and_names_values_no_key_opens(make_app):
    make_app(DATA_ENCRYPTION_KEY=OLD)
    user = make_user(email="bo@example.com")
    user.phone = "+1 555 0100"
    db.session.commit()
    user_id = user.id
    result = make_app(DATA_ENCRYPTION_KEY=NEW).test_cli_runner().invoke(args=["keys", "rotate"])
    assert result.exit_code == 1
    assert f"users.phone: 0 re-encrypted, 0 already under the first key, 1 unreadable (ids {user_id})" in result.output
