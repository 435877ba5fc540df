"""HTML pages for accounts: sign-up, log-in, log-out, profile."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user, logout_user

from ...authz import login_required
from ...errors import DomainError
from ...forms_util import show_error
from ...navigation import safe_next
from ...validation import load_data
from . import bp, oauth_accounts, profiles, schemas, services
from .forms import EMAIL_FIELDS, PROFILE_FIELDS, ConfirmForm, LoginForm, ProfileForm, RegisterForm
from .identity import begin_browser_session
from .oauth_providers import configured_providers
from .preferences import email_preferences
from .throttle import client_address, known_device, remember_device


@bp.route("/register", methods=["GET", "POST"])
def register():
    """Sign-up page: choose guest or host."""
    if current_user.is_authenticated:
        return redirect(url_for("main.index"))
    form = RegisterForm(role=request.args.get("role", "guest"))
    if form.validate_on_submit():
        try:
            user = services.register_user(email=form.email.data, password=form.password.data,
                                          name=form.name.data, role=form.role.data)
        except DomainError as exc:
            show_error(form, exc)
        else:
            begin_browser_session(user)
            flash(f"Welcome to Abode, {user.name}!", "success")
            return redirect(url_for("main.index"))
    return render_template("auth/register.html", form=form, providers=configured_providers())


@bp.route("/login", methods=["GET", "POST"])
def login():
    """Log-in page; failures share the API's budgets per email and per client address (429 once spent)."""
    if current_user.is_authenticated:
        return redirect(safe_next(request.args.get("next"), url_for("main.index")))
    form = LoginForm()
    status, headers = 200, {}
    if form.validate_on_submit():
        try:
            user = services.authenticate(email=form.email.data, password=form.password.data,
                                         address=client_address(), device=known_device())
        except DomainError as exc:
            form.password.data = ""
            flash(exc.message, "danger")
            if exc.status_code == 429:
                status, headers = 429, exc.headers
        else:
            begin_browser_session(user, remember=form.remember.data)
            remember_device(user)
            flash(f"Welcome back, {user.name}.", "success")
            return redirect(safe_next(request.args.get("next"), url_for("main.index")))
    return render_template("auth/login.html", form=form, providers=configured_providers()), status, headers


@bp.post("/logout")
@login_required
def logout():
    """End the browser session (POST with CSRF, so no page can log a user out)."""
    if ConfirmForm().validate_on_submit():
        logout_user()
        flash("You are logged out.", "info")
    return redirect(url_for("main.index"))


@bp.route("/profile", methods=["GET", "POST"])
@login_required
def profile():
    """Profile page: edit details, preferences, email notifications and photo."""
    emails = {EMAIL_FIELDS[type_]: wanted for type_, wanted in email_preferences(current_user).items()}
    form = ProfileForm(obj=current_user, **emails)
    if form.validate_on_submit():
        try:
            values = load_data(schemas.ProfileUpdateSchema(), {name: form[name].data for name in PROFILE_FIELDS})
            choices = {type_: bool(form[name].data) for type_, name in EMAIL_FIELDS.items()}
            profiles.update_profile(current_user, **values, notification_emails=choices,
                                    photo=form.photo.data.stream if form.photo.data else None)
        except DomainError as exc:
            show_error(form, exc)
        else:
            flash("Your profile is saved.", "success")
            return redirect(url_for("auth.profile"))
    return render_template("auth/profile.html", form=form, host_form=ConfirmForm(),
                           email_fields=[form[name] for name in EMAIL_FIELDS.values()],
                           sign_in_methods=oauth_accounts.sign_in_methods(current_user))


@bp.post("/profile/become-host")
@login_required
def become_host():
    """Turn a guest account into a host account."""
    if ConfirmForm().validate_on_submit():
        profiles.become_host(current_user)
        flash("You are now a host: you can list your place and still book stays.", "success")
    return redirect(url_for("auth.profile"))

