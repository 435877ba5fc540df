"""The search page's form (search bar and filter panel, read from the query string) and its translation into the
query string schemas.SearchArgsSchema loads, as the API's; the bounds live in the schema, the rest in the service."""

from __future__ import annotations

import re
from collections.abc import Mapping
from decimal import Decimal

from flask_wtf import FlaskForm
from werkzeug.datastructures import MultiDict
from wtforms import BooleanField, HiddenField, SelectChoice, SelectField, SelectMultipleField, StringField
from wtforms.widgets import CheckboxInput, DateInput, ListWidget, NumberInput

from ... import money
from ...errors import DomainError, ValidationFailed
from ...forms_util import apply_error
from ...models import PROPERTY_TYPES

SORT_LABELS = {
    "relevance": "Relevance",
    "price_asc": "Price: low to high",
    "price_desc": "Price: high to low",
    "rating": "Top rated",
    "newest": "Newest",
}
# Filters of the panel ("Clear" drops these); the search bar, sort and currency stay.
FILTER_ARGS = ("min_price", "max_price", "property_type", "amenities", "instant_book")
# Search arguments the page has no input for but passes on, so a shared URL keeps working.
PASSTHROUGH_ARGS = ("lat", "lng", "radius_km", "page", "per_page")
TEXT_ARGS = ("location", "check_in", "check_out", "guests", "currency", "property_type", "sort")
AMOUNT_PATTERN = re.compile(r"^\d{1,9}(\.\d+)?$")
ECHO_LIMIT = 200  # a pasted novel is not echoed back in full
PANEL_FIELDS = ("min_price", "max_price", "currency", "property_type", "amenities", "instant_book")


class SearchForm(FlaskForm):
    """Where / when / who plus the filter panel; a GET form, so it has no CSRF token."""

    class Meta:
        csrf = False

    location = StringField("Where")
    check_in = StringField("Check in", widget=DateInput())
    check_out = StringField("Check out", widget=DateInput())
    guests = StringField("Guests", widget=NumberInput(min=1, max=100))
    min_price = StringField("Min")
    max_price = StringField("Max")
    currency = SelectField("Currency", choices=[SelectChoice(code) for code in sorted(money.CURRENCIES)])
    property_type = SelectField(
        "Type of place",
        choices=[SelectChoice("", "Any type")] + [SelectChoice(kind, kind.title()) for kind in PROPERTY_TYPES],
    )
    amenities = SelectMultipleField(
        "Amenities", choices=[], widget=ListWidget(prefix_label=False), option_widget=CheckboxInput()
    )
    instant_book = BooleanField("Instant book only", false_values=(False, "false", "0", "off", ""))
    sort = HiddenField()


def form_values(args: Mapping, currency: str) -> MultiDict:
    """The query string as the form reads it: amenities from repeated or comma-separated values, the currency set."""
    values = MultiDict(args)
    codes = [code.strip() for raw in values.getlist("amenities") for code in raw.split(",") if code.strip()]
    values.setlist("amenities", codes)
    values["currency"] = currency
    if len(values.get("location", "")) > ECHO_LIMIT:
        values["location"] = values["location"][:ECHO_LIMIT]
    return values


def to_minor(text: str | None, field: str, currency: str) -> str | None:
    """A price typed in major units ('125.50') as minor units for the schema; ValidationFailed when unreadable."""
    text = (text or "").strip()
    if not text or not money.is_supported(currency):
        return text or None  # an unknown currency is reported by the schema
    if not AMOUNT_PATTERN.match(text):
        raise ValidationFailed({field: ["Enter an amount like 125 or 125.50."]})
    try:
        return str(money.to_minor(Decimal(text), currency))
    except ValueError:
        digits = money.minor_units(currency)
        hint = "whole amounts only" if digits == 0 else f"at most {digits} decimal places"
        raise ValidationFailed({field: [f"{currency} prices take {hint}."]}) from None


def schema_args(form: SearchForm, args: Mapping) -> dict[str, str]:
    """The page's query string as SearchArgsSchema reads the API's: prices in minor units, amenities comma-separated.

    A price that is not a number is marked on its input and left out, so the schema and the service can still
    report the rest.
    """
    currency = form.currency.data or ""
    out = {name: (args.get(name) or "") for name in TEXT_ARGS + PASSTHROUGH_ARGS}
    out["currency"] = currency
    for name in ("min_price", "max_price"):
        try:
            out[name] = to_minor(args.get(name), name, currency)
        except ValidationFailed as exc:
            show_search_error(form, exc)
            out[name] = None
    out = {name: value for name, value in out.items() if value is not None}
    out["amenities"] = ",".join(form.amenities.data or [])
    out["instant_book"] = "true" if form.instant_book.data else ""
    return out


def has_errors(form: SearchForm) -> bool:
    """True when any input shows an error."""
    return any(field.errors for field in form)


def humanise(message: str) -> str:
    """'must be after check_in' -> 'Must be after check in.'"""
    text = message.replace("_", " ").strip()
    text = text[:1].upper() + text[1:]
    return text if text.endswith(".") else text + "."


def show_search_error(form: SearchForm, exc: DomainError) -> list[str]:
    """Put the error's messages beside the inputs they concern (the sort menu shows none); return the ones that
    belong in an alert."""
    message = apply_error(form, exc, exclude=("sort",), reword=humanise)
    return [message] if message else []


def has_panel_errors(form: SearchForm) -> bool:
    """True when a filter-panel input shows an error (so the panel opens on phones)."""
    return any(getattr(form, name).errors for name in PANEL_FIELDS)
