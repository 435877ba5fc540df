"""The search query: every filter an indexed condition on listings, listing_places or listing_amenities.

Dates are checked on the listing row (its held-nights string, see calendar/holds.py), never by probing
night_holds once per candidate.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import ColumnElement, Select, Subquery, and_, exists, func, not_, or_, select

from ... import rates
from ...extensions import db
from ...geo import PLACE_NAME_KINDS
from ...models import Listing, ListingImage, ListingPlace, listing_amenities
from ...models.listing import MASKED_AMENITY_IDS, amenity_mask
from ..calendar import holds
from . import stay_prices

EARTH_RADIUS_KM = 6371.0  # the sphere of distance_km and bounding_box
EARTH_DIAMETER_KM = 2 * EARTH_RADIUS_KM
BOX_MARGIN_DEGREES = 1e-6  # the stored coordinates' precision: a point on the circle stays inside the box


def _like_prefix(term: str) -> str:
    escaped = term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return escaped + "%"


def _kind_match(term: str, kind: str) -> ColumnElement:
    places = ListingPlace.__table__.c
    if kind == "code":
        return and_(places.kind == "code", places.place == term)
    return and_(places.kind == kind, places.place.like(_like_prefix(term), escape="\\"))


def place_kinds_statement(term: str) -> Select:
    """Which kinds of place (city, state, country name, ISO code) `term` finds any listing by: one row of flags,
    each a probe of listing_places' primary key."""
    kinds = [*PLACE_NAME_KINDS, *(("code",) if len(term) == 2 else ())]
    return select(*(exists().where(_kind_match(term, kind)).label(kind) for kind in kinds))


def place_match(term: str, kinds: Sequence[str]) -> ColumnElement:
    """listing_places rows of these kinds found by `term` (a geo.place_key): a name starting with it, or the
    ISO code equal to it. A range of the table's primary key per kind."""
    return or_(*(_kind_match(term, kind) for kind in kinds))


def location_filter(term: str, kinds: Sequence[str], place_filters: Sequence[ColumnElement]) -> ColumnElement:
    """Listings found by `term` (see place_match) whose place rows pass `place_filters`."""
    return Listing.id.in_(select(ListingPlace.listing_id).where(place_match(term, kinds), *place_filters))


def distance_km(lat: float, lng: float) -> ColumnElement:
    """Great-circle distance (haversine) from (lat, lng) to each listing, in km."""
    dlat = func.radians(Listing.latitude - lat) / 2
    dlng = func.radians(Listing.longitude - lng) / 2
    inner = (func.power(func.sin(dlat), 2)
             + math.cos(math.radians(lat)) * func.cos(func.radians(Listing.latitude)) * func.power(func.sin(dlng), 2))
    return EARTH_DIAMETER_KM * func.asin(func.sqrt(func.least(inner, 1.0)))


def bounding_box(lat: float, lng: float, radius_km: float) -> list[ColumnElement]:
    """An indexed pre-filter: the latitude/longitude box around the circle (on the sphere distance_km measures
    on), never narrower than the circle. Its half-height is radius/R radians; its half-width asin(sin(r/R) / cos
    lat), the widest the circle gets, which is every longitude once the circle reaches a pole. A box across the
    antimeridian wraps round to the other side."""
    angle = radius_km / EARTH_RADIUS_KM  # radians of arc
    dlat = math.degrees(angle) + BOX_MARGIN_DEGREES
    if lat - dlat <= -90 and lat + dlat >= 90:
        return []  # the circle covers the globe from pole to pole
    conditions = [Listing.latitude.between(lat - dlat, lat + dlat)]
    spread = math.sin(angle) / math.cos(math.radians(lat)) if abs(lat) < 90 else 2.0
    if lat + dlat >= 90 or lat - dlat <= -90 or angle >= math.pi / 2 or spread >= 1:
        return conditions  # a pole is inside: every longitude
    dlng = math.degrees(math.asin(spread)) + BOX_MARGIN_DEGREES
    west, east = lng - dlng, lng + dlng
    if west < -180:
        conditions.append(or_(Listing.longitude >= west + 360, Listing.longitude <= east))
    elif east > 180:
        conditions.append(or_(Listing.longitude >= west, Listing.longitude <= east - 360))
    else:
        conditions.append(Listing.longitude.between(west, east))
    return conditions


