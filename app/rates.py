"""Exchange rates: converting prices between currencies exactly, and the normalised USD price search filters on."""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from fractions import Fraction

from sqlalchemy import bindparam, select, update

from . import audit, money, search_cache
from .errors import ValidationFailed
from .extensions import db
from .models import ExchangeRate, Listing, ListingPlace, User
from .models.money import DEFAULT_RATES

logger = logging.getLogger(__name__)

MICROS = 6  # normalised prices are kept in millionths of a US dollar


RENORMALISE_BATCH = 500  # listings re-normalised per transaction after a rate change


def current_rates() -> dict[str, Decimal]:
    """{currency: units per USD}; the table's rows over the built-in defaults."""
    rates = {code: Decimal(rate) for code, rate in DEFAULT_RATES.items()}
    rates.update({row.currency: Decimal(row.rate) for row in db.session.scalars(select(ExchangeRate))})
    rates["USD"] = Decimal(1)
    return rates


def to_usd_micros(amount: int, currency: str, rates: dict[str, Decimal]) -> int:
    """An amount in minor units of `currency` as millionths of a dollar (half-even): the normalised search key.

    Never shown: it orders and bounds prices across currencies (see price_window), while every price shown is
    convert()'s exact conversion.
    """
    major = Decimal(amount).scaleb(-money.minor_units(currency))
    return money.round_half_even(major / rates[currency] * Decimal(10) ** MICROS)


def factor(source: str, target: str, rates: dict[str, Decimal]) -> Fraction:
    """Minor units of `target` per minor unit of `source`, exactly (rates are units per USD)."""
    digits = money.minor_units(target) - money.minor_units(source)
    return Fraction(rates[target]) / Fraction(rates[source]) * Fraction(10) ** digits


def convert(amount: int | Fraction, source: str, target: str, rates: dict[str, Decimal]) -> int:
    """An amount of `source` minor units (an exact Fraction for an average) in `target` minor units: the exact
    conversion, rounded half-even once at the end (the contract's rule). Raises KeyError for an unknown currency."""
    if source == target:
        return money.round_half_even(Fraction(amount))
    return money.round_half_even(Fraction(amount) * factor(source, target, rates))


def least_amount(shown: int, source: str, target: str, rates: dict[str, Decimal], nights: int = 1) -> int:
    """The least amount of `source` minor units that convert() shows as at least `shown` minor units of `target`
    (0 when every amount is); with `nights`, the least total of that many nights whose average (total / nights,
    exactly) convert() shows as at least `shown`. convert() never decreases as the amount grows, so the amounts
    shown at least `shown` are exactly those from this one on."""
    exact = max(0, math.ceil((shown - Fraction(1, 2)) * nights / factor(source, target, rates)))
    shows = convert(Fraction(exact, nights), source, target, rates)
    return exact if shows >= shown else exact + 1  # a tie that rounds down


def stay_bounds(low: int | None, high: int | None, currency: str, nights: int,
                rates: dict[str, Decimal]) -> dict[str, tuple[int | None, int | None]]:
    """{listing currency: (least, greatest) total of a stay of `nights` nights, in its minor units, whose average
    nightly price convert() shows within [low, high] minor units of `currency`} (None: unbounded): search's
    price filter on a dated search, exact as price_window is."""
    codes = sorted(code for code in rates if money.is_supported(code))
    return {code: (None if low is None else least_amount(low, code, currency, rates, nights),
                   None if high is None else least_amount(high + 1, code, currency, rates, nights) - 1)
            for code in codes}


def micros_per_minor_unit(currency: str, rates: dict[str, Decimal]) -> Decimal:
    """Millionths of a dollar per minor unit of `currency` (to_usd_micros before its rounding): the factor that
    turns a dated search's average price into the normalised key it sorts by."""
    return Decimal(10) ** (MICROS - money.minor_units(currency)) / rates[currency]


@dataclass(frozen=True)
class Exclusion:
    """Listings priced in `currency` whose normalised price lies in [micros_from, micros_to] but whose shown
    price misses the bound: amount below `below` (a lower bound's), or above `above` (an upper bound's)."""

    currency: str
    micros_from: int
    micros_to: int
    below: int | None = None
    above: int | None = None

    def holds(self, micros: int, currency: str, amount: int) -> bool:
        """True for a listing this exclusion leaves out."""
        return (currency == self.currency and self.micros_from <= micros <= self.micros_to
                and (self.below is None or amount < self.below) and (self.above is None or amount > self.above))


@dataclass(frozen=True)
class PriceWindow:
    """A price bound in one currency as conditions on the normalised price: `low <= price_usd_micros <= high`
    (None: unbounded), less the listings of each exclusion. A listing passes exactly when the price convert()
    shows it at is within the bounds."""

    low: int | None
    high: int | None
    exclusions: tuple[Exclusion, ...] = ()

    def admits(self, micros: int, currency: str, amount: int) -> bool:
        """True for a listing that passes (what the SQL of search.query says, for one listing)."""
        return ((self.low is None or micros >= self.low) and (self.high is None or micros <= self.high)
                and not any(exclusion.holds(micros, currency, amount) for exclusion in self.exclusions))


