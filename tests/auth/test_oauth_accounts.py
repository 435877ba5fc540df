"""The account rules of provider sign-in, called directly: two simultaneous first sign-ins of one person make one
account (pinned: the first waits after finding no identity while the second signs in completely)."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from app.blueprints.auth import oauth_accounts
from app.blueprints.auth.oauth_providers import ProviderIdentity
from app.extensions import db
from app.models import OAuthIdentity, User

from ..support.factories import make_user
from ..support.threads import Pause, in_thread

ADA = ProviderIdentity("google", "sub-ada", "Ada@Gmail.example", True, "Ada Lovelace")


def counts() -> tuple[int, int]:
    return (db.session.scalar(select(func.count()).select_from(User)),
            db.session.scalar(select(func.count()).select_from(OAuthIdentity)))


def test_sign_in_with_identity_new_person_becomes_a_guest_with_a_normalised_email(app):
    user, created = oauth_accounts.sign_in_with_identity(ADA)
    assert created and user.role == "guest" and user.email == "ada@gmail.example" and user.password_hash is None
    assert user.last_login_at is not None
    assert oauth_accounts.linked_user("google", "sub-ada").id == user.id


def test_sign_in_with_identity_subject_is_matched_exactly(app):
    user, _ = oauth_accounts.sign_in_with_identity(ADA)
    assert oauth_accounts.linked_user("google", "SUB-ADA") is None
    assert oauth_accounts.linked_user("facebook", "sub-ada") is None
    assert oauth_accounts.linked_user("google", "sub-ada").id == user.id


def test_sign_in_with_identity_blank_name_falls_back_to_the_address(app):
    user, _ = oauth_accounts.sign_in_with_identity(ProviderIdentity("google", "s2", "kim@x.example", True, "  "))
    assert user.name == "kim"


@pytest.mark.parametrize("existing", [False, True], ids=["new-account", "linking-a-password-account"])
def test_simultaneous_first_sign_ins_make_one_account(mariadb_app, monkeypatch, existing):
    owner = make_user(email="ada@gmail.example") if existing else None
    pause = Pause()
    monkeypatch.setattr(oauth_accounts, "_first_sign_in", pause.wrap(oauth_accounts._first_sign_in))
    first, first_result = in_thread(mariadb_app, lambda: _ids(oauth_accounts.sign_in_with_identity(ADA)))
    assert pause.reached.wait(10), "the first sign-in never looked for its identity"
    # The first has seen no identity and waits; the second signs in all the way meanwhile.
    second, second_result = in_thread(mariadb_app, lambda: _ids(oauth_accounts.sign_in_with_identity(ADA)))
    second.join(15)
    pause.release()
    first.join(15)
    assert first_result and second_result, "a sign-in failed (see the captured log)"
    (first_id, first_created), (second_id, second_created) = first_result[0], second_result[0]
    assert first_id == second_id
    assert not first_created  # it lost the race and found the winner's account
    assert second_created is (not existing)
    if owner is not None:
        assert first_id == owner.id
    db.session.rollback()
    assert counts() == (1, 1)


def _ids(result: tuple[User, bool]) -> tuple[int, bool]:
    user, created = result
    return user.id, created
