"""Flask-WTF forms of the payment pages: types and required fields only; the rules live in the services."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import HiddenField, RadioField, SelectChoice, SubmitField
from wtforms.validators import InputRequired, Length

from .services import MAX_KEY_LENGTH

# Stripe's test payment methods, which the fake provider (and Stripe in test mode) understands.
TEST_CARDS = [
    SelectChoice("pm_card_visa", "Visa ending 4242: the payment succeeds"),
    SelectChoice("pm_card_chargeDeclined", "Card ending 0002: the bank declines it"),
    SelectChoice("pm_card_processingError", "Card ending 0119: a processing error"),
]


class CheckoutForm(FlaskForm):
    """Pay a booking. A fresh key per rendered page: a double click or a resent form pays once."""

    idempotency_key = HiddenField(validators=[InputRequired(), Length(max=MAX_KEY_LENGTH)])
    submit = SubmitField("Pay")


class CardChoiceForm(CheckoutForm):
    """The checkout with a choice of test cards (the fake provider, or a provider without a card widget)."""

    payment_method = RadioField("Test card", choices=TEST_CARDS, default="pm_card_visa",
                                validators=[InputRequired("Choose a card.")])
