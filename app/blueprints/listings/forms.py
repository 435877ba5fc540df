"""Flask-WTF forms of the listing pages: types and required fields only; the rules live in the services."""

from __future__ import annotations

import re
from decimal import Decimal

from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    FloatField,
    IntegerField,
    RadioField,
    SelectChoice,
    SelectField,
    SelectMultipleField,
    StringField,
    SubmitField,
    TextAreaField,
    ValidationError,
)
from wtforms.validators import InputRequired, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from ... import cancellation, geo, money
from ...forms_util import show_error as show_service_error  # noqa: F401 (the calendar page's name for it)
from ...models import CANCELLATION_POLICIES, PROPERTY_TYPES, Property
from . import services

AMOUNT_PATTERN = re.compile(r"^\d{1,9}(\.\d+)?$")

# Service field names (dotted, as the API reports them) -> form field names.
LISTING_ERROR_FIELDS = {
    "address": "city", "address.line1": "line1", "address.city": "city", "address.state": "state",
    "address.country": "country", "address.postal_code": "postal_code",
    "price_per_night": "price_per_night", "price_per_night.amount": "price_per_night",
    "price_per_night.currency": "currency", "cleaning_fee.amount": "cleaning_fee", "cleaning_fee.currency": "currency",
}
CALENDAR_ERROR_FIELDS = {"ranges.0.start": "start", "ranges.0.end": "end", "ranges.0.price": "price",
                         "ranges.0.price.amount": "price"}


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


def major_text(amount: int | None, currency: str) -> str:
    """Minor units -> the text shown in an amount field ('12550' USD -> '125.50')."""
    return "" if amount is None else str(money.to_major(amount, currency))


def amenity_choices() -> list[SelectChoice]:
    """The amenity catalogue as checkbox choices, by name."""
    return [SelectChoice(row.code, row.name) for row in services.list_amenities()]


def timezone_choices() -> list[SelectChoice]:
    """IANA time zones grouped by region (Europe, America, ...)."""
    choices = [SelectChoice("UTC", "UTC", optgroup="UTC")]
    for name in sorted(geo.timezones()):
        if "/" in name and not name.startswith(("Etc/", "SystemV/", "US/", "posix/", "right/")):
            region = name.split("/", 1)[0]
            choices.append(SelectChoice(name, name.replace("_", " "), optgroup=region))
    return choices


