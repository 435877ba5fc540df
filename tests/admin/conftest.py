"""Fixtures of the admin tests: an admin account, and a browser client signed in as it."""

from __future__ import annotations

import pytest

from ..support.factories import make_user


@pytest.fixture
def admin(app):
    return make_user(role="admin", email="boss@example.com")


@pytest.fixture
def admin_client(client, login, admin):
    """The test client, signed in through the login page as `admin`."""
    login(client, admin)
    return client
