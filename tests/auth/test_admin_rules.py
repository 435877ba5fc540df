"""An admin's powers over accounts (auth/services.py set_active, set_role): the rules, the audit row written with
each change, and browser sessions that stay dead after a reinstatement."""

from __future__ import annotations

import pytest
from flask import g
from sqlalchemy import select

from app.blueprints.auth import services
from app.errors import Conflict, ValidationFailed
from app.extensions import db
from app.models import AuditEntry

from ..support.factories import make_user


def entries() -> list[tuple[int | None, str, int, dict]]:
    return [(row.actor_id, row.action, row.target_id, row.changes)
            for row in db.session.scalars(select(AuditEntry).order_by(AuditEntry.id))]


def test_suspending_and_reinstating_are_audited_with_before_and_after(app):
    admin, user = make_user(role="admin"), make_user()
    services.set_active(user, False, actor=admin)
    services.set_active(user, False, actor=admin)  # already suspended: nothing changes, nothing is recorded
    services.set_active(user, True, actor=admin)
    assert entries() == [(admin.id, "user.suspend", user.id, {"is_active": [True, False]}),
                         (admin.id, "user.reactivate", user.id, {"is_active": [False, True]})]


def test_an_admin_cannot_suspend_or_demote_themselves(app):
    admin, _other = make_user(role="admin"), make_user(role="admin")
    with pytest.raises(Conflict, match="your own account"):
        services.set_active(admin, False, actor=admin)
    with pytest.raises(Conflict, match="your own account"):
        services.set_role(admin, "host", actor=admin)
    db.session.refresh(admin)
    assert (admin.is_active, admin.role) == (True, "admin") and entries() == []


def test_the_last_active_admin_cannot_be_removed_but_one_of_two_can(app):
    first, second = make_user(role="admin"), make_user(role="admin")
    services.set_active(second, False, actor=first)
    promoted = make_user()
    with pytest.raises(Conflict, match="last active admin"):
        services.set_role(first, "guest", actor=None)  # the command line acting: still the last active admin
    services.set_role(promoted, "admin", actor=first)
    services.set_role(first, "host", actor=promoted)
    assert [action for _actor, action, _target, _changes in entries()] == ["user.suspend", "user.role", "user.role"]
    with pytest.raises(Conflict, match="last active admin"):
        services.set_active(promoted, False)


def test_an_unknown_role_is_refused(app):
    with pytest.raises(ValidationFailed):
        services.set_role(make_user(), "owner", actor=make_user(role="admin"))


def test_a_session_from_before_a_suspension_stays_signed_out_after_the_reinstatement(app, client, login):
    user = make_user()
    login(client, user)
    assert client.get("/profile").status_code == 200
    services.set_active(user, False, actor=make_user(role="admin"))
    services.set_active(user, True, actor=make_user(role="admin"))
    g.pop("_login_user", None)  # the app context the test pushed keeps the last request's user in g
    assert client.get("/profile").status_code == 302  # the old cookie: signed out
    login(client, user)
    assert client.get("/profile").status_code == 200  # a new sign-in works
