"""Search: a loaded search's dates checked against the clock, one indexed query, prices converted, the answer
cached by version (the query string is loaded by schemas.SearchArgsSchema)."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from fractions import Fraction

from sqlalchemy import select

from ... import clock, geo, money, rates, search_cache, search_stats
from ...errors import ValidationFailed
from ...extensions import db
from ...models import Amenity
from ...pagination import DEFAULT_PER_PAGE, MAX_PER_PAGE
from ...storage import image_url
from ..bookings import quotes
from ..calendar import services as calendar
from ..calendar.ranges import MAX_FUTURE_DAYS, stay_date_errors
from . import query as sql

DEFAULT_RADIUS_KM = 25.0
MAX_STAY_NIGHTS, MAX_AHEAD_DAYS = 365, MAX_FUTURE_DAYS  # a stay ends at most this far after its listing's today
CACHE_SECONDS = 300


@dataclass(frozen=True)
class ZoneRule:
    """The listings' time zones a search keeps: those in `names` when `inside`, else all but those."""

    names: tuple[str, ...]
    inside: bool


@dataclass(frozen=True)
class SearchQuery:
    """A checked, normalised search; equal queries share one cache entry."""

    location: str | None = None
    lat: float | None = None
    lng: float | None = None
    radius_km: float | None = None
    check_in: date | None = None
    check_out: date | None = None
    guests: int | None = None
    min_price: int | None = None
    max_price: int | None = None
    currency: str = "USD"
    amenities: tuple[str, ...] = field(default_factory=tuple)
    property_type: str | None = None
    instant_book: bool | None = None
    sort: str = "relevance"
    page: int = 1
    per_page: int = 20
    zones: ZoneRule | None = None  # with dates near today only: see _zone_rule

    @property
    def nights(self) -> int | None:
        return (self.check_out - self.check_in).days if self.check_in and self.check_out else None

    def cache_key(self) -> str:
        """A stable digest of the query: equal queries have equal reprs (fields in order, dates as ISO)."""
        return "search:" + hashlib.blake2b(repr(self).encode(), digest_size=16).hexdigest()


def _check_dates(check_in: date | None, check_out: date | None, now: datetime) -> None:
    """check_in and check_out, checked against every listing's clock at once: check_in today somewhere on Earth
    or later (clock.earliest_today), check_out within reach of the latest today; _zone_rule narrows that down
    to the listings' own dates."""
    if check_in is None:
        return
    errors = stay_date_errors(check_in, check_out, today=clock.earliest_today(now),
                              latest_today=clock.latest_today(now), max_nights=MAX_STAY_NIGHTS)
    if errors:  # one problem at a time, check-in's first
        field = next(iter(errors))
        raise ValidationFailed({field: errors[field]})


def _zone_rule(check_in: date | None, check_out: date | None, now: datetime) -> ZoneRule | None:
    """The time zones whose listings can take the stay at `now`, by the rules a booking is checked by: check_in
    not before the listing's today (clock.listing_today) and check_out at most MAX_AHEAD_DAYS after it.

    None when every zone can, which is every search whose check-in is on or after the latest date that is today
    anywhere (and ends within reach of the earliest). Otherwise the dates that are today somewhere are two or
    three, and each zone's date is looked up (about a millisecond): the rule names the shorter list, of the zones
    kept or of those left out, an exact test of the listing row. It is part of the query and so of its cache key:
    a cached answer never outlives a listing's midnight.
    """
    reach = timedelta(days=MAX_AHEAD_DAYS)
    if check_in is None or (check_in >= clock.latest_today(now) and check_out <= clock.earliest_today(now) + reach):
        return None
    zones = geo.timezones()
    kept = clock.zones_with_today_between(check_out - reach, check_in, zones, now)
    if len(kept) <= len(zones) // 2:
        return ZoneRule(tuple(sorted(kept)), inside=True)
    return ZoneRule(tuple(sorted(zones - kept)), inside=False)


def search_query(*, location: str | None = None, lat: float | None = None, lng: float | None = None,
                 radius_km: float | None = None, check_in: date | None = None, check_out: date | None = None,
                 guests: int | None = None, min_price: int | None = None, max_price: int | None = None,
                 currency: str = "USD", amenities: tuple[str, ...] = (), property_type: str | None = None,
                 instant_book: bool | None = None, sort: str = "relevance", page: int = 1,
                 per_page: int | None = None, now: datetime | None = None) -> SearchQuery:
    """The SearchQuery of arguments SearchArgsSchema has loaded (typed, within their bounds, the pairs together),
    as at `now` (default the real time). Raises ValidationFailed for dates no listing on Earth could take.

    Here the stay's dates meet the clock (calendar/ranges.py's rules, with every listing's today at once), the
    location becomes its place key, a point gets its default radius and `per_page` is clamped.
    """
    if (check_in is None) != (check_out is None):
        raise ValueError("check_in and check_out come together (SearchArgsSchema sees to it)")
    now = clock.instant(now)  # one instant for every check
    _check_dates(check_in, check_out, now)
    if lat is not None and radius_km is None:
        radius_km = DEFAULT_RADIUS_KM
    return SearchQuery(location=geo.place_key(location or "") or None, lat=lat, lng=lng, radius_km=radius_km,
                       check_in=check_in, check_out=check_out, guests=guests, min_price=min_price,
                       max_price=max_price, currency=currency, amenities=tuple(amenities),
                       property_type=property_type, instant_book=instant_book, sort=sort, page=page,
                       per_page=min(max(per_page or DEFAULT_PER_PAGE, 1), MAX_PER_PAGE),
                       zones=_zone_rule(check_in, check_out, now))


