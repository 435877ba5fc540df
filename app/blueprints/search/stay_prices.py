"""A dated search's price: the stay's average nightly price, per-night prices included (docs/api.md, Search).

Without dates a listing's price is its nightly price, whose normalised copy (price_usd_micros) the listing and
place rows carry and index. With dates the price compared with min_price/max_price, shown as display_price and
sorted by is the average over the stay's nights, which depends on the stay: it is computed on the listing row
(calendar.stay_amount, a probe of night_prices' primary key per listing) and exactly as the shown price is.
"""

from __future__ import annotations

from sqlalchemy import ColumnElement, Numeric, case, func, literal

from ... import money, rates
from ...models import Listing
from ..calendar import services as calendar

PRICE_SORTS = ("price_asc", "price_desc")


def is_priced_by_stay(query) -> bool:
    """True when the stay's average decides which listings of `query` (a SearchQuery) match or their order: a
    dated search with a price bound or a price sort. The place rows cannot answer such a search alone."""
    return query.check_in is not None and (query.min_price is not None or query.max_price is not None
                                           or query.sort in PRICE_SORTS)


def _per_currency(values: dict[str, object]) -> ColumnElement:
    return case(values, value=Listing.currency)


def price_filter(query, table: dict) -> list[ColumnElement]:
    """SQL: the listings whose average nightly price over the stay of `query`, converted into its currency and
    rounded once (rates.convert), is within [min_price, max_price]: a bound on the stay's total per listing
    currency (rates.stay_bounds). Nothing without a price bound."""
    if query.min_price is None and query.max_price is None:
        return []
    bounds = rates.stay_bounds(query.min_price, query.max_price, query.currency, query.nights, table)
    total = calendar.stay_amount(query.check_in, query.check_out)
    low = _per_currency({code: least for code, (least, _most) in bounds.items()})
    high = _per_currency({code: most for code, (_least, most) in bounds.items()})
    if query.min_price is None:
        return [total <= high]
    return [total >= low] if query.max_price is None else [total.between(low, high)]


def sort_key(query, table: dict) -> ColumnElement:
    """SQL: the normalised average nightly price of the stay (millionths of a dollar, as price_usd_micros is of
    the nightly price), the price sorts' key on a dated search."""
    factors = {code: literal(rates.micros_per_minor_unit(code, table), Numeric(40, 24))
               for code in table if money.is_supported(code)}
    total = calendar.stay_amount(query.check_in, query.check_out)
    return func.round(total * _per_currency(factors) / query.nights).label("stay_micros")
