"""Price bounds across currencies: the normalised bound is exactly the edge of what search shows."""

from __future__ import annotations

import random
from decimal import Decimal

import pytest

from app import rates

TABLE = {"USD": Decimal(1), "EUR": Decimal("0.92"), "JPY": Decimal("150"), "KRW": Decimal("1330"),
         "GBP": Decimal("0.79"), "BRL": Decimal("5.0")}


@pytest.mark.parametrize("currency", sorted(TABLE))
def test_micros_bounds_are_the_exact_edges(currency):
    rng = random.Random(currency)
    for amount in [0, 1, 2, 99, 100, 12345, 10**9] + [rng.randint(0, 500_000) for _ in range(200)]:
        high = rates.micros_bound(amount, currency, TABLE, upper=True)
        assert rates.from_usd_micros(high, currency, TABLE) <= amount < rates.from_usd_micros(high + 1, currency,
                                                                                               TABLE)
        low = rates.micros_bound(amount, currency, TABLE, upper=False)
        assert rates.from_usd_micros(low - 1, currency, TABLE) < amount <= rates.from_usd_micros(low, currency, TABLE)
