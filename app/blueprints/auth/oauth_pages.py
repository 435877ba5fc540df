"""HTML pages of sign-in with Google and Facebook: the start and the callback of the browser flow, and linking and
unlinking providers from the profile. The account rules are oauth_accounts.py's, as for the mobile apps."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user

from ...authz import login_required
from ...errors import DomainError
from ...navigation import safe_next
from . import bp, oauth_accounts, oauth_web
from .forms import ConfirmForm
from .identity import begin_browser_session
from .oauth_providers import PROVIDERS, ensure_configured
from .services import AccountSuspended
from .throttle import auth_rate_limit, remember_device

PROBLEMS = {  # FlowProblem.kind -> (status, heading, what to do); {label} is the provider's name
    "state": (400, "This sign-in has expired or was already used",
              "Sign-in links work once and for 15 minutes. Start again from the log-in page."),
    "provider": (502, "{label} could not confirm who you are",
                 "{label} refused the sign-in or answered something we could not verify. Try again, or log in "
                 "with your email and password."),
    "unavailable": (503, "{label} is not answering right now",
                    "We could not reach {label}. Try again in a few minutes, or log in with your email and "
                    "password."),
    "down": (503, "Sign-in with {label} is not available right now",
             "Try again in a few minutes, or log in with your email and password."),
    "email_required": (422, "{label} did not share your email address",
                       "Abode needs an email address for your bookings. Allow Abode to see it at {label}, or sign "
                       "up with an email and a password."),
}


def _callback_url(provider: str) -> str:
    return url_for("auth.oauth_callback", provider=provider, _external=True)


def _problem(provider: str, kind: str):
    status, heading, detail = PROBLEMS[kind]
    label = PROVIDERS[provider]
    headers = {"Retry-After": "60"} if status == 503 else None
    html = render_template("auth/oauth_problem.html", status=status, heading=heading.format(label=label),
                           detail=detail.format(label=label), provider=provider, label=label)
    return html, status, headers


@bp.get("/auth/oauth/<provider>")
@auth_rate_limit
def oauth_start(provider: str):
    """Send the browser to the provider's sign-in page; `next` (a path on this site) is where it ends."""
    ensure_configured(provider)
    next_url = safe_next(request.args.get("next"), "") or None
    if current_user.is_authenticated:
        return redirect(next_url or url_for("main.index"))
    try:
        return oauth_web.start(provider, _callback_url(provider), next_url=next_url)
    except oauth_web.FlowProblem as problem:
        return _problem(provider, problem.kind)


@bp.get("/auth/oauth/<provider>/callback")
@auth_rate_limit
def oauth_callback(provider: str):
    """Where the provider sends the browser back: sign the person in (or finish linking), or say what went wrong."""
    ensure_configured(provider)
    label = PROVIDERS[provider]
    try:
        flow = oauth_web.finish(provider)
    except oauth_web.FlowCancelled:
        flash(f"You cancelled signing in with {label}. Nothing was changed.", "info")
        return redirect(url_for("auth.profile") if current_user.is_authenticated else url_for("auth.login"))
    except oauth_web.FlowProblem as problem:
        return _problem(provider, problem.kind)
    if flow.link_user_id is not None:
        return _finish_link(flow)
    try:
        user, created = oauth_accounts.sign_in_with_identity(flow.identity)
    except AccountSuspended as exc:  # the message and page of a refused password login
        flash(exc.message, "danger")
        return redirect(url_for("auth.login"))
    except oauth_accounts.LinkRequired as exc:
        flash(exc.message, "warning")
        return redirect(url_for("auth.login", next=url_for("auth.profile", _anchor="sign-in-methods")))
    except oauth_accounts.EmailRequired:
        return _problem(provider, "email_required")
    begin_browser_session(user)
    remember_device(user)
    flash(f"Welcome to Abode, {user.name}!" if created else f"Welcome back, {user.name}.", "success")
    return redirect(safe_next(flow.next_url, url_for("main.index")))


def _finish_link(flow: oauth_web.FinishedFlow):
    label = PROVIDERS[flow.identity.provider]
    if not current_user.is_authenticated or current_user.id != flow.link_user_id:
        flash(f"Log in again to link {label} to your account.", "warning")
        return redirect(url_for("auth.login", next=url_for("auth.profile", _anchor="sign-in-methods")))
    try:
        oauth_accounts.link_identity(current_user, flow.identity)
    except DomainError as exc:
        flash(exc.message, "danger")
    else:
        flash(f"{label} is linked: you can sign in with it from now on.", "success")
    return redirect(url_for("auth.profile", _anchor="sign-in-methods"))


@bp.post("/profile/sign-in-methods/<provider>/link")
@login_required
@auth_rate_limit
def link_provider(provider: str):
    """Start linking a provider to the signed-in account: the person signs in there to prove it is theirs."""
    ensure_configured(provider)
    if not ConfirmForm().validate_on_submit():
        flash("The form expired; try again.", "warning")
        return redirect(url_for("auth.profile", _anchor="sign-in-methods"))
    try:
        return oauth_web.start(provider, _callback_url(provider), next_url=None, link_user_id=current_user.id)
    except oauth_web.FlowProblem as problem:
        return _problem(provider, problem.kind)


@bp.post("/profile/sign-in-methods/<provider>/unlink")
@login_required
def unlink_provider(provider: str):
    """Unlink a provider, unless it is the account's last way to sign in."""
    if provider not in PROVIDERS:
        ensure_configured(provider)  # 404
    if ConfirmForm().validate_on_submit():
        try:
            oauth_accounts.unlink_identity(current_user, provider)
        except DomainError as exc:
            flash(exc.message, "danger")
        else:
            flash(f"{PROVIDERS[provider]} is unlinked.", "success")
    return redirect(url_for("auth.profile", _anchor="sign-in-methods"))
