"""Administration over JSON: /api/v1/admin lists, account suspension, marketplace figures and the audit log.

The HTML dashboard is Flask-Admin's (app/admin.py, app/admin_views/); `bp` has no pages of its own.
"""

from flask import Blueprint

bp = Blueprint("administration", __name__)
api_bp = Blueprint("administration_api", __name__)

from . import api  # noqa: E402,F401
