"""The bookings benchmark's audit: SQL over bookings and night_holds proving nobody was double-booked.

A pending or confirmed booking is "active". The checks, each of which must find nothing:

- overlapping bookings: two active bookings of one listing whose [check_in, check_out) ranges share a night;
- nights held twice: two night_holds rows for one listing and night (the primary key forbids it; checked anyway);
- bookings not holding exactly their nights: an active booking whose holds are not one per night of its stay on
  its listing (missing, extra, or elsewhere), or whose `nights` column disagrees with its dates;
- stray holds: a hold naming a booking that is not active, is of another listing, or does not cover that night;

Together these say every night of every listing is held by at most one active booking, and exactly the nights of
each active booking are held for it ("ok"). Apart from them ("mirror_ok"), a listing whose `held_nights` string
(what search reads instead of night_holds) differs from its night_holds would show wrong availability.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date

import bench_seed

from app.blueprints.calendar.holds import held_nights_string

ACTIVE = "('pending', 'confirmed')"
EXAMPLES = 5
CHECKS = {
    "overlapping active bookings": f"""
        SELECT a.listing_id, a.id, b.id FROM bookings a
        JOIN bookings b ON b.listing_id = a.listing_id AND b.id > a.id
             AND a.check_in < b.check_out AND b.check_in < a.check_out
        WHERE a.status IN {ACTIVE} AND b.status IN {ACTIVE}""",
    "nights held twice": """
        SELECT listing_id, night, COUNT(*) FROM night_holds GROUP BY listing_id, night HAVING COUNT(*) > 1""",
    "active bookings not holding exactly their nights": f"""
        SELECT b.id, b.listing_id, b.check_in, b.check_out, COUNT(h.night) FROM bookings b
        LEFT JOIN night_holds h ON h.booking_id = b.id
        WHERE b.status IN {ACTIVE}
        GROUP BY b.id, b.listing_id, b.check_in, b.check_out, b.nights
        HAVING COUNT(h.night) <> DATEDIFF(b.check_out, b.check_in) OR b.nights <> DATEDIFF(b.check_out, b.check_in)
            OR SUM(h.listing_id = b.listing_id AND h.night >= b.check_in AND h.night < b.check_out)
               <> DATEDIFF(b.check_out, b.check_in)""",
    "holds of no active booking": f"""
        SELECT h.listing_id, h.night, h.booking_id FROM night_holds h
        LEFT JOIN bookings b ON b.id = h.booking_id AND b.listing_id = h.listing_id AND b.status IN {ACTIVE}
             AND h.night >= b.check_in AND h.night < b.check_out
        WHERE h.booking_id IS NOT NULL AND b.id IS NULL""",
}


def _mirror_mismatches(cursor) -> list[tuple]:
    """Listings whose held_nights string is not the one their night_holds give (from their held_from)."""
    cursor.execute("SELECT listing_id, night FROM night_holds")
    held: dict[int, list[date]] = defaultdict(list)
    for listing_id, night in cursor.fetchall():
        held[listing_id].append(night)
    cursor.execute("SELECT id, held_from, held_nights FROM listings")
    return [(listing_id, str(held_from)) for listing_id, held_from, string in cursor.fetchall()
            if string != held_nights_string(held[listing_id], held_from)]


def run_audit(url: str) -> dict:
    """Run every check: {"ok", "mirror_ok", "checks": [{"name", "found", "examples"}], "bookings": {status: count},
    "holds": {...}}; "ok" covers the double-booking checks, "mirror_ok" the held-nights strings."""
    checks = []
    with bench_seed.connect(url) as conn, conn.cursor() as cursor:
        cursor.execute("SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED")
        for name, sql in CHECKS.items():
            cursor.execute(sql)
            rows = cursor.fetchall()
            checks.append({"name": name, "found": len(rows), "examples": [list(map(str, r)) for r in rows[:EXAMPLES]]})
        mirror = _mirror_mismatches(cursor)
        checks.append({"name": "held_nights mirror mismatches", "found": len(mirror),
                       "examples": [list(r) for r in mirror[:EXAMPLES]]})
        cursor.execute("SELECT status, COUNT(*) FROM bookings GROUP BY status")
        bookings = dict(cursor.fetchall())
        cursor.execute("SELECT COUNT(*), COUNT(booking_id) FROM night_holds")
        holds, booked = cursor.fetchone()
    return {"ok": all(check["found"] == 0 for check in checks[:-1]), "mirror_ok": not mirror, "checks": checks,
            "bookings": bookings,
            "holds": {"total": holds, "of_bookings": booked, "host_blocks": holds - booked}}