def _item(row, covers: dict[int, str], stays: dict[int, int], query: SearchQuery, table: dict) -> dict:
    """One result; `stays` holds each listing's price of the stay with dates (display_price shows its average)."""
    average = round(row.rating_sum / row.rating_count, 2) if row.rating_count else None
    nightly = Fraction(stays[row.id], query.nights) if query.check_in else row.price_per_night_amount
    item = {
        "id": row.id, "title": row.title, "city": row.city, "country": row.country,
        "property_type": row.property_type, "max_guests": row.max_guests,
        "price_per_night": money.money(row.price_per_night_amount, row.currency),
        "display_price": money.money(rates.convert(nightly, row.currency, query.currency, table), query.currency),
        "stay_total": money.money(rates.convert(quotes.stay_total(stays[row.id], row.cleaning_fee_amount),
                                                row.currency, query.currency, table), query.currency)
        if query.check_in else None,
        "rating": {"average": average, "count": row.rating_count},
        "thumbnail_url": image_url(covers.get(row.id)),
    }
    # One cached answer serves everyone: the approximate point (docs/api.md), while the search measured the true one.
    item["latitude"], item["longitude"] = geo.approximate_point(row.id, row.latitude, row.longitude)
    return item


def amenity_ids(codes: tuple[str, ...]) -> list[int]:
    """The ids of these amenity codes. Raises ValidationFailed for codes not in the catalogue.

    Checked on a cache miss only: an answer in the cache came from a valid query.
    """
    if not codes:
        return []
    found = dict(db.session.execute(select(Amenity.code, Amenity.id).where(Amenity.code.in_(codes))).all())
    unknown = [c for c in codes if c not in found]
    if unknown:
        raise ValidationFailed({"amenities": [f"unknown amenity: {', '.join(unknown[:5])[:200]}"]})
    return [found[c] for c in codes]


def search_conditions(query: SearchQuery) -> tuple[sql.Filters | None, dict]:
    """(conditions, exchange rates) of a query, reading the rates, amenity ids and kinds of place once.
    No conditions when the location finds no listing at all."""
    table = rates.current_rates()
    codes = amenity_ids(query.amenities)
    kinds = ()
    if query.location:
        flags = db.session.execute(sql.place_kinds_statement(query.location)).one()._mapping
        kinds = tuple(kind for kind, found in flags.items() if found)
        if not kinds:
            return None, table
    return sql.filters(query, table, codes, kinds), table


def run_search(query: SearchQuery) -> dict:
    """Run the query against the database: the contract's page of results. Raises ValidationFailed.

    A search with a place finds, counts and sorts all its matches in one statement and reads only the page's
    listings (query.counted_page_statement). One without a place reads the page in the sort's index order and
    counts apart.
    """
    conditions, table = search_conditions(query)
    if conditions is None:
        rows, total = [], 0
    elif (statement := sql.counted_page_statement(query, conditions)) is not None:
        rows = db.session.execute(statement).all()
        if rows:
            total = rows[0].matched
        else:  # no match, or a page past the end, which says nothing of the count
            total = db.session.scalar(sql.count_statement(query, conditions)) if query.page > 1 else 0
    else:
        total = db.session.scalar(sql.count_statement(query, conditions)) or 0
        wanted = total > (query.page - 1) * query.per_page
        rows = db.session.execute(sql.page_statement(query, conditions)).all() if wanted else []
    covers = sql.cover_keys([row.id for row in rows])
    stays = calendar.stay_amounts([row.id for row in rows], query.check_in, query.check_out) if query.check_in else {}
    return {"items": [_item(row, covers, stays, query, table) for row in rows], "page": query.page,
            "per_page": query.per_page, "total": total,
            "pages": (total + query.per_page - 1) // query.per_page, "currency": query.currency}


def search_json(query: SearchQuery) -> str:
    """The page of results for `query` as a JSON document, from the cache when the search version is current.

    A hit costs one cache round trip (search_cache.lookup) and no encoding: the cache holds the serialised
    response (docs/architecture.md); every answer is counted for the admin analytics (app/search_stats.py).
    """
    key = query.cache_key()
    cached, version = search_cache.lookup(key)
    if cached is None:
        cached = json.dumps(run_search(query))
        search_cache.store(key, version, cached, CACHE_SECONDS)
    search_stats.count_search()  # answered, from the cache or not: the admin analytics' conversion
    return cached


def search(query: SearchQuery) -> dict:
    """The page of results for `query` (see search_json), as a dict for the pages."""
    return json.loads(search_json(query))
