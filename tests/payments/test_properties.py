"""Money properties (Hypothesis): random sequences of what a guest, a host, an admin, Stripe and the scheduler do
to a few bookings, with docs/api.md's money rules checked after every step, Stripe's records against Abode's.

Driven as a client and an operator would: the JSON API (test client, JWT headers) to book instant-book and
request-to-book listings (flexible, moderate, strict; USD and JPY), pay (a card that succeeds or is declined, or
no card and Stripe.js confirming later with either), repeat a payment's Idempotency-Key with the same or another
body, confirm, cancel (guest, host, admin), approve and decline; `flask jobs run-due --now` at +31 min, +25 h,
after each stay or now; a Stripe outage for Abode's next call; and Stripe's webhooks for what happened at Stripe,
signed, in any order, repeated. Stripe is tests/support/stripe_stub.py over HTTP: every charge, refund and transfer is a
request it records. RacingMoneyMachine (MariaDB only) adds steps that run at once in threads: two run-dues, a
cancel during run-dues, two payments of one booking with different keys.

Checked after every step, per booking (its money at Stripe found by the booking_id metadata of its PaymentIntents):
  1. at most one successful charge at Stripe (one refunded because the booking could no longer take it counts);
  2. refunds at Stripe <= charged; each Payment's `refunded` (GET /payments) = what Stripe refunded on it, unless
     a refund of it is still owed;
  3. a canceled booking whose money is settled has `refund` = what went back at Stripe;
  4. no payout for money that went back: payouts (GET /payouts) and transfers (Stripe) <= kept - service fee,
     equal once a finished booking is settled, and no transfer that no payout accounts for;
  5. `flask payments ledger` exits 0 (charged - refunded - paid out - fee kept - held = 0) when no refund is owed.
Each example then settles: the outage ends, Stripe delivers every event not yet acknowledged, run-due runs after
the stays until retries are done; then 1-5 hold with nothing owed, Abode knows every charge Stripe made and each
payout is paid by its transfer. A 500, or run-due failing, is never a legitimate outcome; 402/409 answers are.

Budget: MONEY_EXAMPLES examples (default 15) of at most MONEY_STEPS steps (default 25) per test. With CI=true the
run is derandomized (the same examples every time, no example database); elsewhere failing examples are kept in
the checkout's .hypothesis/ and tried first next time, so a rerun goes straight to the failure (each checkout
keeps its own: another checkout's examples, replayed on other code, only look flaky).
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import NamedTuple

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.database import DirectoryBasedExampleDatabase
from hypothesis.stateful import Bundle, RuleBasedStateMachine, invariant, multiple, precondition, rule
from hypothesis.stateful import run_state_machine_as_test as run_machine
from sqlalchemy import select

from app.blueprints.auth.services import start_session
from app.extensions import db
from app.models import PaymentRefund, Payout, User

from ..support.cleanup import empty_tables
from ..support.factories import listing_data, make_user
from ..support.local_server import live_server
from ..support.money_world import (
    Outbox,
    StripeMoney,
    SwitchableStripe,
    cli_call,
    deliver,
    overlapped,
    run_cli,
    run_in_threads,
    stripe_money,
)
from ..support.stripe_stub import CONNECTED_ACCOUNT

IN_CI = os.environ.get("CI") == "true"
SETTINGS = settings(
    max_examples=int(os.environ.get("MONEY_EXAMPLES", "15")),
    stateful_step_count=int(os.environ.get("MONEY_STEPS", "25")), deadline=None, derandomize=IN_CI,
    database=None if IN_CI else DirectoryBasedExampleDatabase(Path(__file__).resolve().parents[2] / ".hypothesis"),
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much])

CHARGED = ("succeeded", "partially_refunded", "refunded")  # Payment statuses of money taken (docs/api.md)
SLOTS = ((3, 2), (9, 2))  # (days from today to check-in, nights): strict refunds half at 7+ days, moderate at 5+
PRICES = {"USD": (9999, 2501, "America/New_York"), "JPY": (12345, 1001, "Asia/Tokyo")}  # nightly, cleaning, tz
RUN_AT = ("in 31 min", "in 25 h", "after stay 1", "after stay 2", "now")
CARDS = ("pm_card_visa", "pm_card_chargeDeclined")
ACTORS = ("guest", "host", "admin")


class ListingKind(NamedTuple):
    instant: bool
    policy: str
    currency: str


LISTING_KINDS = st.builds(ListingKind, st.booleans(), st.sampled_from(["flexible", "moderate", "strict"]),
                          st.sampled_from(sorted(PRICES)))


@dataclass(frozen=True)
class BookingRef:
    id: int
    kind: ListingKind
    slot: int


@dataclass(frozen=True)
class Attempt:
    """One POST /payments: its key and body, the answer's status, the payment it made and, when the answer
    carried a client_secret, the PaymentIntent the guest's browser can confirm."""

    booking: BookingRef
    key: str
    body: dict
    status: int
    payment_id: int | None
    intent: str | None


