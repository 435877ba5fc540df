"""The cancellation policies: the one table of what a guest who cancels gets back, and the words for it.

A listing picks one policy and each booking copies it (`cancellation_policy`). bookings/state.py enforces the
table (refund_deadline, refund_for); the listing form, the listing page and the booking pages describe it with
summary() and share_text(), so what a page says is what the refund does. Notice is elapsed time before 15:00 on
the check-in day in the booking's time zone. A cancellation by the host or an admin refunds everything paid.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

TOTAL, HALF_WITHOUT_SERVICE_FEE = "total", "half_without_service_fee"
# share -> (how a summary says it, how a booking page says what comes back)
SHARE_WORDS = {
    TOTAL: ("Full refund", "the whole total"),
    HALF_WITHOUT_SERVICE_FEE: ("Half of the nights and cleaning fee back",
                               "half of the nights and cleaning fee (the service fee is kept)"),
}


@dataclass(frozen=True)
class Policy:
    """A guest who cancels at least `notice` before check-in gets `share` back (TOTAL or
    HALF_WITHOUT_SERVICE_FEE); later, nothing."""

    name: str
    notice: timedelta
    share: str


POLICIES = {policy.name: policy for policy in (
    Policy("flexible", timedelta(hours=24), TOTAL),
    Policy("moderate", timedelta(days=5), TOTAL),
    Policy("strict", timedelta(days=7), HALF_WITHOUT_SERVICE_FEE),
)}
CANCELLATION_POLICIES = tuple(POLICIES)  # the values of Listing/Booking.cancellation_policy


def get_policy(name: str) -> Policy:
    """The policy called `name`. Raises KeyError for an unknown name."""
    return POLICIES[name]


def notice_text(notice: timedelta) -> str:
    """A notice as people say it: '24 hours', '5 days'."""
    if notice % timedelta(days=1) == timedelta(0) and notice >= timedelta(days=2):
        count, unit = notice.days, "day"
    else:
        count, unit = int(notice / timedelta(hours=1)), "hour"
    return f"{count} {unit}{'s' if count != 1 else ''}"


def share_text(name: str) -> str:
    """What a guest of policy `name` gets back in time: 'the whole total', 'half of the nights and ...'."""
    return SHARE_WORDS[get_policy(name).share][1]


def summary(name: str) -> str:
    """One sentence for the policy: 'Full refund if canceled at least 24 hours before check-in.'"""
    policy = get_policy(name)
    return f"{SHARE_WORDS[policy.share][0]} if canceled at least {notice_text(policy.notice)} before check-in."


def summaries() -> dict[str, str]:
    """{policy name: summary()} for every policy, in the table's order."""
    return {name: summary(name) for name in POLICIES}