class MultiCheckboxField(SelectMultipleField):
    """A list of checkboxes, one per choice."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class ListingForm(FlaskForm):
    title = StringField("Title", render_kw={"maxlength": 120, "placeholder": "Sunny loft near the canal"})
    description = TextAreaField("Description", render_kw={"rows": 5})
    property_type = SelectField("Property type", choices=[SelectChoice(t, t.capitalize()) for t in PROPERTY_TYPES])
    line1 = StringField("Street address")
    city = StringField("City")
    state = StringField("State / region")
    country = SelectField("Country", choices=[SelectChoice("", "Choose a country…")]
                          + [SelectChoice(code, name) for code, name in geo.countries().items()])
    postal_code = StringField("Postal code")
    latitude = FloatField("Latitude", validators=[Optional()], description="Optional, e.g. 48.8566")
    longitude = FloatField("Longitude", validators=[Optional()], description="Optional, e.g. 2.3522")
    timezone = SelectField("Time zone", default="UTC", choices=timezone_choices())
    currency = SelectField("Currency", choices=[SelectChoice(code) for code in sorted(money.CURRENCIES)])
    price_per_night = StringField("Price per night", validators=[InputRequired()], render_kw={"inputmode": "decimal"})
    cleaning_fee = StringField("Cleaning fee", description="Optional, charged once per stay.",
                               render_kw={"inputmode": "decimal"})
    max_guests = IntegerField("Max guests", default=2, validators=[InputRequired()])
    bedrooms = IntegerField("Bedrooms", default=1, validators=[InputRequired()])
    beds = IntegerField("Beds", default=1, validators=[InputRequired()])
    bathrooms = IntegerField("Bathrooms", default=1, validators=[InputRequired()])
    min_nights = IntegerField("Min nights", default=1, validators=[InputRequired()])
    max_nights = IntegerField("Max nights", default=365, validators=[InputRequired()])
    cancellation_policy = SelectField("Cancellation policy", default="moderate", choices=[
        SelectChoice(p, f"{p.capitalize()} — {cancellation.summary(p)}") for p in CANCELLATION_POLICIES])
    instant_book = BooleanField("Instant book", description="Guests can book without waiting for your approval.")
    amenities = MultiCheckboxField("Amenities")
    submit = SubmitField("Save listing")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.amenities.choices = amenity_choices()
        self.price_minor: int | None = None
        self.fee_minor: int | None = None

    def validate_price_per_night(self, field) -> None:
        self.price_minor = parse_amount(field.data, self.currency.data)

    def validate_cleaning_fee(self, field) -> None:
        self.fee_minor = parse_amount(field.data, self.currency.data)

    def to_data(self) -> dict:
        """The listing in the API's JSON shape, for services.create_listing / update_listing (after validate)."""
        fee = self.fee_minor
        return {
            "title": self.title.data, "description": self.description.data or "",
            "property_type": self.property_type.data,
            "address": {"line1": self.line1.data, "city": self.city.data, "state": self.state.data,
                        "country": self.country.data, "postal_code": self.postal_code.data},
            "latitude": self.latitude.data, "longitude": self.longitude.data, "timezone": self.timezone.data,
            "price_per_night": {"amount": self.price_minor, "currency": self.currency.data},
            "cleaning_fee": None if fee is None else {"amount": fee, "currency": self.currency.data},
            "max_guests": self.max_guests.data, "bedrooms": self.bedrooms.data, "beds": self.beds.data,
            "bathrooms": self.bathrooms.data, "min_nights": self.min_nights.data, "max_nights": self.max_nights.data,
            "cancellation_policy": self.cancellation_policy.data, "instant_book": bool(self.instant_book.data),
            "amenities": list(self.amenities.data or []),
        }


def listing_form_data(listing: Property) -> dict:
    """A listing's values as ListingForm data (amounts in major units), to prefill the edit page."""
    names = ("title", "description", "property_type", "city", "state", "country", "postal_code", "latitude",
             "longitude", "timezone", "currency", "max_guests", "bedrooms", "beds", "bathrooms", "min_nights",
             "max_nights", "cancellation_policy", "instant_book")
    data = {name: getattr(listing, name) for name in names}
    data["line1"] = listing.address_line1
    data["price_per_night"] = major_text(listing.price_per_night_amount, listing.currency)
    fee = listing.cleaning_fee_amount
    data["cleaning_fee"] = major_text(fee, listing.currency) if fee else ""
    data["amenities"] = [a.code for a in listing.amenities]
    return data


class PhotoMoveForm(FlaskForm):
    position = IntegerField("Position", validators=[InputRequired()])


class ConfirmForm(FlaskForm):
    """Just the CSRF token, for POST-only buttons (delete a listing or a photo)."""


class CalendarForm(FlaskForm):
    start = DateField("From", validators=[InputRequired()])
    end = DateField("Until (not included)", validators=[InputRequired()],
                    description="The last night changed is the one before this date.")
    action = RadioField("Action", default="block", choices=[
        SelectChoice("block", "Block these nights"), SelectChoice("reopen", "Reopen these nights"),
        SelectChoice("price", "Set a nightly price")])
    price = StringField("Nightly price", render_kw={"inputmode": "decimal"},
                        description="Leave empty to return to the base price.")
    submit = SubmitField("Apply")

    def __init__(self, *args, currency: str = "USD", **kwargs):
        super().__init__(*args, **kwargs)
        self.currency = currency
        self.price.label.text = f"Nightly price ({currency})"
        self.price_minor: int | None = None

    def validate_price(self, field) -> None:
        if self.action.data == "price":
            self.price_minor = parse_amount(field.data, self.currency)

    def to_range(self) -> dict:
        """The form as one range of calendar.set_availability (after validate)."""
        item: dict = {"start": self.start.data.isoformat(), "end": self.end.data.isoformat()}
        if self.action.data == "price":
            amount = self.price_minor
            item["price"] = None if amount is None else {"amount": amount, "currency": self.currency}
        else:
            item["available"] = self.action.data == "reopen"
        return item
