"""Money: supported currencies, minor units and rounding. Amounts are integers in minor units, never floats."""

from __future__ import annotations

from decimal import ROUND_HALF_EVEN, Decimal
from fractions import Fraction

# ISO 4217 code -> digits after the decimal point (the minor unit). JPY and KRW have none.
CURRENCIES: dict[str, int] = {
    "USD": 2, "EUR": 2, "GBP": 2, "JPY": 0, "CAD": 2, "AUD": 2, "CHF": 2, "SEK": 2,
    "NOK": 2, "DKK": 2, "MXN": 2, "BRL": 2, "INR": 2, "KRW": 0, "SGD": 2, "NZD": 2,
}


def is_supported(code: str | None) -> bool:
    """True when `code` is a currency Abode accepts."""
    return isinstance(code, str) and code in CURRENCIES


def minor_units(code: str) -> int:
    """Digits of the minor unit of `code`; raises KeyError for an unsupported currency."""
    return CURRENCIES[code]


def round_half_even(value: Decimal | Fraction) -> int:
    """Round an amount of minor units (a Decimal, or an exact Fraction) to an integer, half to even (the
    contract's rule)."""
    if isinstance(value, Fraction):
        return round(value)  # Fraction rounds exactly, half to even
    return int(value.quantize(Decimal(1), rounding=ROUND_HALF_EVEN))


def percentage(amount: int, percent: Decimal | int | str) -> int:
    """`percent` % of `amount` minor units, rounded half-even."""
    return round_half_even(Decimal(amount) * Decimal(str(percent)) / Decimal(100))


def to_major(amount: int, code: str) -> Decimal:
    """The amount in major units (12550 USD -> Decimal('125.50')), for display only."""
    return Decimal(amount).scaleb(-minor_units(code))


def money(amount: int, code: str) -> dict:
    """The contract's Money object."""
    return {"amount": int(amount), "currency": code}


def currency_list() -> list[dict]:
    """Supported currencies as the API lists them."""
    return [{"code": code, "minor_units": digits} for code, digits in sorted(CURRENCIES.items())]


def to_minor(value: Decimal | str, code: str) -> int:
    """Major units (e.g. '125.50') to minor units (12550); ValueError when it has more decimals than the currency."""
    amount = Decimal(str(value)).scaleb(minor_units(code))
    if amount != amount.to_integral_value():
        raise ValueError(f"{code} amounts have at most {minor_units(code)} decimal places")
    return int(amount)


def format_money(amount: int, code: str, locale: str = "en") -> str:
    """Human text for an amount in minor units, in the reader's locale ('$125.50', '￥12,500', '90,00 €');
    English when Babel does not know the locale."""
    from babel.core import UnknownLocaleError
    from babel.numbers import format_currency

    try:
        return format_currency(to_major(amount, code), code, locale=locale)
    except (UnknownLocaleError, ValueError):
        return format_currency(to_major(amount, code), code, locale="en")
