"""Hosts' payout accounts: where a provider sends a host's payouts (a Stripe connected account id, a PayPal
email). The destination is stored encrypted (User.payout_account, beside the plain User.payout_provider) and
only ever shown masked. A payout through a real provider waits, still `scheduled`, until its host has an
account of that provider; the `fake` provider needs none.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field

from sqlalchemy import func, select, update

from ...errors import PermissionDenied
from ...extensions import db
from ...models import Payout, User

logger = logging.getLogger(__name__)

# The providers whose payouts need a host's own account, and their names on pages.
PROVIDER_LABELS = {"stripe": "Stripe", "paypal": "PayPal"}
STRIPE_ACCOUNT = re.compile(r"acct_[A-Za-z0-9]+")
MAX_ACCOUNT_ID = 255  # Stripe's ids are at most 255 characters
UNPAID = ("scheduled", "failed")
SHOWN_DIGITS = 4


@dataclass(frozen=True)
class PayoutAccount:
    """A host's payout account as it may be shown: the provider and the masked destination (None when unset)."""

    provider: str | None
    destination: str | None

    @property
    def label(self) -> str | None:
        """The provider's name on pages ("Stripe", "PayPal"), or None."""
        return PROVIDER_LABELS.get(self.provider or "")


@dataclass(frozen=True)
class AccountSummary:
    """What the host's pages say about payouts and the account: the account, and {provider: how many} unpaid
    payouts wait for an account of that provider."""

    account: PayoutAccount
    waiting: dict[str, int] = field(default_factory=dict)

    @property
    def waiting_count(self) -> int:
        return sum(self.waiting.values())

    @property
    def waiting_labels(self) -> str:
        """The providers payouts wait for, by name: "Stripe", "Stripe or PayPal"."""
        return " or ".join(PROVIDER_LABELS.get(name, name) for name in sorted(self.waiting, reverse=True))


def stored_provider(user: User) -> str | None:
    """Whose account `user.payout_account` is: `payout_provider`, or, for a destination set without it (by hand,
    or before that column existed), what its shape says (an email is PayPal's, `acct_...` Stripe's)."""
    destination = user.payout_account
    if not destination:
        return None
    if user.payout_provider:
        return user.payout_provider
    if "@" in destination:
        return "paypal"
    return "stripe" if destination.startswith("acct_") else None


def mask(provider: str | None, destination: str | None) -> str | None:
    """The destination with most of it hidden: `j***@example.com`, `acct_***1234`; None for None."""
    if not destination:
        return None
    if provider == "paypal" or "@" in destination:
        local, _, domain = destination.rpartition("@")
        return f"{local[:1]}***@{domain}"
    prefix = "acct_" if destination.startswith("acct_") else ""
    rest = destination[len(prefix):]
    return f"{prefix}***{rest[-SHOWN_DIGITS:] if len(rest) > SHOWN_DIGITS else ''}"


def get_payout_account(user: User) -> PayoutAccount:
    """The user's payout account, masked; PayoutAccount(None, None) when none is set."""
    provider = stored_provider(user)
    return PayoutAccount(provider, mask(provider, user.payout_account))


def set_payout_account(user: User, *, provider: str, destination: str) -> PayoutAccount:
    """Set where the host's payouts go: a Stripe account id or a PayPal email, as
    account_schemas.PayoutAccountInputSchema loads them. Payouts of that provider that were waiting or backing off
    are tried on the next `jobs run-due`. Returns the account, masked. Raises PermissionDenied (not a host)."""
    if not user.is_host:
        raise PermissionDenied("Only hosts have a payout account.")
    user.payout_provider, user.payout_account = provider, destination
    db.session.execute(update(Payout).where(Payout.host_id == user.id, Payout.status.in_(UNPAID),
                                            Payout.provider == provider).values(next_attempt_at=None))
    db.session.commit()
    logger.info("user %s set a %s payout account", user.id, provider)
    return get_payout_account(user)


def payout_destination(host: User | None, provider_name: str) -> str | None:
    """Where to send the host's payout through `provider_name`: their account of that provider, or None when
    they have none (or one of another provider). The fake provider pays any account set, else a made-up one."""
    if host is None:
        return None
    if provider_name == "fake":
        return host.payout_account or f"acct_fake_host_{host.id}"
    return host.payout_account if stored_provider(host) == provider_name else None


def waiting_message(provider_name: str) -> str:
    """The payout's last_error while it waits for its host's account."""
    return f"Waiting for the host's {PROVIDER_LABELS.get(provider_name, provider_name)} payout account."


def wait_for_account(payout: Payout) -> int:
    """Leave a payout whose host has no account for its provider `scheduled`, saying why; every `jobs run-due`
    looks again (nothing was attempted, so no attempt is counted). Returns 0, the number paid."""
    message = waiting_message(payout.provider)
    if (payout.status, payout.last_error, payout.next_attempt_at) != ("scheduled", message, None):
        logger.info("payout %s waits for host %s's %s payout account", payout.id, payout.host_id, payout.provider)
    payout.status, payout.last_error, payout.next_attempt_at = "scheduled", message, None
    db.session.commit()
    return 0


def waiting_payouts(host: User) -> dict[str, int]:
    """{provider: how many} of the host's unpaid payouts that wait for a payout account of that provider."""
    counts = db.session.execute(select(Payout.provider, func.count()).where(
        Payout.host_id == host.id, Payout.status.in_(UNPAID)).group_by(Payout.provider)).all()
    return {provider: int(count) for provider, count in counts if payout_destination(host, provider) is None}


def account_summary(host: User) -> AccountSummary:
    """The host's account (masked) and the payouts waiting for one, for the host's pages."""
    return AccountSummary(get_payout_account(host), waiting_payouts(host))
