"""Form helpers every feature's pages share: a service's DomainError shown beside the field, typed amounts read.

This is the one mapper from a refused service call onto a Flask-WTF form: every page uses apply_error (which
returns what belongs above the form) or show_error (which flashes it).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Mapping
from decimal import Decimal

from flask import flash
from flask_wtf import FlaskForm
from wtforms import ValidationError

from . import money
from .errors import DomainError

AMOUNT_PATTERN = re.compile(r"^\d{1,9}(\.\d+)?$")


def apply_error(form: FlaskForm, exc: DomainError, aliases: Mapping[str, str] | None = None, *,
                only_new: bool = False, exclude: Collection[str] = (),
                reword: Callable[[str], str] | None = None) -> str | None:
    """Attach the error's field messages to the form's fields; return the error's message when it belongs to the
    whole form (no fields, or a field the form lacks), else None.

    `aliases` renames the service's field names (dotted, as the API reports them) to the form's; fields named in
    `exclude` are treated as missing; `reword` rewrites each message; with `only_new`, a field that already shows
    a form error gets no second message.
    """
    unplaced = False
    for name, messages in (exc.fields or {}).items():
        target = (aliases or {}).get(name, name)
        field = getattr(form, target, None)
        if field is None or not hasattr(field, "errors") or target in exclude:
            unplaced = True
        elif not (only_new and field.errors):
            field.errors = list(field.errors) + [reword(m) if reword else m for m in messages]
    return exc.message if not exc.fields or unplaced else None


def show_error(form: FlaskForm, exc: DomainError, aliases: Mapping[str, str] | None = None, *,
               only_new: bool = False) -> None:
    """apply_error(), flashing the message that belongs to the whole form."""
    message = apply_error(form, exc, aliases, only_new=only_new)
    if message:
        flash(message, "danger")


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