@dataclass(frozen=True)
class Filters:
    """The WHERE conditions of a search but its location: on the listing row, and the subset that the place
    rows carry too (ListingPlace), which a search with a location applies while still in the place index."""

    listing: list[ColumnElement]
    place: list[ColumnElement]
    place_kinds: tuple[str, ...] = ()  # the kinds of place the location finds listings by (see place_kinds_statement)
    place_complete: bool = True  # the place conditions are all of them but the status (no amenity beyond the mask,
    # no time zone rule, no price of a stay)
    price_key: ColumnElement | None = None  # what the price sorts order by, when not the nightly price (stay_prices)


def filters(query, table: dict, amenity_ids: Sequence[int], place_kinds: Sequence[str] = ()) -> Filters:
    """The conditions of `query` (a SearchQuery) but the location, given the exchange rates, the amenities' ids
    and the kinds of place the location matches. The statements below add the location, each in the way that
    suits it."""
    conditions: list[ColumnElement] = [Listing.status == "active"]
    if query.lat is not None:
        conditions += bounding_box(query.lat, query.lng, query.radius_km)
        conditions.append(distance_km(query.lat, query.lng) <= query.radius_km)
    link = listing_amenities.c
    conditions += [exists().where(link.listing_id == Listing.id, link.amenity_id == amenity_id)
                   for amenity_id in amenity_ids if amenity_id not in MASKED_AMENITY_IDS]
    if query.zones is not None:  # place rows carry no time zone: such a search is answered on the listing rows
        zone = Listing.timezone
        conditions.append(zone.in_(query.zones.names) if query.zones.inside else zone.not_in(query.zones.names))
    if query.check_in:  # a dated search's price is the stay's average, tested on the listing row
        prices = rates.PriceWindow(None, None)
        conditions += stay_prices.price_filter(query, table)
    else:
        prices = rates.price_window(query.min_price, query.max_price, query.currency, table)
    by_stay = stay_prices.is_priced_by_stay(query)
    return Filters(listing=conditions + _copied_filters(Listing, query, prices, amenity_ids),
                   place=_copied_filters(ListingPlace, query, prices, amenity_ids), place_kinds=tuple(place_kinds),
                   place_complete=query.zones is None and not by_stay and all(amenity_id in MASKED_AMENITY_IDS
                                                                              for amenity_id in amenity_ids),
                   price_key=stay_prices.sort_key(query, table) if by_stay else None)


def _copied_filters(row, query, prices: rates.PriceWindow, amenity_ids: Sequence[int]) -> list[ColumnElement]:
    """The conditions on the columns that listings and listing_places both have (`row` is either), given
    the price bounds as normalised prices."""
    conditions = []
    if query.check_in:
        conditions += [row.min_nights <= query.nights, row.max_nights >= query.nights,
                       holds.stay_is_free(query.check_in, query.nights, row)]
    if query.guests:
        conditions.append(row.max_guests >= query.guests)
    if query.property_type:
        conditions.append(row.property_type == query.property_type)
    if query.instant_book is not None:
        conditions.append(row.instant_book == query.instant_book)
    if prices.low is not None:
        conditions.append(row.price_usd_micros >= prices.low)
    if prices.high is not None:
        conditions.append(row.price_usd_micros <= prices.high)
    conditions += [_excluded(row, exclusion) for exclusion in prices.exclusions]
    mask = amenity_mask(amenity_ids)
    if mask:
        conditions.append(row.amenity_mask.op("&")(mask) == mask)
    return conditions


