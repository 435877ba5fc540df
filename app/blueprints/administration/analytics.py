"""The dashboard's analytics over a range of days: bookings and nights per day (per week past WEEKLY_AFTER days),
revenue per currency in the range and all time (as /admin/stats), occupancy per city, the top cities and listings
by nights booked, new users per role, and bookings over searches. Each figure is a table {title, columns, rows,
note}; every aggregate is one GROUP BY read from an index alone (bookings(created_at, nights), bookings(status,
check_out, check_in, listing_id, city), users(created_at, role), listings(status, city)) or from the per-day
revenue rows (payments/revenue.py), and the whole answer is cached CACHE_SECONDS under a key naming the range."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from sqlalchemy import Date, case, func, literal, select

from ... import search_stats
from ...errors import ValidationFailed
from ...extensions import cache, db
from ...models import ROLES, Booking, Listing, User
from ...money import to_major
from ..payments import revenue

logger = logging.getLogger(__name__)

CACHE_SECONDS = 60
DEFAULT_DAYS, MAX_DAYS, WEEKLY_AFTER = 30, 3 * 366, 90
OCCUPYING = ("pending", "confirmed", "completed")  # bookings whose nights count as booked
TOP = 10


@dataclass(frozen=True)
class Range:
    """Days first..last, both included (UTC days of created_at; stay nights for occupancy)."""

    first: date
    last: date

    @property
    def days(self) -> int:
        return (self.last - self.first).days + 1

    @property
    def weekly(self) -> bool:
        return self.days > WEEKLY_AFTER

    def every_day(self) -> list[date]:
        return [self.first + timedelta(days=n) for n in range(self.days)]

    def bucket(self, day: date) -> date:
        """The first day of `day`'s row: itself, or its week's Monday (not before `first`) in a weekly range."""
        return max(day - timedelta(days=day.weekday()), self.first) if self.weekly else day

    def buckets(self) -> list[date]:
        return sorted({self.bucket(day) for day in self.every_day()})


def default_range(today: date) -> Range:
    """The last DEFAULT_DAYS days, today included."""
    return Range(today - timedelta(days=DEFAULT_DAYS - 1), today)


def make_range(first: date, last: date) -> Range:
    """The range first..last. Raises ValidationFailed when it runs backwards or spans more than MAX_DAYS."""
    if last < first:
        raise ValidationFailed({"to": "The end date is before the start date."})
    if (last - first).days + 1 > MAX_DAYS:
        raise ValidationFailed({"to": f"Pick at most {MAX_DAYS} days."})
    return Range(first, last)


def _table(title: str, columns: list[str], rows: list[list], note: str | None = None) -> dict:
    return {"title": title, "columns": columns, "rows": rows, "note": note}


def _as_date(value) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value)[:10])


def _per_day(column, span: Range, groups: tuple = (), values: tuple = ()) -> list:
    """Rows (day, *groups, *values) of one GROUP BY on the day of the timestamp `column` within the range."""
    day = func.date(column)
    start, end = (datetime.combine(span.first, time.min),
                  datetime.combine(span.last + timedelta(days=1), time.min))
    statement = (select(day, *groups, *values).where(column >= start, column < end)
                 .group_by(day, *groups))
    return [(_as_date(row[0]), *row[1:]) for row in db.session.execute(statement).all()]


def _daily_bookings(span: Range) -> dict[date, tuple[int, int]]:
    """{day: (bookings made, nights they booked)} by created_at."""
    rows = _per_day(Booking.created_at, span, values=(func.count(), func.sum(Booking.nights)))
    return {day: (int(made), int(nights or 0)) for day, made, nights in rows}


def bookings_table(span: Range, daily: dict[date, tuple[int, int]]) -> dict:
    """Bookings made and the nights they booked, per day (or week) of creation."""
    totals = {bucket: [0, 0] for bucket in span.buckets()}
    for day, (made, nights) in daily.items():
        cell = totals[span.bucket(day)]
        cell[0] += made
        cell[1] += nights
    return _table("Bookings and nights booked", ["Week of" if span.weekly else "Day", "Bookings", "Nights"],
                  [[bucket.isoformat(), *cell] for bucket, cell in totals.items()])


def conversion_table(span: Range, daily: dict[date, tuple[int, int]]) -> dict:
    """Searches answered, bookings made, and bookings per 100 searches, per day (or week)."""
    columns = ["Week of" if span.weekly else "Day", "Searches", "Bookings", "Conversion %"]
    searches = search_stats.searches_on(span.every_day())
    if searches is None:
        return _table("Search to booking", columns, [], "The search counts could not be read from Redis just now.")
    totals = {bucket: [0, 0] for bucket in span.buckets()}
    for day in span.every_day():
        cell = totals[span.bucket(day)]
        cell[0] += searches.get(day, 0)
        cell[1] += daily.get(day, (0, 0))[0]
    rows = [[bucket.isoformat(), found, made, round(100 * made / found, 1) if found else None]
            for bucket, (found, made) in totals.items()]
    return _table("Search to booking", columns, rows)


def _days_between(later, earlier):
    if db.engine.dialect.name == "sqlite":
        return func.cast(func.julianday(later) - func.julianday(earlier), db.Integer)
    return func.datediff(later, earlier)


def _booked_nights(span: Range):
    """SUM of each occupying booking's nights inside the range, and the WHERE that picks those bookings."""
    first, end = literal(span.first, Date), literal(span.last + timedelta(days=1), Date)
    start = case((Booking.check_in < first, first), else_=Booking.check_in)
    stop = case((Booking.check_out > end, end), else_=Booking.check_out)
    where = (Booking.status.in_(OCCUPYING), Booking.check_out > first, Booking.check_in < end)
    return func.sum(_days_between(stop, start)), where


