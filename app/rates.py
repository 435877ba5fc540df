"""Exchange rates: converting prices between currencies, and the normalised USD price search filters on."""

from __future__ import annotations

import logging
from decimal import Decimal, InvalidOperation

from sqlalchemy import bindparam, select, update

from . import money, search_cache
from .errors import ValidationFailed
from .extensions import db
from .models import ExchangeRate, Property, PropertyPlace
from .models.money import DEFAULT_RATES

logger = logging.getLogger(__name__)

MICROS = 6  # normalised prices are kept in millionths of a US dollar


def current_rates() -> dict[str, Decimal]:
    """{currency: units per USD}; the table's rows over the built-in defaults."""
    rates = {code: Decimal(rate) for code, rate in DEFAULT_RATES.items()}
    rates.update({row.currency: Decimal(row.rate) for row in db.session.scalars(select(ExchangeRate))})
    rates["USD"] = Decimal(1)
    return rates


def to_usd_micros(amount: int, currency: str, rates: dict[str, Decimal]) -> int:
    """An amount in minor units of `currency` as millionths of a dollar (half-even)."""
    major = Decimal(amount).scaleb(-money.minor_units(currency))
    return money.round_half_even(major / rates[currency] * Decimal(10) ** MICROS)


def from_usd_micros(micros: int, currency: str, rates: dict[str, Decimal]) -> int:
    """Millionths of a dollar in minor units of `currency` (half-even)."""
    major = Decimal(micros).scaleb(-MICROS) * rates[currency]
    return money.round_half_even(major.scaleb(money.minor_units(currency)))


def convert(amount: int, source: str, target: str, rates: dict[str, Decimal]) -> int:
    """An amount in `source` minor units shown in `target` minor units; exact when both are the same."""
    if source == target:
        return amount
    return from_usd_micros(to_usd_micros(amount, source, rates), target, rates)


def micros_bound(amount: int, currency: str, rates: dict[str, Decimal], *, upper: bool) -> int:
    """The normalised bound matching a price bound in `currency`.

    Lower bound: the least micros whose shown price is >= amount; upper: the most whose shown price is <= amount.
    from_usd_micros is monotonic, so a search around the estimate finds the exact edge.
    """
    estimate = to_usd_micros(amount, currency, rates)
    if upper:
        return _last_true(lambda micros: from_usd_micros(micros, currency, rates) <= amount, estimate)
    return _last_true(lambda micros: from_usd_micros(micros, currency, rates) < amount, estimate) + 1


def _last_true(holds, start: int) -> int:
    """The largest n for which `holds` (true up to some n, false after) is true, searched from `start`:
    widening steps to bracket the edge, then bisection."""
    step = 1
    while not holds(start):
        start, step = start - step, step * 2
    low, high, step = start, start + 1, 1
    while holds(high):
        low, high, step = high, high + step, step * 2
    while high - low > 1:
        middle = (low + high) // 2
        low, high = (middle, high) if holds(middle) else (low, middle)
    return low


def set_rate(code: str, rate: str | Decimal) -> ExchangeRate:
    """Set units of `code` per USD and re-normalise every listing priced in it. Raises ValidationFailed."""
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
    row.rate = value
    db.session.add(row)
    db.session.flush()
    rates = current_rates()
    pairs = db.session.execute(select(Property.id, Property.price_per_night_amount).where(Property.currency == code)
                               .with_for_update())  # no listing edit interleaves: the copies stay true
    changes = [{"id": listing_id, "price_usd_micros": to_usd_micros(amount, code, rates)}
               for listing_id, amount in pairs.all()]
    if changes:
        db.session.execute(update(Property), changes)  # one executemany, by primary key
        places = PropertyPlace.__table__
        db.session.execute(places.update().where(places.c.property_id == bindparam("listing_id"))
                           .values(price_usd_micros=bindparam("micros")),
                           [{"listing_id": change["id"], "micros": change["price_usd_micros"]} for change in changes])
    db.session.commit()
    search_cache.bump()
    logger.info("exchange rate %s set to %s", code, value)
    return row
