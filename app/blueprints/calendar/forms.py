"""Flask-WTF form of the calendar page: types and required fields only; the rules live in the services."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import DateField, RadioField, SelectChoice, StringField, SubmitField
from wtforms.validators import InputRequired

from ...forms_util import parse_amount
from .ranges import NightRange

# Service field names (dotted, as the API reports them) -> form field names.
CALENDAR_ERROR_FIELDS = {"ranges.0.start": "start", "ranges.0.end": "end", "ranges.0.price": "price",
                         "ranges.0.price.amount": "price"}


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

    def to_range(self) -> NightRange:
        """The form as one range of services.set_availability (after validate)."""
        start, end = self.start.data, self.end.data
        if self.action.data != "price":
            return NightRange(start, end, available=self.action.data == "reopen")
        if self.price_minor is None:
            return NightRange(start, end, base_price=True)
        return NightRange(start, end, price={"amount": self.price_minor, "currency": self.currency})
