"""Flask-WTF forms of the review pages: types and required fields only; the rules live in the services."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import RadioField, SelectChoice, SelectField, SubmitField, TextAreaField
from wtforms.validators import InputRequired, Length

from ...models.review import COMMENT_MAX_LENGTH, RESPONSE_MAX_LENGTH, SUB_RATINGS

STARS = [SelectChoice(n, f"{n} star{'s' if n > 1 else ''}") for n in range(1, 6)]
SUB_RATING_LABELS = {"cleanliness": "Cleanliness", "accuracy": "Accuracy", "communication": "Communication",
                     "location": "Location", "check_in": "Check-in", "value": "Value"}


def optional_number(value: object) -> int | None:
    """A select's value as a whole number, None for the empty "not rated" choice. Raises ValueError."""
    return None if value in ("", None, "None") else int(value)


def _sub_rating(name: str) -> SelectField:
    return SelectField(SUB_RATING_LABELS[name], coerce=optional_number,
                       choices=[SelectChoice("", "Not rated"), *[SelectChoice(n, str(n)) for n in range(1, 6)]])


class ReviewForm(FlaskForm):
    """The review of a stay: the overall rating, optional sub-ratings and a comment."""

    rating = RadioField("Overall rating", coerce=int, choices=STARS,
                        validators=[InputRequired("Choose a rating from 1 to 5 stars.")])
    cleanliness = _sub_rating("cleanliness")
    accuracy = _sub_rating("accuracy")
    communication = _sub_rating("communication")
    location = _sub_rating("location")
    check_in = _sub_rating("check_in")
    value = _sub_rating("value")
    comment = TextAreaField("Your review", validators=[Length(max=COMMENT_MAX_LENGTH)],
                            render_kw={"rows": 6, "maxlength": COMMENT_MAX_LENGTH})
    submit = SubmitField("Publish review")

    def sub_rating_fields(self) -> list:
        return [getattr(self, name) for name in SUB_RATINGS]

    def review(self) -> dict:
        """rating, comment and sub_ratings as services.create_review takes them (after validate)."""
        return {"rating": self.rating.data, "comment": self.comment.data or "",
                "sub_ratings": {name: getattr(self, name).data for name in SUB_RATINGS}}


class ResponseForm(FlaskForm):
    """The host's reply to one review."""

    body = TextAreaField("Your reply", validators=[InputRequired("Write your reply."),
                                                   Length(max=RESPONSE_MAX_LENGTH)],
                         render_kw={"rows": 3, "maxlength": RESPONSE_MAX_LENGTH})
    submit = SubmitField("Post reply")
