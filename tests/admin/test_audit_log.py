"""The audit log nobody can rewrite: the database's triggers refuse UPDATE and DELETE of audit_log (an INSERT is
fine), whatever the app does; and `flask rates set` writes its audit row (actor: the command line) in the
transaction of the change."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import delete, func, select, update
from sqlalchemy.exc import DBAPIError

from app import rates
from app.audit import record
from app.extensions import db
from app.models import AuditEntry, ExchangeRate
from app.models.audit import REFUSED

from ..support.factories import make_user


def entry_count() -> int:
    return db.session.scalar(select(func.count()).select_from(AuditEntry))


@pytest.fixture
def entry(app) -> AuditEntry:
    row = record(make_user(role="admin"), "user.suspend", "user", 7, {"is_active": (True, False)})
    db.session.commit()
    return row


def test_an_insert_is_kept(entry):
    db.session.expire_all()
    assert [(row.action, row.changes) for row in db.session.scalars(select(AuditEntry))] == [
        ("user.suspend", {"is_active": [True, False]})]


@pytest.mark.parametrize("statement", [
    lambda: update(AuditEntry).values(action="user.reactivate"),
    lambda: update(AuditEntry).where(AuditEntry.target_id == 7).values(changes={}),
    lambda: delete(AuditEntry),
], ids=["update-all", "update-one", "delete"])
def test_update_and_delete_statements_are_refused_by_the_database(entry, statement):
    with pytest.raises(DBAPIError, match=REFUSED):
        db.session.execute(statement())
    db.session.rollback()
    db.session.expire_all()
    assert entry_count() == 1 and db.session.get(AuditEntry, entry.id).action == "user.suspend"


def test_the_orm_cannot_change_or_delete_an_entry_either(entry):
    entry.action = "user.forged"
    with pytest.raises(DBAPIError, match=REFUSED):
        db.session.commit()
    db.session.rollback()
    db.session.delete(db.session.get(AuditEntry, entry.id))
    with pytest.raises(DBAPIError, match=REFUSED):
        db.session.commit()
    db.session.rollback()
    db.session.expire_all()
    assert [row.action for row in db.session.scalars(select(AuditEntry))] == ["user.suspend"]


def test_rates_set_on_the_command_line_is_audited_with_no_actor(app):
    runner = app.test_cli_runner()
    assert runner.invoke(args=["rates", "set", "EUR", "0.9"]).exit_code == 0
    assert runner.invoke(args=["rates", "set", "eur", "0.95"]).exit_code == 0
    db.session.expire_all()
    rows = list(db.session.scalars(select(AuditEntry).order_by(AuditEntry.id)))
    assert [(row.actor_id, row.action, row.target_type, row.changes) for row in rows] == [
        (None, "rate.set", "rate", {"EUR": [format(Decimal(rates.DEFAULT_RATES["EUR"]).normalize(), "f"), "0.9"]}),
        (None, "rate.set", "rate", {"EUR": ["0.9", "0.95"]})]


def test_a_refused_rate_writes_no_audit_row(app):
    assert app.test_cli_runner().invoke(args=["rates", "set", "EUR", "-1"]).exit_code != 0
    assert entry_count() == 0


def test_the_command_lines_audit_row_commits_with_the_rate_or_not_at_all(app, monkeypatch):
    record = rates.audit.record

    def fail_after_the_audit_row_is_added(*args, **kwargs):
        record(*args, **kwargs)
        raise RuntimeError("the rate change failed before its commit")

    monkeypatch.setattr(rates.audit, "record", fail_after_the_audit_row_is_added)
    result = app.test_cli_runner().invoke(args=["rates", "set", "EUR", "0.5"])
    assert isinstance(result.exception, RuntimeError)
    monkeypatch.undo()
    with db.engine.connect() as conn:  # what is committed, seen from another connection
        assert conn.scalar(select(func.count()).select_from(AuditEntry)) == 0
        assert conn.scalar(select(ExchangeRate.rate).where(ExchangeRate.currency == "EUR")) is None
    db.session.rollback()