def occupancy_tables(span: Range) -> tuple[dict, dict]:
    """Occupancy per city (booked nights over active listings × days) and the top cities by nights booked; a stay
    counts in its city as booked (bookings.city, read from the index with its dates)."""
    nights, where = _booked_nights(span)
    booked = {city: (int(n or 0), int(made)) for city, n, made in db.session.execute(
        select(Booking.city, nights, func.count()).where(*where).group_by(Booking.city))}
    active = dict(db.session.execute(select(Listing.city, func.count()).where(Listing.status == "active")
                                     .group_by(Listing.city)).all())
    cities = sorted(set(booked) | set(active), key=lambda city: (-booked.get(city, (0, 0))[0], city))
    rows = []
    for city in cities:
        available = int(active.get(city, 0)) * span.days
        taken = booked.get(city, (0, 0))[0]
        rows.append([city, taken, available, round(100 * taken / available, 1) if available else None])
    occupancy = _table("Occupancy per city", ["City", "Nights booked", "Nights available", "Occupancy %"], rows,
                       "Available = active listings in the city today × days in the range.")
    top = [[city, *booked[city]] for city in cities if city in booked][:TOP]
    return occupancy, _table(f"Top {TOP} cities by nights booked", ["City", "Nights booked", "Bookings"], top)


def top_listings_table(span: Range) -> dict:
    """The TOP listings by nights booked inside the range: ranked from the bookings index alone, then the few
    listings named."""
    nights, where = _booked_nights(span)
    ranked = db.session.execute(select(Booking.listing_id, nights.label("nights")).where(*where)
                                .group_by(Booking.listing_id).order_by(nights.desc(), Booking.listing_id)
                                .limit(TOP)).all()
    named = {listing.id: listing for listing in db.session.execute(
        select(Listing.id, Listing.title, Listing.city).where(Listing.id.in_([row.listing_id for row in ranked])))}
    rows = [[row.listing_id, named[row.listing_id].title, named[row.listing_id].city, int(row.nights or 0)]
            for row in ranked]
    return _table(f"Top {TOP} listings by nights booked", ["Listing", "Title", "City", "Nights booked"], rows)


def new_users_table(span: Range) -> dict:
    """Accounts opened per day (or week), one column per role."""
    totals = {bucket: dict.fromkeys(ROLES, 0) for bucket in span.buckets()}
    for day, role, joined in _per_day(User.created_at, span, groups=(User.role,), values=(func.count(),)):
        totals[span.bucket(day)][role] = totals[span.bucket(day)].get(role, 0) + int(joined)
    return _table("New users per role", ["Week of" if span.weekly else "Day", *ROLES],
                  [[bucket.isoformat(), *(cell[role] for role in ROLES)] for bucket, cell in totals.items()])


def _revenue_rows(totals: list[dict]) -> list[list]:
    return [[row["currency"], *(str(to_major(row[name], row["currency"])) for name in revenue.FIGURES)]
            for row in totals]


REVENUE_COLUMNS = ["Currency", "Charged", "Refunded", "Service fees", "Paid out"]


def revenue_tables(span: Range) -> tuple[dict, dict]:
    """Per currency, in major units: the money that moved on the range's days (charges, refunds and payouts on
    the day they went through, fees on the day they were kept), and all time (GET /api/v1/admin/stats' figures)."""
    in_range = _table("Revenue per currency", REVENUE_COLUMNS, _revenue_rows(revenue.totals(span.first, span.last)),
                      "What moved on the days of the range: a refund or payout counts on its own day, so a stay's "
                      "money may fall in several ranges.")
    all_time = _table("Revenue per currency (all time)", REVENUE_COLUMNS, _revenue_rows(revenue.totals()),
                      "The same figures as GET /api/v1/admin/stats.")
    return in_range, all_time


def analytics(span: Range) -> dict[str, dict]:
    """Every figure for the range, by table name; computed at most every CACHE_SECONDS per range."""
    key = f"admin:analytics:{span.first.isoformat()}:{span.last.isoformat()}"
    tables = cache.get(key)
    if tables is None:
        daily = _daily_bookings(span)
        occupancy, top_cities = occupancy_tables(span)
        in_range, all_time = revenue_tables(span)
        tables = {"bookings": bookings_table(span, daily), "revenue": in_range, "revenue_all_time": all_time,
                  "occupancy": occupancy, "top_cities": top_cities, "top_listings": top_listings_table(span),
                  "new_users": new_users_table(span), "conversion": conversion_table(span, daily)}
        cache.set(key, tables, timeout=CACHE_SECONDS)
        logger.info("admin analytics computed for %s..%s", span.first, span.last)
    return tables
