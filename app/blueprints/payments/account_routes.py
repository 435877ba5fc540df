"""The host's payout account page (/host/payout-account), and what the Payouts page says about the account."""

from __future__ import annotations

from flask import current_app, flash, redirect, render_template, url_for

from ...authz import current_account, host_required
from ...errors import DomainError
from ...forms_util import show_error
from ...validation import load_data
from . import account_schemas, bp, payout_accounts
from .account_forms import PayoutAccountForm


def payout_account_summary() -> payout_accounts.AccountSummary | None:
    """The signed-in host's payout account (masked) and the payouts waiting for one; None for anyone else."""
    user = current_account()
    if user is None or not user.is_host:
        return None
    return payout_accounts.account_summary(user)


def suggested_provider() -> str:
    """The provider the form starts on when no account is set: the one this site pays through, else Stripe."""
    configured = current_app.config.get("PAYMENT_PROVIDER")
    return configured if configured in payout_accounts.PROVIDER_LABELS else "stripe"


@bp.route("/host/payout-account", methods=["GET", "POST"])
@host_required
def payout_account():
    """Show the host's payout account masked, and set a Stripe account id or a PayPal email."""
    user = current_account()
    form = PayoutAccountForm(provider=payout_accounts.stored_provider(user) or suggested_provider())
    if form.validate_on_submit():
        data = {"provider": form.provider.data, "account_id": form.account_id.data, "email": form.email.data}
        try:
            values = load_data(account_schemas.PayoutAccountInputSchema(), data)
            account = payout_accounts.set_payout_account(user, **values)
        except DomainError as exc:
            show_error(form, exc)
        else:
            flash(f"Saved: your {account.label} payouts go to {account.destination}. Payouts that were waiting "
                  "for it are sent on the next payout run.", "success")
            return redirect(url_for(".payout_account"))
    return render_template("payments/payout_account.html", form=form,
                           summary=payout_accounts.account_summary(user))