def headers(user: User) -> dict:
    return {"Authorization": f"Bearer {start_session(user)['access_token']}"}


def run_due_at(choice: str) -> str:
    """The --now of a run-due: relative to the real clock, or noon UTC the day after a stay's check-out."""
    now = datetime.now(UTC)
    if choice.startswith("after stay"):
        check_in, nights = SLOTS[int(choice[-1]) - 1]
        now = datetime.combine(date.today() + timedelta(days=check_in + nights + 1), time(12), tzinfo=UTC)
    elif choice != "now":
        now += timedelta(minutes=31) if choice == "in 31 min" else timedelta(hours=25)
    return now.isoformat().replace("+00:00", "Z")


@dataclass
class World:
    """What lives across examples: the app (its context pushed by make_app) and the listening Stripe stub."""

    app: object
    stripe: SwitchableStripe


@pytest.fixture
def world(make_app) -> Iterator[World]:
    stripe = SwitchableStripe()
    with live_server(stripe.wsgi) as stripe.stub.url:
        app = make_app(**stripe.stub.settings())
        yield World(app, stripe)


class MoneyMachine(RuleBasedStateMachine):
    """Up to four bookings by one guest of one host's listings, and an admin; a rule is what one party does."""

    bookings = Bundle("bookings")
    attempts = Bundle("attempts")

    def __init__(self, world: World) -> None:
        super().__init__()
        empty_tables()
        self.app, self.stub, self.client = world.app, world.stripe.reset(), world.app.test_client()
        self.admin, self.guest = headers(make_user(role="admin")), headers(make_user())
        host = make_user(role="host")
        host.payout_account = CONNECTED_ACCOUNT  # the Stripe connected account the stub knows
        db.session.commit()
        self.host = headers(host)
        self.listings: dict[ListingKind, int] = {}
        self.made: list[BookingRef] = []
        self.outbox, self.payments_asked = Outbox(), 0
        self.unchanged, self.stripe_requests_checked = False, -1  # lets a check skip a step that changed nothing

    # --- the guest, the host and the admin -----------------------------------------------------------------------

    def _listing(self, kind: ListingKind) -> int:
        if kind not in self.listings:
            nightly, cleaning, zone = PRICES[kind.currency]
            body = listing_data(title=f"{kind.policy} {kind.currency} place", min_nights=1, timezone=zone,
                                instant_book=kind.instant, cancellation_policy=kind.policy,
                                price_per_night={"amount": nightly, "currency": kind.currency},
                                cleaning_fee={"amount": cleaning, "currency": kind.currency})
            created = self.client.post("/api/v1/properties", json=body, headers=self.host)
            assert created.status_code == 201, created.get_json()
            self.listings[kind] = created.get_json()["id"]
        return self.listings[kind]

    @precondition(lambda self: len(self.made) < 4)
    @rule(target=bookings, kind=LISTING_KINDS, slot=st.sampled_from([0, 1]))
    def book(self, kind: ListingKind, slot: int):
        check_in = date.today() + timedelta(days=SLOTS[slot][0])
        body = {"property_id": self._listing(kind), "check_in": check_in.isoformat(),
                "check_out": (check_in + timedelta(days=SLOTS[slot][1])).isoformat(), "guests": 1}
        answer = self.client.post("/api/v1/bookings", json=body, headers=self.guest)
        assert answer.status_code in (201, 409), f"book: {answer.status_code} {answer.get_json()}"
        if answer.status_code != 201:
            self.unchanged = True
            return multiple()
        self.made.append(BookingRef(answer.get_json()["id"], kind, slot))
        return self.made[-1]

    def _pay(self, key: str, body: dict, client=None) -> tuple[int, dict]:
        answer = (client or self.client).post("/api/v1/payments", json=body,
                                              headers={**self.guest, "Idempotency-Key": key})
        assert answer.status_code in (201, 402, 409), f"pay: {answer.status_code} {answer.get_json()}"
        return answer.status_code, answer.get_json()

    def _attempt(self, booking: BookingRef, key: str, body: dict, status: int, data: dict) -> Attempt:
        secret = data.get("client_secret") if status == 201 else None
        return Attempt(booking, key, body, status, data["id"] if status == 201 else None,
                       secret.split("_secret_")[0] if secret else None)

    def _new_key(self) -> str:
        self.payments_asked += 1
        return f"pay-{self.payments_asked}"

    @rule(target=attempts, booking=bookings, method=st.sampled_from([*CARDS, None]))
    def pay(self, booking: BookingRef, method: str | None):
        """Pay with a new Idempotency-Key: with a test card, or none (the browser confirms later)."""
        key, body = self._new_key(), {"booking_id": booking.id, **({"payment_method": method} if method else {})}
        status, data = self._pay(key, body)
        self.unchanged = status == 409
        return self._attempt(booking, key, body, status, data)

    @rule(earlier=attempts, same_body=st.booleans())
    def repeat_payment(self, earlier: Attempt, same_body: bool):
        """Send an earlier payment's Idempotency-Key again: the same request (a retry), or another body."""
        body = earlier.body if same_body else {"booking_id": earlier.booking.id, **(
            {} if earlier.body.get("payment_method") else {"payment_method": CARDS[0]})}
        status, data = self._pay(earlier.key, body)
        self.unchanged = status == 409
        if not same_body and earlier.payment_id is not None:
            assert data.get("error", {}).get("code") == "idempotency_mismatch", (
                f"key {earlier.key} made payment {earlier.payment_id} with {earlier.body}; with {body} it "
                f"answered {status} {data}")
        if same_body and earlier.payment_id is not None and status == 201:
            assert data["id"] == earlier.payment_id, f"key {earlier.key} made payment {data['id']} as well"

    @rule(payment=attempts, card=st.sampled_from(CARDS), then_confirm=st.booleans(), processing_event=st.booleans())
    def confirm_in_browser(self, payment: Attempt, card: str, then_confirm: bool, processing_event: bool):
        """Stripe.js confirms the PaymentIntent with a card (nothing happens to one that already succeeded, or
        without a client_secret); Stripe may have sent a payment_intent.processing first; the page may then
        POST /payments/{id}/confirm."""
        if payment.intent is None:
            self.unchanged = True
            return
        if processing_event:
            event = self.stub.event("payment_intent.processing", payment.intent)
            event["data"]["object"]["status"] = "processing"
            self.outbox.add(event)
        self.stub.confirm(payment.intent, card)
        if then_confirm:
            self.confirm(payment)

    @rule(payment=attempts)
    def confirm(self, payment: Attempt):
        """POST /payments/{id}/confirm, as the page does after Stripe.js (a request that made no payment: nothing)."""
        if payment.payment_id is None:
            self.unchanged = True
            return
        charged = payment.intent is not None and self.stub.intents[payment.intent]["status"] == "succeeded"
        answer = self.client.post(f"/api/v1/payments/{payment.payment_id}/confirm", headers=self.guest)
        assert answer.status_code in (200, 402), f"confirm: {answer.status_code} {answer.get_json()}"
        assert not (charged and answer.status_code == 402), (
            f"payment {payment.payment_id} of booking {payment.booking.id}: Stripe charged its PaymentIntent, "
            f"but confirm answered 402 {answer.get_json()}")

    def _cancel(self, booking: BookingRef, by: str, client=None):
        actor = {"guest": self.guest, "host": self.host, "admin": self.admin}[by]
        answer = (client or self.client).post(f"/api/v1/bookings/{booking.id}/cancel", json={"reason": by},
                                              headers=actor)
        assert answer.status_code in (200, 409), f"cancel by {by}: {answer.status_code} {answer.get_json()}"
        return answer

    @rule(booking=bookings, by=st.sampled_from(ACTORS))
    def cancel(self, booking: BookingRef, by: str):
        self.unchanged = self._cancel(booking, by).status_code == 409

    @rule(booking=bookings, answer=st.sampled_from(["approve", "decline"]))
    def host_answers(self, booking: BookingRef, answer: str):
        reply = self.client.post(f"/api/v1/bookings/{booking.id}/{answer}", headers=self.host)
        assert reply.status_code in (200, 409), f"{answer}: {reply.status_code} {reply.get_json()}"
        self.unchanged = reply.status_code == 409

    # --- Stripe and the scheduler --------------------------------------------------------------------------------

    # Preconditions read only what the rules chose, never what a race made of it (the events Stripe sent, an
    # outage still pending): Hypothesis replays a choice sequence and calls it flaky when the rules on offer differ.
    @precondition(lambda self: self.made)
    @rule(event_no=st.integers(0, 30), twice=st.booleans())
    def stripe_sends_webhook(self, event_no: int, twice: bool):
        """Stripe delivers one of the events it has sent so far (again, maybe): any order, any number of times."""
        if not self.outbox.events:
            self.unchanged = True
            return
        event = self.outbox.events[event_no % len(self.outbox.events)]
        self.unchanged = "applied" not in [self._deliver(event) for _ in range(2 if twice else 1)]

    def _deliver(self, event: dict) -> str | None:
        failures = self.stub._failures
        answer = deliver(self.client, self.stub, event)
        outage = self.stub._failures < failures
        assert answer.status_code == 200 or (answer.status_code == 503 and outage), (
            f"webhook {event['type']} for booking {event['data']['object']['metadata'].get('booking_id')}: "
            f"{answer.status_code} {answer.get_json()}")
        if answer.status_code == 200:
            self.outbox.acknowledged.add(event["id"])
        return answer.get_json().get("outcome")

    @precondition(lambda self: self.made)
    @rule()
    def stripe_outage(self):
        """Stripe answers the next request Abode makes, whatever it is, with a 500 (one outage at a time)."""
        if not self.stub._failures:
            self.stub.fail_next(1)
        self.unchanged = True

    @precondition(lambda self: self.made)
    @rule(at=st.sampled_from(RUN_AT))
    def run_due(self, at: str):
        result = run_cli(self.app, "jobs", "run-due", "--now", run_due_at(at))
        assert result.exit_code == 0, f"run-due {at}: {result.output} {result.exception!r}"
        counts = [int(n) for n in re.findall(r"(\d+) [a-z ]+\(s\)", result.output)]
        self.unchanged = bool(counts) and not any(counts)

    # --- what must hold -----------------------------------------------------------------------------------------

    @invariant()
    def money_adds_up(self):
        self.outbox.collect(self.stub)
        if self.unchanged and len(self.stub.requests) == self.stripe_requests_checked:
            self.unchanged = False
            return  # refused, or nothing to do, and Stripe saw no request: the last check still stands
        self._check(final=False)
        self.unchanged, self.stripe_requests_checked = False, len(self.stub.requests)

    def _get(self, url: str, who: dict) -> dict:
        answer = self.client.get(url, headers=who)
        assert answer.status_code == 200, f"GET {url}: {answer.status_code} {answer.get_json()}"
        return answer.get_json()

    def _check(self, *, final: bool) -> None:
        db.session.rollback()  # read what the app committed, not an older snapshot
        payments = self._get("/api/v1/payments?per_page=100", self.admin)["items"]
        bookings = {item["id"]: item for item in self._get("/api/v1/bookings?per_page=100", self.guest)["items"]}
        payouts: dict[int, list[dict]] = {}
        for payout in self._get("/api/v1/payouts?per_page=100", self.host)["items"]:
            payouts.setdefault(payout["booking_id"], []).append(payout)
        owed = set(db.session.scalars(select(PaymentRefund.payment_id).where(PaymentRefund.status == "pending")))
        transfer_of = dict(db.session.execute(select(Payout.provider_reference, Payout.booking_id)
                                              .where(Payout.provider_reference.is_not(None))).all())
        stray = {ref: transfer["amount"] for ref, transfer in self.stub.transfers.items() if ref not in transfer_of}
        assert not stray, f"Stripe made transfers that no payout accounts for: {stray}"
        for ref in self.made:
            transferred = sum(transfer["amount"] for transfer_id, transfer in self.stub.transfers.items()
                              if transfer_of.get(transfer_id) == ref.id)
            check_booking(bookings[ref.id], stripe_money(self.stub, ref.id),
                          [payment for payment in payments if payment["booking_id"] == ref.id], owed,
                          payouts.get(ref.id, []), transferred, final=final)
        if final or not owed:
            ledger = run_cli(self.app, "payments", "ledger")
            assert ledger.exit_code == 0, f"payments ledger does not balance:\n{ledger.output}"

    def _settle(self) -> None:
        """The end of the story: Stripe is back and delivers all it owes; the scheduler catches up after the stays."""
        self.stub.fail_next(0)
        last_check_out = date.today() + timedelta(days=SLOTS[-1][0] + SLOTS[-1][1])
        for days in (1, 3, 7, None):
            self.outbox.collect(self.stub)
            for event in self.outbox.unacknowledged:
                self._deliver(event)
            if days is not None:
                at = datetime.combine(last_check_out + timedelta(days=days), time(12)).isoformat() + "Z"
                result = run_cli(self.app, "jobs", "run-due", "--now", at)
                assert result.exit_code == 0, f"settling run-due: {result.output} {result.exception!r}"

    def teardown(self) -> None:
        if sys.exc_info()[1] is None:  # after a failed step, settling would only bury its report
            self._settle()
            self._check(final=True)


