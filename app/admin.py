"""The admin dashboard at /admin/ (Flask-Admin 2), built per app by init_admin(app) from the factory.

Admins only: every view mixes in AdminOnly, so an anonymous visitor is sent to the login page (and comes back),
and a signed-in non-admin gets the site's 403 page. Forms carry the site's CSRF token (CsrfForm). No view edits a
guarded column: lists are read-only, and each action calls the feature's service, which audits it (app/audit.py).
Each list row has buttons for its common actions (RowAction: the view's own bulk action on that one row; RowLink:
a page with a form, where the action needs more than a click). The views live in app/admin_views/, one module per
area, each with register(admin).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Flask, abort, current_app, redirect, request, url_for
from flask_admin import Admin, AdminIndexView, expose
from flask_admin.contrib.sqla import ModelView
from flask_admin.form import BaseForm
from flask_admin.model.template import BaseListRowAction
from flask_admin.theme import Bootstrap4Theme
from flask_login import current_user
from flask_wtf import FlaskForm

from .extensions import db


class AdminOnly:
    """Admits signed-in admins; sends anyone else to the login page (anonymous) or the 403 page."""

    def is_accessible(self) -> bool:
        return current_user.is_authenticated and current_user.is_admin

    def inaccessible_callback(self, name, **kwargs):
        if not current_user.is_authenticated:
            return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))
        abort(403)


class CsrfForm(BaseForm):
    """Flask-Admin's form base with Flask-WTF's CSRF token: the app's CSRFProtect checks that token on every POST
    and refuses the one Flask-Admin's SecureForm renders (another secret and format under the same field name)."""

    class Meta(FlaskForm.Meta):
        pass


ROW_ACTIONS = "admin/_row_actions.html"  # the macros that draw a row's button (`post`) or link (`link`)


def row_macros():
    """The row-action macros (also imported by pages that show a row's buttons outside a list)."""
    return current_app.jinja_env.get_template(ROW_ACTIONS).module


class RowAction(BaseListRowAction):
    """A button on each list row that runs the view's bulk action `name` (@action) on that row alone: a small POST
    form to the view's /action/ URL with the site's CSRF token, so the button and the Actions menu run the same
    code and ask the same confirmation. `shown(row)` hides it where it cannot apply (the service still decides)."""

    def __init__(self, name: str, title: str, *, shown: Callable[[Any], bool] | None = None,
                 style: str = "outline-secondary") -> None:
        super().__init__(title)
        self.name, self.shown, self.style = name, shown, style

    def render(self, context, row_id, row):
        view = context.resolve("admin_view")
        if (self.shown is not None and not self.shown(row)) or not view.is_action_allowed(self.name):
            return ""
        return row_macros().post(view.get_url(".action_view"), self.name, row_id, self.title,
                                 return_url=context.resolve("return_url"),
                                 confirm=view.get_actions_list()[1].get(self.name), style=self.style)


class RowLink(BaseListRowAction):
    """A link on each list row to the view's page `endpoint` for that row (`id`), where an action that needs more
    than a click (a reason) has its form; `anchor` scrolls to it."""

    def __init__(self, endpoint: str, title: str, *, shown: Callable[[Any], bool] | None = None,
                 anchor: str = "") -> None:
        super().__init__(title)
        self.endpoint, self.shown, self.anchor = endpoint, shown, anchor

    def render(self, context, row_id, row):
        if self.shown is not None and not self.shown(row):
            return ""
        view = context.resolve("admin_view")
        url = view.get_url(self.endpoint, id=row_id, url=context.resolve("return_url") or None)
        return row_macros().link(url + (f"#{self.anchor}" if self.anchor else ""), self.title)


class AdminModelView(AdminOnly, ModelView):
    """A read-only list of a model, with the site's CSRF token on every form; actions go through services."""

    form_base_class = CsrfForm
    can_create = can_edit = can_delete = False
    can_view_details = True
    page_size = 25


class DashboardIndex(AdminOnly, AdminIndexView):
    """/admin/: the dashboard's home."""

    @expose("/")
    def index(self):
        return self.render("admin/index.html")


def init_admin(app: Flask) -> Admin:
    """A new Admin for this app (a module-level one breaks a second create_app), with every area's views."""
    from .admin_views import AREAS
    from .security_headers import csp_nonce

    admin = Admin(app, name="Abode admin", theme=Bootstrap4Theme(swatch="default", fluid=True),
                  index_view=DashboardIndex(name="Dashboard", url="/admin"), csp_nonce_generator=csp_nonce)
    for area in AREAS:
        area.register(admin, db)
    return admin
