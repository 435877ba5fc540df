"""Flask-WTF forms of the notification centre: bare CSRF forms for its POST buttons."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import HiddenField, SubmitField


class MarkReadForm(FlaskForm):
    """"Mark as read" / "Mark all as read": the CSRF token, and the page to come back to."""

    next = HiddenField()
    submit = SubmitField("Mark as read")
