"""Flask-WTF forms of the booking pages: types and required fields only; the rules live in the services."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import DateField, HiddenField, IntegerField, SubmitField, TextAreaField
from wtforms.validators import InputRequired, Length, Optional

from .services import MAX_REASON_LENGTH


class BookingForm(FlaskForm):
    """The listing page's booking panel."""

    check_in = DateField("Check-in", validators=[InputRequired("Choose a check-in date.")])
    check_out = DateField("Check-out", validators=[InputRequired("Choose a check-out date.")])
    guests = IntegerField("Guests", default=1, validators=[InputRequired("Say how many guests are coming.")])
    # A fresh key per rendered panel: a double click or a resent form gets the first booking back.
    idempotency_key = HiddenField()

    def stay(self) -> dict:
        """check_in, check_out and guests as services.create_booking takes them (after validate)."""
        return {"check_in": self.check_in.data, "check_out": self.check_out.data, "guests": self.guests.data}


class CancelForm(FlaskForm):
    """The confirmation of a cancellation, with an optional reason."""

    reason = TextAreaField("Reason (optional)", validators=[Optional(), Length(max=MAX_REASON_LENGTH)],
                           render_kw={"rows": 3, "maxlength": MAX_REASON_LENGTH})
    submit = SubmitField("Cancel this booking")


class AnswerForm(FlaskForm):
    """Just the CSRF token and where to go back to, for the host's Approve and Decline buttons."""

    next = HiddenField()