class RacingMoneyMachine(MoneyMachine):
    """The same, plus steps where two things happen at once (threads, each its own database session)."""

    def _at_once(self, *calls, delays: tuple[float, ...] = ()) -> list:
        runs = run_in_threads(calls, delays)
        if errors := [run.error for run in runs if run.error is not None]:
            raise errors[0]
        prompt = [run for n, run in enumerate(runs) if n >= len(delays) or not delays[n]]
        assert overlapped(prompt), f"the parallel calls ran one after the other: {runs}"
        return [run.result for run in runs]

    @precondition(lambda self: self.made)
    @rule(at=st.sampled_from(RUN_AT))
    def two_run_dues_at_once(self, at: str):
        self._at_once(*[cli_call(self.app, "jobs", "run-due", "--now", run_due_at(at))] * 2)

    @rule(booking=MoneyMachine.bookings, by=st.sampled_from(ACTORS), at=st.sampled_from(RUN_AT))
    def cancel_during_run_dues(self, booking: BookingRef, by: str, at: str):
        """A cancel, with run-dues starting with it, 5 ms and 10 ms later (its refund is sent in between)."""
        run_due = cli_call(self.app, "jobs", "run-due", "--now", run_due_at(at))
        self._at_once(lambda: self._cancel(booking, by, self.app.test_client()), run_due, run_due, run_due,
                      delays=(0, 0, 0.005, 0.010))

    @rule(target=MoneyMachine.attempts, booking=MoneyMachine.bookings)
    def two_payments_at_once(self, booking: BookingRef):
        """The guest pays twice at once with different keys (two tabs): at most one may charge."""
        body, keys = {"booking_id": booking.id, "payment_method": CARDS[0]}, [self._new_key(), self._new_key()]
        answers = self._at_once(*[lambda key=key: self._pay(key, body, self.app.test_client()) for key in keys])
        return multiple(*[self._attempt(booking, key, body, *answer)
                          for key, answer in zip(keys, answers, strict=True)])


