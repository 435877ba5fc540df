"""Flask-WTF forms of the listing pages: types and required fields only; a listing form's data is loaded by the
API's schema (schemas.ListingInputSchema) and the rules live in the services."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    FloatField,
    IntegerField,
    SelectChoice,
    SelectField,
    SelectMultipleField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.validators import InputRequired, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from ... import cancellation, geo, money
from ...forms_util import parse_amount
from ...models import CANCELLATION_POLICIES, PROPERTY_TYPES, Listing
from . import services

# Service field names (dotted, as the API reports them) -> form field names.
LISTING_ERROR_FIELDS = {
    "address": "city", "address.line1": "line1", "address.city": "city", "address.state": "state",
    "address.country": "country", "address.postal_code": "postal_code",
    "price_per_night": "price_per_night", "price_per_night.amount": "price_per_night",
    "price_per_night.currency": "currency", "cleaning_fee.amount": "cleaning_fee", "cleaning_fee.currency": "currency",
}



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
    title = StringField("Title", render_kw={"maxlength": services.TITLE_MAX,
                                            "placeholder": "Sunny loft near the canal"})
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
        """The listing in the API's JSON shape, for schemas.ListingInputSchema (after validate)."""
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


def listing_form_data(listing: Listing) -> dict:
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
