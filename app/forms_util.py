"""Form helpers every feature's pages share: a service's DomainError shown beside the field, typed amounts read."""

from __future__ import annotations

import re
from decimal import Decimal

from flask import flash
from flask_wtf import FlaskForm
from wtforms import ValidationError

from . import money
from .errors import DomainError

AMOUNT_PATTERN = re.compile(r"^\d{1,9}(\.\d+)?$")


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


def show_service_error(form: FlaskForm, exc: DomainError, aliases: dict[str, str], *, only_new: bool = False) -> None:
    """show_error() after renaming the service's field names to the form's (unknown names are flashed).

    With only_new, fields that already show a form error get no second message.
    """
    fields: dict[str, list[str]] = {}
    for name, messages in (exc.fields or {}).items():
        target = aliases.get(name, name)
        if only_new and getattr(getattr(form, target, None), "errors", None):
            continue
        fields.setdefault(target, []).extend(messages)
    if only_new and exc.fields and not fields:
        return
    show_error(form, DomainError(exc.message, fields=fields or None, status_code=exc.status_code, code=exc.code))


def parse_amount(text: str | None, currency: str) -> int | None:
    """Major units typed by a person ('125.50') -> minor units; None when empty. Raises ValidationError."""
    text = (text or "").strip()
    if not text:
        return None
    if not money.is_supported(currency):
        raise ValidationError("Choose a supported currency first.")
    if not AMOUNT_PATTERN.match(text):
        raise ValidationError("Enter an amount like 125.50 (digits and an optional decimal point).")
    try:
        return money.to_minor(Decimal(text), currency)
    except ValueError:
        digits = money.minor_units(currency)
        raise ValidationError(f"{currency} amounts take no decimals." if digits == 0
                              else f"{currency} amounts have at most {digits} decimal places.") from None