def _excluded(row, exclusion: rates.Exclusion) -> ColumnElement:
    """SQL: the listing of `row` is not one that `exclusion` leaves out (see rates.price_window). Place rows carry
    no currency or amount: they look up the excluded listings, a short range of the price index."""
    matches = [Listing.currency == exclusion.currency,
               Listing.price_usd_micros.between(exclusion.micros_from, exclusion.micros_to)]
    if exclusion.below is not None:
        matches.append(Listing.price_per_night_amount < exclusion.below)
    if exclusion.above is not None:
        matches.append(Listing.price_per_night_amount > exclusion.above)
    if row is Listing:
        return not_(and_(*matches))
    excluded = select(Listing.id).where(Listing.status == "active", *matches).correlate(None)  # never the outer row
    return row.listing_id.not_in(excluded)


# The index that delivers each sort in order; "relevance" near a point sorts by distance, which none does.
SORT_INDEXES = {"price_asc": "ix_listings_status_price", "price_desc": "ix_listings_status_price",
                "rating": "ix_listings_status_rating", "newest": "PRIMARY", "relevance": "ix_listings_status_rank"}
BOX_INDEX = "ix_listings_status_lat_lng"


def _use_index(statement: Select, name: str) -> Select:
    """Tell MariaDB which index to read the listings through (other databases ignore the hint): its planner
    sees `status = 'active'` (true of nearly every row) at the head of every index and often picks one that
    matches it alone."""
    hint = f"FORCE INDEX ({name})"
    return statement.with_hint(Listing, hint, dialect_name="mysql").with_hint(Listing, hint, dialect_name="mariadb")


def sort_keys(query, conditions: Filters) -> list[tuple[ColumnElement, bool]]:
    """(column, descending) pairs of the chosen sort, most significant first; every sort ends on id so pages
    never overlap. The price sorts order by the normalised nightly price, or a dated search's average."""
    price = Listing.price_usd_micros if conditions.price_key is None else conditions.price_key
    if query.sort == "price_asc":
        return [(price, False), (Listing.id, False)]
    if query.sort == "price_desc":
        return [(price, True), (Listing.id, True)]
    if query.sort == "rating":
        return [(Listing.rating_score, True), (Listing.rating_count, True), (Listing.id, True)]
    if query.sort == "newest":
        return [(Listing.id, True)]
    if query.lat is not None:
        return [(distance_km(query.lat, query.lng).label("distance"), False), (Listing.id, False)]
    return [(Listing.rank_score, True), (Listing.id, True)]


def _order(columns: Sequence, keys: list[tuple[ColumnElement, bool]]) -> list:
    """ORDER BY `columns`, each ascending or descending as its sort key says."""
    return [column.desc() if descending else column.asc()
            for column, (_key, descending) in zip(columns, keys, strict=True)]


RESULT_COLUMNS = (Listing.id, Listing.title, Listing.city, Listing.country, Listing.property_type,
                  Listing.max_guests, Listing.price_per_night_amount, Listing.currency, Listing.price_usd_micros,
                  Listing.rating_sum, Listing.rating_count, Listing.latitude, Listing.longitude,
                  Listing.cleaning_fee_amount)


def _counted_by_place(query, conditions: Filters) -> bool:
    """True when the place rows alone decide the matches: a location without a point or later amenities."""
    return bool(query.location) and query.lat is None and conditions.place_complete


def _located(query, conditions: Filters, keys: Sequence[ColumnElement] = ()) -> Subquery:
    """The ids (and these sort keys, copied on the place rows) of the listings the location finds whose place
    rows pass the copied filters: ranges of listing_places, read in place. A listing has one row per kind,
    so only a location found in several kinds (a city and a state both named so) needs them made distinct."""
    columns = [ListingPlace.listing_id, *(getattr(ListingPlace, key.key) for key in keys if key.key != "id")]
    located = select(*columns).where(place_match(query.location, conditions.place_kinds), *conditions.place)
    return (located.distinct() if len(conditions.place_kinds) > 1 else located).subquery("located")


