"""`rates set` re-normalises listings a batch per transaction: while it runs, listings outside the batch in hand stay
free to book and edit (it used to lock every listing in the currency until the end), and every listing ends under
the last committed rate."""

from __future__ import annotations

import threading

from sqlalchemy import text
from sqlalchemy.exc import OperationalError

from app import rates
from app.extensions import db
from app.models import Listing

from ..support.factories import make_listing
from ..support.threads import in_thread


def locked_now(listing_id: int) -> bool:
    """Whether another transaction holds listing `listing_id`'s row lock (asked with NOWAIT, from a connection of its
    own)."""
    with db.engine.connect() as connection:
        try:
            connection.execute(text("SELECT id FROM listings WHERE id = :id FOR UPDATE NOWAIT"), {"id": listing_id})
        except OperationalError:
            return True
        finally:
            connection.rollback()
    return False


def test_a_rate_change_locks_one_batch_of_listings_at_a_time(mariadb_app, monkeypatch):
    ids = [make_listing(price_per_night={"amount": 10000, "currency": "EUR"}).id for _ in range(5)]
    monkeypatch.setattr(rates, "RENORMALISE_BATCH", 2)
    between, go = threading.Event(), threading.Event()
    batches: list[int] = []
    original = rates.renormalise_batch

    def paused_after_first(code, after_id):
        result = original(code, after_id)
        batches.append(after_id)
        if len(batches) == 1:
            between.set()
            assert go.wait(30)
        return result

    monkeypatch.setattr(rates, "renormalise_batch", paused_after_first)
    worker, _result = in_thread(mariadb_app, lambda: rates.set_rate("EUR", "0.5"))
    try:
        assert between.wait(30)
        # Between batches, neither a done listing nor one still to do is locked: bookings and edits go on.
        assert not any(locked_now(listing_id) for listing_id in ids)
    finally:
        go.set()
        worker.join(30)
    assert batches == [0, ids[1], ids[3]]
    db.session.expire_all()
    expected = rates.to_usd_micros(10000, "EUR", rates.current_rates())
    assert [db.session.get(Listing, listing_id).price_usd_micros for listing_id in ids] == [expected] * 5


def test_each_batch_holds_its_listings_until_it_commits(mariadb_app, monkeypatch):
    """Inside a batch the rows are locked, so an edit that interleaves waits and then re-reads the committed rate."""
    ids = [make_listing(price_per_night={"amount": 10000, "currency": "EUR"}).id for _ in range(3)]
    seen: list[bool] = []
    original = rates.to_usd_micros

    def looking(amount, code, table):
        if not seen:
            seen.append(locked_now(ids[0]))
        return original(amount, code, table)

    monkeypatch.setattr(rates, "to_usd_micros", looking)
    rates.set_rate("EUR", "0.8")
    assert seen == [True]