def price_window(low: int | None, high: int | None, currency: str, rates: dict[str, Decimal]) -> PriceWindow:
    """The normalised bounds of shown prices [low, high] in `currency` minor units (None: unbounded).

    For each listing currency, the shown price passes from one amount on (least_amount), and to_usd_micros never
    decreases with the amount. The lower bound is the least normalised price of a first passing amount; a
    currency whose last failing amount has a normalised price at or above it (the two lie within a micro, rare)
    gets an exclusion. The upper bound is the mirror image. Exact for listings whose stored normalised price is
    to_usd_micros() under these rates, which rates.set_rate keeps true.
    """
    codes = sorted(code for code in rates if money.is_supported(code))
    exclusions: list[Exclusion] = []
    low_micros = high_micros = None
    if low is not None:
        firsts = {code: least_amount(low, code, currency, rates) for code in codes}
        low_micros = min(to_usd_micros(first, code, rates) for code, first in firsts.items())
        for code, first in firsts.items():
            failing = to_usd_micros(first - 1, code, rates) if first > 0 else None
            if failing is not None and failing >= low_micros:
                exclusions.append(Exclusion(code, low_micros, failing, below=first))
    if high is not None:
        lasts = {code: least_amount(high + 1, code, currency, rates) - 1 for code in codes}
        high_micros = max(to_usd_micros(last, code, rates) for code, last in lasts.items())
        for code, last in lasts.items():
            failing = to_usd_micros(last + 1, code, rates)
            if failing <= high_micros:
                exclusions.append(Exclusion(code, failing, high_micros, above=last))
    return PriceWindow(low_micros, high_micros, tuple(exclusions))


def _text(rate: str | Decimal | None) -> str | None:
    """A rate as plain text without trailing zeros ('0.92', '150'), for the audit log."""
    return None if rate is None else format(Decimal(rate).normalize(), "f")


def set_rate(code: str, rate: str | Decimal, actor: User | None = None, *, command_line: bool = False) -> ExchangeRate:
    """Set units of `code` per USD and re-normalise every listing priced in it. With `actor` (an admin), or with
    `command_line` (`flask rates set`: the entry's actor is None), the change is audited (rate.set, before/after)
    in the same transaction as the rate. Raises ValidationFailed.

    The rate commits first; then the listings' search keys are re-normalised RENORMALISE_BATCH listings per
    transaction, so bookings and edits of listings in that currency wait for one short batch at most, never for
    the whole catalogue. A listing edit locks its row before it reads the rate, so whatever interleaves, each
    listing ends normalised under the last committed rate. Until the last batch commits, a search may bound a
    not yet re-normalised listing by the old rate (prices shown and charged never use these keys).
    """
    code = (code or "").upper()
    if not money.is_supported(code) or code == "USD":
        raise ValidationFailed({"code": ["Use a supported currency other than USD."]})
    try:
        value = Decimal(str(rate))
    except InvalidOperation:
        raise ValidationFailed({"rate": ["Give a number, e.g. 0.92."]}) from None
    if not value.is_finite() or value <= 0 or value >= Decimal("1e9"):
        raise ValidationFailed({"rate": ["Give a positive number below one billion."]})
    row = db.session.get(ExchangeRate, code) or ExchangeRate(currency=code)
    before = row.rate if row.rate is not None else DEFAULT_RATES.get(code)
    row.rate = value
    if actor is not None or command_line:
        audit.record(actor, "rate.set", "rate", None, {code: (_text(before), _text(value))})
    db.session.add(row)
    db.session.commit()
    after_id = 0
    while after_id is not None:
        after_id = renormalise_batch(code, after_id)
    search_cache.bump()
    logger.info("exchange rate %s set to %s", code, value)
    return row


def renormalise_batch(code: str, after_id: int) -> int | None:
    """Re-normalise the next RENORMALISE_BATCH listings priced in `code` with ids above `after_id`, under their row
    locks and the rate committed now, in one transaction; returns the last id done, or None when none was left."""
    try:
        rates = current_rates()
        pairs = db.session.execute(
            select(Listing.id, Listing.price_per_night_amount).where(Listing.currency == code, Listing.id > after_id)
            .order_by(Listing.id).limit(RENORMALISE_BATCH).with_for_update()).all()
        changes = [{"id": listing_id, "price_usd_micros": to_usd_micros(amount, code, rates)}
                   for listing_id, amount in pairs]
        if changes:
            db.session.execute(update(Listing), changes)  # one executemany, by primary key
            places = ListingPlace.__table__
            db.session.execute(places.update().where(places.c.listing_id == bindparam("listing"))
                               .values(price_usd_micros=bindparam("micros")),
                               [{"listing": change["id"], "micros": change["price_usd_micros"]} for change in changes])
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    return pairs[-1][0] if len(pairs) == RENORMALISE_BATCH else None
