"""JSON API for the host's payout account: /api/v1/profile/payout-account."""

from __future__ import annotations

from flask_jwt_extended import get_current_user

from ...authz import host_required
from ...openapi import api_doc
from ...validation import load_json
from . import account_schemas, api_bp, payout_accounts


@api_bp.get("/profile/payout-account")
@host_required
@api_doc(summary="Where the host's payouts go (masked)", response=account_schemas.PayoutAccountSchema,
         errors=(403,))
def get_payout_account():
    """`{"provider": null, "destination": null}` until the host sets one."""
    return account_schemas.dump_payout_account(payout_accounts.get_payout_account(get_current_user()))


@api_bp.put("/profile/payout-account")
@host_required
@api_doc(summary="Set where the host's payouts go", body=account_schemas.PayoutAccountInputSchema,
         response=account_schemas.PayoutAccountSchema, errors=(403, 422))
def update_payout_account():
    """Stored encrypted and answered masked. A Stripe or PayPal payout waits (`scheduled`) until its host has an
    account of that provider; the next `jobs run-due` after this pays it. 422 for a malformed email or id."""
    values = load_json(account_schemas.PayoutAccountInputSchema())
    account = payout_accounts.set_payout_account(get_current_user(), **values)
    return account_schemas.dump_payout_account(account)
