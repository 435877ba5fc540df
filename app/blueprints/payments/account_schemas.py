"""Schemas of the payout-account API: they document it (OpenAPI) and serialise the account; payout_accounts.py
validates input."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from .payout_accounts import PROVIDER_LABELS, PayoutAccount


class PayoutAccountInputSchema(Schema):
    """`{"provider": "stripe", "account_id"}` or `{"provider": "paypal", "email"}`."""

    provider = fields.String(required=True, validate=validate.OneOf(list(PROVIDER_LABELS)))
    account_id = fields.String(metadata={"description": "with stripe: the connected account id, acct_..."})
    email = fields.String(metadata={"description": "with paypal: the PayPal account's email address"})


class PayoutAccountSchema(Schema):
    """The account, masked; both null until the host sets one."""

    provider = fields.String(allow_none=True, validate=validate.OneOf(list(PROVIDER_LABELS)))
    destination = fields.String(allow_none=True, metadata={"description": "masked: j***@example.com, "
                                                                          "acct_***1234"})


def payout_account_to_dict(account: PayoutAccount) -> dict:
    """The contract's payout account object."""
    return {"provider": account.provider, "destination": account.destination}
