"""Conversions between currencies: one exact conversion rounded half-even once, and price bounds whose normalised
edges are exactly those of the prices shown."""

from __future__ import annotations

import random
import re
from datetime import date, timedelta
from decimal import ROUND_HALF_EVEN, Decimal, localcontext

import pytest

from app import money, rates
from app.blueprints.bookings import services as bookings

from ..support.factories import make_listing, make_user

TABLE = {"USD": Decimal(1), "EUR": Decimal("0.92"), "JPY": Decimal("150"), "KRW": Decimal("1330"),
         "GBP": Decimal("0.79"), "BRL": Decimal("5.0"), "DKK": Decimal("6.9"), "SEK": Decimal("7.358234")}
PAIRS = [(source, target) for source in sorted(TABLE) for target in sorted(TABLE)]


def exact_conversion(amount: int, source: str, target: str) -> int:
    """The conversion worked out independently: 100 significant digits hold every quotient here exactly or far
    from a tie (a tie is a terminating decimal), then one half-even rounding."""
    with localcontext() as context:
        context.prec = 100
        value = Decimal(amount).scaleb(money.minor_units(target) - money.minor_units(source))
        value = value * TABLE[target] / TABLE[source]
        return int(value.to_integral_value(rounding=ROUND_HALF_EVEN))


def test_convert_rounds_the_exact_tie_half_even_once():
    # 125.03 EUR at 0.92 EUR and 6.9 DKK per USD is exactly 937.725 DKK: half-even gives 937.72, not 937.73.
    assert rates.convert(12503, "EUR", "DKK", TABLE) == 93772
    assert rates.convert(12501, "EUR", "DKK", TABLE) == 93758  # 937.575 -> the even 937.58
    assert rates.convert(12503, "EUR", "EUR", TABLE) == 12503


@pytest.mark.parametrize("source, target", PAIRS)
def test_convert_is_the_exact_conversion_rounded_once(source, target):
    rng = random.Random(f"{source}{target}")
    amounts = [0, 1, 2, 3, 99, 100, 12503, 10**9] + [rng.randint(0, 2_000_000) for _ in range(400)]
    wrong = [(amount, rates.convert(amount, source, target, TABLE), exact_conversion(amount, source, target))
             for amount in amounts if rates.convert(amount, source, target, TABLE)
             != exact_conversion(amount, source, target)]
    assert not wrong, f"{len(wrong)} amounts off, e.g. (amount, shown, exact) {wrong[:3]}"


def test_every_tie_of_eur_to_dkk_rounds_to_even():
    # Every odd number of euro cents is a tie in DKK (x 7.5): thousands of them, none may round away from even.
    wrong = [amount for amount in range(1, 40_001, 2)
             if rates.convert(amount, "EUR", "DKK", TABLE) != exact_conversion(amount, "EUR", "DKK")]
    assert not wrong, f"{len(wrong)} of 20000 ties off, e.g. {wrong[:5]}"


def _bounds(rng: random.Random, target: str) -> list[int]:
    """Bounds right at the prices shown for some amounts, and either side of them, and a few anywhere."""
    shown = [rates.convert(rng.randint(0, 300_000), source, target, TABLE) for source in TABLE for _ in range(6)]
    shown += [rates.convert(amount, "EUR", target, TABLE) for amount in (12503, 12501, 99_999)]
    return sorted({max(bound + delta, 0) for bound in shown for delta in (-1, 0, 1)} | {0, 1, 10**9})


@pytest.mark.parametrize("target", sorted(TABLE))
def test_price_window_admits_exactly_the_listings_shown_within_the_bounds(target):
    rng = random.Random(target)
    listings = [(source, amount) for source in TABLE for amount in
                [0, 1, 12503, 12501, 100_000] + [rng.randint(0, 300_000) for _ in range(60)]]
    listings = [(source, amount, rates.to_usd_micros(amount, source, TABLE),
                 exact_conversion(amount, source, target)) for source, amount in listings]
    bounds = _bounds(rng, target)
    for low, high in [(bound, None) for bound in bounds] + [(None, bound) for bound in bounds] + [
            (bound, bound) for bound in bounds[::5]]:
        window = rates.price_window(low, high, target, TABLE)
        for source, amount, micros, shown in listings:
            expected = (low is None or shown >= low) and (high is None or shown <= high)
            assert window.admits(micros, source, amount) == expected, (source, amount, shown, low, high)


def test_price_window_excludes_a_failing_listing_that_shares_the_edge_micro():
    # 125.03 EUR shows as 937.72 DKK (a tie rounded down), 1000.00 SEK at 7.358234 as 937.73 DKK, and both are
    # 135.902174 USD as normalised: the normalised bound alone cannot part them.
    eur, sek = rates.to_usd_micros(12503, "EUR", TABLE), rates.to_usd_micros(100_000, "SEK", TABLE)
    assert eur == sek == 135_902_174
    assert (rates.convert(12503, "EUR", "DKK", TABLE), rates.convert(100_000, "SEK", "DKK", TABLE)) == (93772, 93773)
    at_least = rates.price_window(93773, None, "DKK", TABLE)
    assert at_least.exclusions and at_least.admits(sek, "SEK", 100_000) and not at_least.admits(eur, "EUR", 12503)
    at_most = rates.price_window(None, 93772, "DKK", TABLE)
    assert at_most.exclusions and at_most.admits(eur, "EUR", 12503) and not at_most.admits(sek, "SEK", 100_000)


def test_checkout_shows_the_total_in_the_guests_currency_converted_once(client, app, login):
    # 2 nights at 50.00 EUR + 30.01 EUR cleaning + 12 % service = 145.61 EUR: exactly 1,092.075 DKK -> 1,092.08.
    listing = make_listing(price_per_night={"amount": 5000, "currency": "EUR"}, min_nights=2,
                           cleaning_fee={"amount": 3001, "currency": "EUR"})
    guest = make_user(preferred_currency="DKK")
    check_in = date.today() + timedelta(days=20)
    booking = bookings.create_booking(guest=guest, listing_id=listing.id, check_in=check_in,
                                      check_out=check_in + timedelta(days=2), guests=2)[0]
    assert booking.total_amount == 14561
    login(client, guest)
    page = client.get(f"/bookings/{booking.id}/checkout").get_data(as_text=True)
    shown = re.search(r'class="[^"]*in-your-currency[^"]*">(.*?)</p>', page, re.S)
    assert shown and "DKK1,092.08" in shown.group(1), shown and shown.group(1)
