"""The admin dashboard at /admin/ (Flask-Admin 2), built per app by init_admin(app) from the factory.

Admins only: every view mixes in AdminOnly, so an anonymous visitor is sent to the login page (and comes back),
and a signed-in non-admin gets the site's 403 page. Forms carry the site's CSRF token (CsrfForm). No view edits a
guarded column: lists are read-only, and each action calls the feature's service, which audits it (app/audit.py).
The views live in app/admin_views/, one module per area, each with register(admin).
"""

from __future__ import annotations

from flask import Flask, abort, redirect, request, url_for
from flask_admin import Admin, AdminIndexView, expose
from flask_admin.contrib.sqla import ModelView
from flask_admin.form import BaseForm
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

    admin = Admin(app, name="Abode admin", theme=Bootstrap4Theme(swatch="default", fluid=True),
                  index_view=DashboardIndex(name="Dashboard", url="/admin"))
    for area in AREAS:
        area.register(admin, db)
    return admin
