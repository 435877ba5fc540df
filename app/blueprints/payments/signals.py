"""What payments announce: each sent inside the transaction that records the outcome, by the one function that
records it (charges.apply_charge for a charge, payouts for a payout).

Parts above payments (notifications) connect to these; receivers get the row as `sender`, may add rows to the
session and must not commit.
"""

from __future__ import annotations

from blinker import Namespace

_signals = Namespace()

payment_succeeded = _signals.signal("payment-succeeded", doc="A charge succeeded and paid its booking.")
payment_failed = _signals.signal("payment-failed", doc="The provider refused a charge (the guest may try again).")
payout_paid = _signals.signal("payout-paid", doc="A host's payout was sent.")
payout_failed = _signals.signal("payout-failed", doc="A payout attempt failed; kw: `first` (its first failure).")
