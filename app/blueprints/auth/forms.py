"""Flask-WTF forms of the account pages; bounds come from services.py's constants, the profile is loaded by
schemas.ProfileUpdateSchema like the API's, and the rules themselves live in services.py."""

from __future__ import annotations

from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import (
    BooleanField,
    EmailField,
    PasswordField,
    RadioField,
    SelectChoice,
    SelectField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.validators import DataRequired, EqualTo, Length, Optional

from ... import money
from ...models import NOTIFICATION_TYPES
from .preferences import EMAIL_LABELS
from .services import BIO_MAX, EMAIL_MAX, NAME_MAX, PASSWORD_MAX, PASSWORD_MIN, PHONE_MAX

LANGUAGE_NAMES = {"en": "English", "es": "Español", "fr": "Français", "de": "Deutsch", "it": "Italiano",
                  "pt": "Português", "ja": "日本語", "zh": "中文"}


class RegisterForm(FlaskForm):
    name = StringField("Your name", validators=[DataRequired(), Length(max=NAME_MAX)])
    email = EmailField("Email", validators=[DataRequired(), Length(max=EMAIL_MAX)])
    password = PasswordField("Password", validators=[DataRequired(), Length(max=PASSWORD_MAX)],
                             description=f"At least {PASSWORD_MIN} characters.")
    confirm = PasswordField("Repeat the password",
                            validators=[DataRequired(), EqualTo("password", "The passwords differ.")])
    role = RadioField("I want to", choices=[SelectChoice("guest", "Book places to stay"),
                                           SelectChoice("host", "Host my place (and book too)")],
                      default="guest", validators=[DataRequired()])
    submit = SubmitField("Create account")


class LoginForm(FlaskForm):
    email = EmailField("Email", validators=[DataRequired(), Length(max=EMAIL_MAX)])
    password = PasswordField("Password", validators=[DataRequired(), Length(max=PASSWORD_MAX)])
    remember = BooleanField("Keep me signed in")
    submit = SubmitField("Log in")


# The profile form's values that schemas.ProfileUpdateSchema loads.
PROFILE_FIELDS = ("name", "phone", "bio", "preferred_currency", "preferred_language")


class ProfileForm(FlaskForm):
    name = StringField("Name", validators=[DataRequired(), Length(max=NAME_MAX)])
    phone = StringField("Phone", validators=[Optional(), Length(max=PHONE_MAX)],
                        description="Only shared with your hosts and guests.")
    bio = TextAreaField("About you", validators=[Optional(), Length(max=BIO_MAX)], render_kw={"rows": 4})
    preferred_currency = SelectField("Currency", choices=[SelectChoice(c) for c in sorted(money.CURRENCIES)])
    preferred_language = SelectField("Language",
                                     choices=[SelectChoice(code, name) for code, name in LANGUAGE_NAMES.items()])
    # The file's bytes are checked by the storage service, not its name.
    photo = FileField("Profile photo", description="JPEG, PNG or WebP, at most 5 MB.")
    submit = SubmitField("Save profile")


# "Email notifications": one checkbox per notification type, named email_<type> (in-app ones are always on).
EMAIL_FIELDS = {type_: f"email_{type_}" for type_ in NOTIFICATION_TYPES}
for _type, _name in EMAIL_FIELDS.items():
    setattr(ProfileForm, _name, BooleanField(EMAIL_LABELS[_type]))


class ResetPasswordForm(FlaskForm):
    """A new password, typed twice (the reset link's page; the change page adds the current one)."""

    password = PasswordField("New password", validators=[DataRequired(), Length(max=PASSWORD_MAX)],
                             description=f"At least {PASSWORD_MIN} characters.")
    confirm = PasswordField("Repeat the new password",
                            validators=[DataRequired(), EqualTo("password", "The passwords differ.")])
    submit = SubmitField("Set my new password")


class PasswordChangeForm(ResetPasswordForm):
    current_password = PasswordField("Current password", validators=[DataRequired(), Length(max=PASSWORD_MAX)])
    submit = SubmitField("Change password")


class ForgotPasswordForm(FlaskForm):
    email = EmailField("Email", validators=[DataRequired(), Length(max=EMAIL_MAX)])
    submit = SubmitField("Email me a reset link")


class ConfirmForm(FlaskForm):
    """A bare form for POST-only buttons (log out, become a host): just the CSRF token."""

    submit = SubmitField("Confirm")