def _join_located(statement: Select, located: Subquery) -> Select:
    """Read the located ids first, then each listing by id. The join order is fixed: MariaDB would otherwise
    often read every listing through some other index and look each up among the located ids."""
    return (statement.join_from(located, Listing, Listing.id == located.c.listing_id)
            .prefix_with("STRAIGHT_JOIN", dialect="mysql").prefix_with("STRAIGHT_JOIN", dialect="mariadb"))


def _page(query, statement: Select) -> Select:
    return statement.limit(query.per_page).offset((query.page - 1) * query.per_page)


def counted_page_statement(query, conditions: Filters) -> Select | None:
    """One page of a search with a place, each row with `matched`: how many listings match in all. The matches
    are all found (through the place rows, or the bounding box), counted and sorted in one statement, and only
    the page's listings are read. None for a search without a place (see page_statement, count_statement).
    """
    keys = sort_keys(query, conditions)
    if _counted_by_place(query, conditions):
        located = _located(query, conditions, [key for key, _descending in keys])
        key_columns = [located.c.listing_id if key.key == "id" else located.c[key.key] for key, _d in keys]
        ranked = _page(query, select(*dict.fromkeys([located.c.listing_id, *key_columns]),
                                     func.count().over().label("matched")).order_by(*_order(key_columns, keys)))
        ranked = ranked.subquery("ranked")
        ranked_keys = [ranked.c.listing_id if key.key == "id" else ranked.c[key.key] for key, _d in keys]
        return _join_located(select(*RESULT_COLUMNS, ranked.c.matched), ranked).order_by(*_order(ranked_keys, keys))
    if not query.location and query.lat is None:
        return None
    statement = select(*dict.fromkeys([*RESULT_COLUMNS, *(key for key, _d in keys)])).where(*conditions.listing)
    if query.lat is not None:
        located = [location_filter(query.location, conditions.place_kinds, conditions.place)] if query.location else []
        found = _use_index(statement.where(*located), BOX_INDEX).subquery("found")
    else:
        found = _join_located(statement, _located(query, conditions)).subquery("found")
    columns = [found.c[column.key] for column in RESULT_COLUMNS]
    return _page(query, select(*columns, func.count().over().label("matched"))
                 .order_by(*_order([found.c[key.key] for key, _d in keys], keys)))


def page_statement(query, conditions: Filters) -> Select:
    """One page of a search without a place: read in the order of the sort's index until the page is full."""
    keys = sort_keys(query, conditions)
    statement = select(*RESULT_COLUMNS).where(*conditions.listing).order_by(*_order([k for k, _d in keys], keys))
    return _use_index(_page(query, statement), SORT_INDEXES[query.sort])


def count_statement(query, conditions: Filters) -> Select:
    """How many listings match: by their place rows when those decide, else by the listings themselves (through
    the price index when a price bounds the search, else the status at the head of the rank index)."""
    if _counted_by_place(query, conditions):
        located = _located(query, conditions)
        return select(func.count()).select_from(located)
    statement = select(func.count(Listing.id)).where(*conditions.listing)
    if query.location:
        located = location_filter(query.location, conditions.place_kinds, conditions.place)
        return statement.where(located)
    if query.lat is not None:
        return _use_index(statement, BOX_INDEX)
    priced = query.min_price is not None or query.max_price is not None
    return _use_index(statement, SORT_INDEXES["price_asc" if priced else "relevance"])


def cover_keys(ids: Sequence[int]) -> dict[int, str]:
    """{listing id: thumbnail key of its cover photo} for the given listings."""
    if not ids:
        return {}
    rows = db.session.execute(select(ListingImage.listing_id, ListingImage.thumbnail_key, ListingImage.key)
                              .where(ListingImage.listing_id.in_(ids), ListingImage.position == 0))
    return {listing_id: thumb or key for listing_id, thumb, key in rows}