def check_booking(booking: dict, stripe: StripeMoney, payments: list[dict], owed: set[int], payouts: list[dict],
                  transferred: int, *, final: bool) -> None:
    """Invariants 1-4 for one booking; `final`: after settling, nothing may be owed or unknown any more."""
    where = (f"booking {booking['id']} ({booking['status']}, {booking['cancellation_policy']}, paid "
             f"{booking['paid']}, total {booking['price']['total']['amount']}, refund {booking['refund']}): "
             f"{stripe.describe()}")
    assert len(stripe.charged) <= 1, f"charged {len(stripe.charged)} times: {where}"
    assert stripe.refunded <= stripe.charged_amount, f"refunded more than was charged: {where}"
    for payment in payments:
        refunded, amount = payment["refunded"]["amount"], payment["amount"]["amount"]
        assert refunded <= amount, f"payment {payment['id']} refunded {refunded} of {amount}: {where}"
        if payment["id"] not in owed:
            assert refunded == stripe.refunded_for_payment(payment["id"]), (
                f"payment {payment['id']} says {refunded} refunded, Stripe refunded "
                f"{stripe.refunded_for_payment(payment['id'])} on it: {where}")
    recorded = sum(payment["amount"]["amount"] for payment in payments if payment["status"] in CHARGED)
    still_owed = owed & {payment["id"] for payment in payments}
    if final:
        assert not still_owed, f"refunds still owed after settling: {where}"
        assert recorded == stripe.charged_amount, f"Abode records {recorded} charged: {where}"
    settled = recorded == stripe.charged_amount and not still_owed
    if booking["status"] == "canceled" and settled:
        refund = booking["refund"]["amount"]
        if not booking["paid"]:
            assert refund == stripe.refunded, f"a charge that came after the cancellation went back: {where}"
        assert refund == stripe.refunded, f"the booking's refund is not what went back: {where}"
    due = max(stripe.kept - booking["price"]["service_fee"]["amount"], 0)
    payout = sum(item["amount"]["amount"] for item in payouts)
    assert payout <= due, f"payouts {payouts} for {due} kept less the service fee: {where}"
    assert transferred <= due, f"Stripe transferred {transferred} to the host for {due} kept less the fee: {where}"
    if settled and booking["status"] in ("completed", "canceled"):
        assert payout == due, f"payouts {payouts}, owed {due} (kept less the service fee): {where}"
    if final:
        assert all(item["status"] == "paid" for item in payouts) and transferred == payout, (
            f"payouts {payouts} not all paid, {transferred} transferred: {where}")


def test_money_under_random_sequences_adds_up(world):
    run_machine(lambda: MoneyMachine(world), settings=SETTINGS)


def test_money_under_random_races_adds_up(world):
    if db.engine.dialect.name not in ("mysql", "mariadb"):
        pytest.skip("races need MariaDB (set TEST_DATABASE_URL): SQLite runs one writer at a time")
    run_machine(lambda: RacingMoneyMachine(world), settings=SETTINGS)
