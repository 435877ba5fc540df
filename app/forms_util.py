"""Mapping a service's DomainError onto a Flask-WTF form, so pages show the message beside the field."""

from __future__ import annotations

from flask import flash
from flask_wtf import FlaskForm

from .errors import DomainError


def show_error(form: FlaskForm, exc: DomainError) -> None:
    """Attach the error's field messages to the form's fields; flash whatever has no field."""
    unplaced = []
    for name, messages in (exc.fields or {}).items():
        field = getattr(form, name, None)
        if field is not None and hasattr(field, "errors"):
            field.errors = list(field.errors) + list(messages)
        else:
            unplaced.extend(messages)
    if not exc.fields or unplaced:
        flash(exc.message, "danger")
