"""The dashboard in a real browser: an admin suspends a signed-in user from the users list, and that user's next
page, in their own browser, shows them signed out."""

from __future__ import annotations

from playwright.sync_api import expect
from sqlalchemy import select

from app.extensions import db
from app.models import AuditEntry

from ..support.browser import chromium, live_server, require_chromium, sign_in
from ..support.factories import make_user


def test_a_suspended_user_is_signed_out_on_their_next_page(app):
    require_chromium()
    admin = make_user(role="admin", email="ada@example.com")
    user = make_user(email="gus@example.com", name="Gus Guest")
    admin_email, user_email, user_id = admin.email, user.email, user.id
    db.session.commit()
    with live_server(app) as base, chromium() as browser:
        user_page = browser.new_context().new_page()
        sign_in(user_page, base, user_email)
        user_page.goto(base + "/profile")
        expect(user_page.get_by_role("button", name="Gus Guest")).to_be_visible()  # the account menu

        admin_page = browser.new_context().new_page()
        sign_in(admin_page, base, admin_email)
        admin_page.goto(base + "/admin/users/")
        admin_page.on("dialog", lambda dialog: dialog.accept())  # "Suspend the selected accounts?"
        admin_page.locator(f'input.action-checkbox[value="{user_id}"]').check()
        admin_page.get_by_role("button", name="With selected").click()
        admin_page.get_by_role("link", name="Suspend").click()
        expect(admin_page.locator(".alert-success")).to_contain_text("Suspended: 1.")

        user_page.goto(base + "/")
        expect(user_page.get_by_role("link", name="Log in")).to_be_visible()
        expect(user_page.get_by_role("button", name="Gus Guest")).to_have_count(0)
    db.session.expire_all()
    assert [(row.actor_id, row.action, row.target_id) for row in db.session.scalars(select(AuditEntry))] == [
        (admin.id, "user.suspend", user_id)]
