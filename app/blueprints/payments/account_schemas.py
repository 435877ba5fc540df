"""Schemas of the payout-account API: they load and check what a host sends (the API and the payout account
page), dump the masked account, and document both (OpenAPI)."""

from __future__ import annotations

from email_validator import EmailNotValidError, validate_email
from marshmallow import Schema, ValidationError, fields, post_load, validate

from .payout_accounts import MAX_ACCOUNT_ID, PROVIDER_LABELS, STRIPE_ACCOUNT, PayoutAccount

_PROVIDER = "choose stripe or paypal"


class PayoutAccountInputSchema(Schema):
    """`{"provider": "stripe", "account_id"}` or `{"provider": "paypal", "email"}`; loads as
    `{"provider", "destination"}` (the trimmed account id, or the normalised email). Only the chosen provider's
    field is read."""

    provider = fields.String(required=True, validate=validate.OneOf(list(PROVIDER_LABELS), error=_PROVIDER),
                             error_messages={"required": _PROVIDER, "null": _PROVIDER, "invalid": _PROVIDER})
    account_id = fields.Raw(allow_none=True, metadata={
        "type": "string", "description": "with stripe: the connected account id, acct_..."})
    email = fields.Raw(allow_none=True, metadata={
        "type": "string", "description": "with paypal: the PayPal account's email address"})

    @post_load
    def _destination(self, data: dict, **kwargs) -> dict:
        provider = data["provider"]
        if provider == "stripe":
            return {"provider": provider, "destination": _account_id(data.get("account_id"))}
        return {"provider": provider, "destination": _email(data.get("email"))}


def _account_id(value: object) -> str:
    text = value.strip() if isinstance(value, str) else ""
    if not text:
        raise ValidationError({"account_id": ["give your Stripe account id (acct_...)"]})
    if len(text) > MAX_ACCOUNT_ID or not STRIPE_ACCOUNT.fullmatch(text):
        raise ValidationError({"account_id": ["a Stripe account id is acct_ followed by letters and digits"]})
    return text


def _email(value: object) -> str:
    text = value.strip() if isinstance(value, str) else ""
    if not text:
        raise ValidationError({"email": ["give the email address of your PayPal account"]})
    try:
        return validate_email(text, check_deliverability=False).normalized
    except EmailNotValidError as exc:
        raise ValidationError({"email": [str(exc)]}) from None


class PayoutAccountSchema(Schema):
    """The account, masked; both null until the host sets one."""

    provider = fields.String(allow_none=True, validate=validate.OneOf(list(PROVIDER_LABELS)))
    destination = fields.String(allow_none=True, metadata={"description": "masked: j***@example.com, "
                                                                          "acct_***1234"})


def dump_payout_account(account: PayoutAccount) -> dict:
    """The contract's payout account object."""
    return PayoutAccountSchema().dump(account)
