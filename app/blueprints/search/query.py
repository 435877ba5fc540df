"""The search query: every filter an indexed condition on properties, night_holds or property_amenities."""

from __future__ import annotations

import math
from collections.abc import Sequence

from sqlalchemy import ColumnElement, Select, exists, func, or_, select

from ... import geo, rates
from ...extensions import db
from ...models import NightHold, Property, PropertyImage, property_amenities

EARTH_DIAMETER_KM = 12742.0
KM_PER_DEGREE = 111.32


def _like_prefix(term: str) -> str:
    escaped = term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return escaped + "%"


def location_filter(term: str) -> ColumnElement:
    """City, state or country (name or ISO code) starting with `term`, any case."""
    pattern = _like_prefix(term)
    codes = [code for code, name in geo.countries().items() if name.lower().startswith(term)]
    if len(term) == 2 and geo.is_country(term.upper()):
        codes.append(term.upper())
    if db.engine.dialect.name == "sqlite":  # MariaDB's collation ignores case and keeps the index; SQLite needs lower()
        conditions = [func.lower(column).like(pattern, escape="\\") for column in (Property.city, Property.state)]
    else:
        conditions = [Property.city.like(pattern, escape="\\"), Property.state.like(pattern, escape="\\")]
    if codes:
        conditions.append(Property.country.in_(sorted(set(codes))))
    return or_(*conditions)


def distance_km(lat: float, lng: float) -> ColumnElement:
    """Great-circle distance (haversine) from (lat, lng) to each listing, in km."""
    dlat = func.radians(Property.latitude - lat) / 2
    dlng = func.radians(Property.longitude - lng) / 2
    inner = (func.power(func.sin(dlat), 2)
             + math.cos(math.radians(lat)) * func.cos(func.radians(Property.latitude)) * func.power(func.sin(dlng), 2))
    return EARTH_DIAMETER_KM * func.asin(func.sqrt(func.least(inner, 1.0)))


def bounding_box(lat: float, lng: float, radius_km: float) -> list[ColumnElement]:
    """An indexed pre-filter: the latitude/longitude box around the circle."""
    dlat = radius_km / KM_PER_DEGREE
    conditions = [Property.latitude.between(lat - dlat, lat + dlat)]
    cos_lat = math.cos(math.radians(lat))
    if cos_lat > 0.01:
        dlng = radius_km / (KM_PER_DEGREE * cos_lat)
        if lng - dlng >= -180 and lng + dlng <= 180:  # boxes across the antimeridian keep only the latitude band
            conditions.append(Property.longitude.between(lng - dlng, lng + dlng))
    return conditions


def filters(query, table: dict, amenity_ids: Sequence[int]) -> list[ColumnElement]:
    """Every WHERE condition of `query` (a SearchQuery), given the exchange rates and the amenities' ids."""
    conditions: list[ColumnElement] = [Property.status == "active"]
    if query.location:
        conditions.append(location_filter(query.location))
    if query.lat is not None:
        conditions += bounding_box(query.lat, query.lng, query.radius_km)
        conditions.append(distance_km(query.lat, query.lng) <= query.radius_km)
    if query.check_in:
        nights = query.nights
        conditions += [Property.min_nights <= nights, Property.max_nights >= nights]
        conditions.append(~exists().where(NightHold.property_id == Property.id, NightHold.night >= query.check_in,
                                          NightHold.night < query.check_out))
    if query.guests:
        conditions.append(Property.max_guests >= query.guests)
    if query.property_type:
        conditions.append(Property.property_type == query.property_type)
    if query.instant_book is not None:
        conditions.append(Property.instant_book == query.instant_book)
    conditions += _price_filters(query, table)
    link = property_amenities.c
    conditions += [exists().where(link.property_id == Property.id, link.amenity_id == amenity_id)
                   for amenity_id in amenity_ids]
    return conditions


def _price_filters(query, table: dict) -> list[ColumnElement]:
    if query.min_price is None and query.max_price is None:
        return []
    conditions = []
    if query.min_price is not None:
        low = rates.micros_bound(query.min_price, query.currency, table, upper=False)
        conditions.append(Property.price_usd_micros >= low)
    if query.max_price is not None:
        high = rates.micros_bound(query.max_price, query.currency, table, upper=True)
        conditions.append(Property.price_usd_micros <= high)
    return conditions


def ordering(query) -> list:
    """ORDER BY for the chosen sort; every sort ends on id so pages never overlap."""
    if query.sort == "price_asc":
        return [Property.price_usd_micros.asc(), Property.id.asc()]
    if query.sort == "price_desc":
        return [Property.price_usd_micros.desc(), Property.id.desc()]
    if query.sort == "rating":
        return [Property.rating_score.desc(), Property.rating_count.desc(), Property.id.desc()]
    if query.sort == "newest":
        return [Property.id.desc()]
    if query.lat is not None:
        return [distance_km(query.lat, query.lng).asc(), Property.id.asc()]
    return [Property.rank_score.desc(), Property.id.desc()]


RESULT_COLUMNS = (Property.id, Property.title, Property.city, Property.country, Property.property_type,
                  Property.max_guests, Property.price_per_night_amount, Property.currency, Property.price_usd_micros,
                  Property.rating_sum, Property.rating_count, Property.latitude, Property.longitude)


def page_statement(query, conditions: list[ColumnElement]) -> Select:
    """The rows of one page."""
    return (select(*RESULT_COLUMNS).where(*conditions).order_by(*ordering(query))
            .limit(query.per_page).offset((query.page - 1) * query.per_page))


def count_statement(conditions: list[ColumnElement]) -> Select:
    """How many listings match."""
    return select(func.count()).select_from(Property).where(*conditions)


def cover_keys(ids: Sequence[int]) -> dict[int, str]:
    """{listing id: thumbnail key of its cover photo} for the given listings."""
    if not ids:
        return {}
    rows = db.session.execute(select(PropertyImage.property_id, PropertyImage.thumbnail_key, PropertyImage.key)
                              .where(PropertyImage.property_id.in_(ids), PropertyImage.position == 0))
    return {listing_id: thumb or key for listing_id, thumb, key in rows}
