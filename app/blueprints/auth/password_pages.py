"""HTML pages for passwords and sessions: change the password, sign out everywhere, forgot and reset by email."""

from __future__ import annotations

from flask import current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user, logout_user

from ...authz import login_required
from ...errors import DomainError
from ...forms_util import show_error
from . import bp, password_change, password_reset
from .forms import ConfirmForm, ForgotPasswordForm, PasswordChangeForm, ResetPasswordForm
from .identity import begin_browser_session
from .throttle import auth_rate_limit, client_address, known_device


@bp.route("/profile/password", methods=["GET", "POST"])
@login_required
def change_password():
    """Change the password (linked from the profile); every other session and token ends, this browser stays in."""
    if not current_user.password_hash:
        return render_template("auth/password_change.html", form=None)
    form = PasswordChangeForm()
    status, headers = 200, {}
    if form.validate_on_submit():
        user = current_user._get_current_object()
        try:
            password_change.change_password(user, current_password=form.current_password.data,
                                     new_password=form.password.data, address=client_address(),
                                     device=known_device())
        except DomainError as exc:
            show_error(form, exc, {"new_password": "password"})
            if exc.status_code == 429:
                status, headers = 429, exc.headers
        else:
            kept_signed_in = current_app.config.get("REMEMBER_COOKIE_NAME", "remember_token") in request.cookies
            begin_browser_session(user, remember=kept_signed_in)  # "keep me signed in" stays as it was
            flash("Your password is changed. Every other device and app is signed out.", "success")
            return redirect(url_for("auth.profile"))
    return render_template("auth/password_change.html", form=form), status, headers


@bp.post("/profile/sign-out-everywhere")
@login_required
def sign_out_everywhere():
    """End every session and token of the account, this browser's too."""
    if ConfirmForm().validate_on_submit():
        password_change.sign_out_everywhere(current_user._get_current_object())
        logout_user()
        flash("You are signed out on every device and app. Log in again to continue.", "info")
        return redirect(url_for("auth.login"))
    return redirect(url_for("auth.profile"))


@bp.route("/password/forgot", methods=["GET", "POST"])
@auth_rate_limit
def forgot_password():
    """Ask for a reset link; the answer is the same whether or not the email has an account."""
    form = ForgotPasswordForm()
    status, headers = 200, {}
    if form.validate_on_submit():
        try:
            password_reset.request_password_reset(form.email.data, address=client_address())
        except DomainError as exc:
            show_error(form, exc)
            status, headers = exc.status_code, exc.headers
        else:
            minutes = current_app.config["PASSWORD_RESET_MINUTES"]
            flash(f"If an account has this email, a reset link is on its way; it works once, for {minutes} minutes.",
                  "info")
            return redirect(url_for("auth.login"))
    return render_template("auth/password_forgot.html", form=form), status, headers


@bp.route("/password/reset/<token>", methods=["GET", "POST"])
@auth_rate_limit
def reset_password(token: str):
    """The emailed link: choose a new password; then every older session and token of the account ends."""
    if not password_reset.is_usable(password_reset.find_reset(token)):
        return render_template("auth/password_reset.html", form=None, bad_link=password_reset.BAD_LINK), 422
    form = ResetPasswordForm()
    if form.validate_on_submit():
        try:
            password_reset.reset_password(token, form.password.data)
        except DomainError as exc:
            show_error(form, exc)
        else:
            if current_user.is_authenticated:
                logout_user()
            flash("Your password is set. Log in with it.", "success")
            return redirect(url_for("auth.login"))
    return render_template("auth/password_reset.html", form=form, bad_link=None)
