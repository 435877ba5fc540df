"""The Flask-WTF form of the host's payout account page: types and lengths only; its data is loaded by the API's
schema (account_schemas.PayoutAccountInputSchema)."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import EmailField, RadioField, SelectChoice, StringField, SubmitField
from wtforms.validators import InputRequired, Length, Optional

from .payout_accounts import MAX_ACCOUNT_ID


class PayoutAccountForm(FlaskForm):
    """Stripe (a connected account id) or PayPal (the account's email); only the chosen one is read."""

    provider = RadioField("Get paid through", choices=[SelectChoice("stripe", "Stripe"),
                                                       SelectChoice("paypal", "PayPal")],
                          validators=[InputRequired("Choose Stripe or PayPal.")])
    account_id = StringField("Stripe account id", validators=[Optional(), Length(max=MAX_ACCOUNT_ID)],
                             description="For Stripe: your connected account id, acct_ followed by letters and "
                                         "digits (Stripe Dashboard, Settings).")
    email = EmailField("PayPal email", validators=[Optional(), Length(max=254)],
                       description="For PayPal: the email address of your PayPal account.")
    submit = SubmitField("Save payout account")
