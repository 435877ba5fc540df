"""Money under races, as an outside client written from docs/api.md sees it: the real app on a loopback port, Stripe
as a local stub on another, requests from many threads at once and `flask jobs run-due` as separate processes.
Each test ends by asserting what the client and the provider saw: one charge and one refund per booking."""

from __future__ import annotations

import re
import threading
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from functools import partial
from itertools import count

import pytest

from app.extensions import db

from ..support.local_server import live_server
from ..support.money_client import Abode, Answer, FlaskCommands, charges_of, in_parallel, race, refunds_of, slow_stripe
from ..support.stripe_stub import CONNECTED_ACCOUNT, StripeStub

TODAY = datetime.now(UTC).date()  # the listings keep UTC time
WORK_DONE = re.compile(r"\d+ missed settlement\(s\) owed, \d+ refund\(s\) sent")
_emails = count(1)


class Findings(list):
    """Everything a test found wrong, reported together with the counts that show it."""

    def check(self, ok: bool, message: str) -> None:
        if not ok:
            self.append(message)

    def verdict(self) -> None:
        if self:  # the message says it all: no traceback of the test's source
            pytest.fail(f"{len(self)} problem(s):\n" + "\n".join(self), pytrace=False)


class World:
    """The live app, its outside client, the Stripe stub and the `flask` command line."""

    def __init__(self, api: Abode, stub: StripeStub, flask: FlaskCommands) -> None:
        self.api, self.stub, self.flask = api, stub, flask

    def user(self, role: str = "guest") -> tuple[int, str]:
        return self.api.register(f"{role}{next(_emails)}@races.example.com", role)

    def host_with_listing(self, **listing) -> tuple[str, int]:
        """A host able to be paid through Stripe, and a listing of theirs: (token, listing id)."""
        host_id, token = self.user("host")
        answer = self.api.call("PUT", "/api/v1/profile/payout-account", token,
                               {"provider": "stripe", "account_id": CONNECTED_ACCOUNT})
        assert answer.status == 200, answer
        return token, self.api.create_listing(token, **listing)

    def paid_bookings(self, guest: str, listing_id: int, days: list[int]) -> list[dict]:
        """One-night bookings checking in `days` from today, each paid with a Visa card."""
        def book_and_pay(day: int) -> dict:
            booking = self.api.book(guest, listing_id, TODAY + timedelta(days=day))
            paid = self.api.pay(guest, booking["id"], f"setup-{booking['id']}")
            assert (paid.status, paid.body["status"]) == (201, "succeeded"), paid
            return self.api.booking(guest, booking["id"])

        return in_parallel(book_and_pay, days)

    def payments_by_booking(self, guest: str) -> dict[int, list[dict]]:
        found: dict[int, list[dict]] = {}
        for payment in self.api.all_pages("/api/v1/payments", guest):
            found.setdefault(payment["booking_id"], []).append(payment)
        return found


@pytest.fixture
def stub():
    with slow_stripe() as stub:
        yield stub


@pytest.fixture
def world(make_app, stub):
    app = make_app(**stub.settings(), PROPAGATE_EXCEPTIONS=False,  # a crash is a JSON 500, as in production
                   SQLALCHEMY_ENGINE_OPTIONS={"pool_size": 24, "max_overflow": 8, "pool_timeout": 60,
                                              "pool_pre_ping": True})
    if db.engine.dialect.name not in ("mysql", "mariadb"):
        pytest.skip("the races run against MariaDB (set TEST_DATABASE_URL)")
    with live_server(app) as url:
        yield World(Abode(url), stub, FlaskCommands(app.config, stub.url))


def crashed(answers: list) -> list:
    """Answers that are exceptions in the client or 5xx from the app."""
    return [a for a in answers if not isinstance(a, Answer) or a.status >= 500]


def charged_payments(payments: list[dict]) -> list[dict]:
    return [p for p in payments if p["status"] in ("succeeded", "partially_refunded", "refunded")]


def test_parallel_payments_with_different_keys_charge_the_booking_once(world):
    """Twelve taps of Pay, each with its own Idempotency-Key: one charge, every other answer 409."""
    _host, listing_id = world.host_with_listing()
    _guest_id, guest = world.user()
    found = Findings()
    for round_ in range(3):
        booking = world.api.book(guest, listing_id, TODAY + timedelta(days=10 + 2 * round_))
        answers = race([partial(world.api.pay, guest, booking["id"], f"tap-{round_}-{n}") for n in range(12)])
        seen = Counter((a.status, a.body.get("status") or a.code) for a in answers if isinstance(a, Answer)
                       and isinstance(a.body, dict))
        charges, refunds = charges_of(world.stub, booking["id"]), refunds_of(world.stub, booking["id"])
        after = world.api.booking(guest, booking["id"])
        payments = world.payments_by_booking(guest).get(booking["id"], [])
        where = f"round {round_} (booking {booking['id']}): answers {dict(seen)};"
        found.check(not crashed(answers), f"{where} 5xx or no answer: {crashed(answers)}")
        found.check(seen[(201, "succeeded")] == 1, f"{where} want exactly one 201 succeeded")
        found.check(seen[(409, "payment_in_progress")] == 11, f"{where} want 11 x 409 payment_in_progress")
        found.check(len(charges) == 1, f"{where} {len(charges)} succeeded PaymentIntents at Stripe, want 1")
        found.check(not refunds, f"{where} {len(refunds)} refund(s) at Stripe of the extra charges, want 0")
        found.check(len(charged_payments(payments)) == 1,
                    f"{where} GET /payments shows {[p['status'] for p in payments]}, want one charged payment")
        found.check((after["status"], after["paid"]) == ("confirmed", True), f"{where} booking is {after['status']}")
    found.verdict()


def test_parallel_retries_with_one_key_all_get_the_first_answer(world):
    """Twenty retries of one request (one Idempotency-Key, one body): one charge, the same answer twenty times."""
    _host, listing_id = world.host_with_listing()
    _guest_id, guest = world.user()
    found = Findings()
    for round_ in range(2):
        booking = world.api.book(guest, listing_id, TODAY + timedelta(days=10 + 2 * round_))
        answers = race([partial(world.api.pay, guest, booking["id"], f"retry-{round_}")] * 20)
        seen = Counter((a.status, a.body.get("status") or a.code) for a in answers if isinstance(a, Answer)
                       and isinstance(a.body, dict))
        ids = {a.body.get("id") for a in answers if isinstance(a, Answer) and isinstance(a.body, dict)}
        charges = charges_of(world.stub, booking["id"])
        after = world.api.booking(guest, booking["id"])
        where = f"round {round_} (booking {booking['id']}): answers {dict(seen)}, payment ids {ids};"
        found.check(not crashed(answers), f"{where} 5xx or no answer: {crashed(answers)}")
        found.check(seen == Counter({(201, "succeeded"): 20}), f"{where} want 20 x 201 succeeded")
        found.check(len(ids) == 1, f"{where} want one payment id")
        found.check(len(charges) == 1, f"{where} {len(charges)} succeeded PaymentIntents at Stripe, want 1")
        found.check(after["status"] == "confirmed", f"{where} booking is {after['status']}")
    found.verdict()


def _loop_run_due(world: World, stop: threading.Event) -> None:
    while not stop.is_set():
        world.flask.run("jobs", "run-due")


def test_cancellations_racing_the_scheduler_refund_each_booking_once(world):
    """Thirty strict cancellations (> 7 days ahead: half of nights + cleaning back) while `flask jobs run-due`
    runs over and over in other processes: one refund of exactly that amount per booking."""
    _host, listing_id = world.host_with_listing(cancellation_policy="strict")
    _guest_id, guest = world.user()
    bookings = world.paid_bookings(guest, listing_id, list(range(10, 40)))
    policy = {b["id"]: (b["price"]["nightly"]["amount"] + b["price"]["cleaning_fee"]["amount"]) // 2
              for b in bookings}  # 10000 + 3000: even, so half-even rounding changes nothing
    world.stub.delays[("POST", "/v1/refunds")] = 0.8  # Stripe takes its time: a refund is in flight for a while
    stop = threading.Event()
    loopers = [threading.Thread(target=_loop_run_due, args=(world, stop)) for _ in range(2)]
    for looper in loopers:
        looper.start()
    time.sleep(1.0)  # the first runs are past their start-up

    def cancel_some(share: list[dict]) -> list[Answer]:
        answers = []
        for booking in share:
            answers.append(world.api.call("POST", f"/api/v1/bookings/{booking['id']}/cancel", guest,
                                          {"reason": "plans changed"}))
        return answers

    try:
        shares = race([lambda k=k: cancel_some(bookings[k::5]) for k in range(5)])  # 5 in flight at any time
        cancels = [a for share in shares for a in (share if isinstance(share, list) else [share])]
    finally:
        stop.set()
        for looper in loopers:
            looper.join(timeout=60)
    racing_runs = len(world.flask.runs)
    world.flask.run("jobs", "run-due")  # whatever a race left owed is sent now
    ledger = world.flask.run("payments", "ledger")
    payments = world.payments_by_booking(guest)
    found = Findings()
    found.check(len(cancels) == 30 and all(isinstance(a, Answer) and a.status == 200 for a in cancels),
                f"cancel answers: {Counter(getattr(a, 'status', repr(a)) for a in cancels)}")
    for booking in bookings:
        want, where = policy[booking["id"]], f"booking {booking['id']}:"
        answer = next((a for a in cancels if isinstance(a, Answer) and isinstance(a.body, dict)
                       and a.body.get("id") == booking["id"]), None)
        found.check(answer is not None and answer.body.get("refund") == {"amount": want, "currency": "USD"},
                    f"{where} cancel answered {answer}, want refund {want}")
        refunds = [r["amount"] for r in refunds_of(world.stub, booking["id"])]
        found.check(refunds == [want], f"{where} refunds at Stripe {refunds}, want exactly [{want}]")
        found.check(len(charges_of(world.stub, booking["id"])) == 1, f"{where} charged more than once")
        charged = charged_payments(payments.get(booking["id"], []))
        found.check([p["refunded"]["amount"] for p in charged] == [want],
                    f"{where} GET /payments refunded {[p['refunded'] for p in charged]}, want [{want}]")
    found.check(ledger.returncode == 0, f"payments ledger exited {ledger.returncode}:\n{world.flask.printed(ledger)}")
    found.check(not world.flask.crashes(), "\n".join(world.flask.crashes()))
    world.flask.report_errors()
    if found:  # the evidence that the race happened: run-due processes that found refunds owed meanwhile
        idle = "0 missed settlement(s) owed, 0 refund(s) sent"
        busy = [m.group(0) for line in world.flask.summaries()[:racing_runs]
                if (m := WORK_DONE.search(line)) and m.group(0) != idle]
        resent = Counter(c.idempotency_key for c in world.stub.calls("/v1/refunds", "POST"))
        found.append(f"{racing_runs} run-due processes raced the cancels; those that found work: {busy}; "
                     f"POST /v1/refunds sent more than once per Idempotency-Key: "
                     f"{sorted(n for n in resent.values() if n > 1)}")
    found.verdict()


def test_schedulers_at_once_send_each_refund_and_payout_once(world):
    """Four `jobs run-due` at once after stays ended and cancellations left refunds owed (Stripe failed during
    the cancels): every refund and every payout reaches Stripe once, and `refunded` is counted once."""
    host, listing_id = world.host_with_listing(cancellation_policy="strict")
    _guest_id, guest = world.user()
    bookings = world.paid_bookings(guest, listing_id, list(range(8, 30)))
    canceled = {b["id"] for b in bookings[::4]}  # 6 of 22
    for booking_id in sorted(canceled):
        world.stub.fail_next(1)  # Stripe is down for the refund: it stays owed, for run-due to send
        world.api.ok("POST", f"/api/v1/bookings/{booking_id}/cancel", guest, {"reason": "ill"})
    owed_before = sum(len(refunds_of(world.stub, b)) for b in canceled)
    world.stub.delays.update({("POST", "/v1/refunds"): 0.1, ("POST", "/v1/transfers"): 0.1})
    now = datetime.combine(TODAY + timedelta(days=31), datetime.min.time(), UTC) + timedelta(hours=12)
    mark = len(world.stub.requests)
    runs = world.flask.at_once(4, "jobs", "run-due", "--now", now.isoformat())
    world.flask.run("jobs", "run-due", "--now", (now + timedelta(days=1)).isoformat())  # what a failure left
    calls = world.stub.requests[mark:]
    again = len(world.stub.requests)
    world.flask.run("jobs", "run-due", "--now", (now + timedelta(days=1)).isoformat())
    ledger = world.flask.run("payments", "ledger")
    payments = world.payments_by_booking(guest)
    payouts = world.api.all_pages("/api/v1/payouts", host)
    found = Findings()
    found.check(owed_before == 0, f"{owed_before} refunds reached Stripe although it was down during the cancels")
    refund_keys = Counter(c.idempotency_key for c in calls if (c.method, c.path) == ("POST", "/v1/refunds"))
    transfer_keys = Counter(c.idempotency_key for c in calls if (c.method, c.path) == ("POST", "/v1/transfers"))
    found.check(len(refund_keys) == 6 and set(refund_keys.values()) == {1},
                f"POST /v1/refunds per Idempotency-Key: {sorted(refund_keys.values())}, want 6 keys, once each")
    found.check(len(transfer_keys) == 22 and set(transfer_keys.values()) == {1},
                f"POST /v1/transfers per Idempotency-Key: {sorted(transfer_keys.values())}, want 22 keys, once each")
    found.check(len(world.stub.transfers) == 22, f"{len(world.stub.transfers)} transfers created at Stripe, want 22")
    found.check(len(world.stub.refunds) == 6, f"{len(world.stub.refunds)} refunds created at Stripe, want 6")
    want_payouts = []
    for booking in bookings:
        price, where = booking["price"], f"booking {booking['id']}:"
        refund = (price["nightly"]["amount"] + price["cleaning_fee"]["amount"]) // 2 if booking["id"] in canceled \
            else 0
        want_payouts.append(price["total"]["amount"] - refund - price["service_fee"]["amount"])
        refunds = [r["amount"] for r in refunds_of(world.stub, booking["id"])]
        found.check(refunds == ([refund] if refund else []), f"{where} refunds at Stripe {refunds}, want {refund}")
        charged = charged_payments(payments.get(booking["id"], []))
        found.check([p["refunded"]["amount"] for p in charged] == [refund],
                    f"{where} GET /payments refunded {[p['refunded'] for p in charged]}, want [{refund}]")
    transferred = sorted(t["amount"] for t in world.stub.transfers.values())
    found.check(transferred == sorted(want_payouts), f"transfer amounts {transferred}, want {sorted(want_payouts)}")
    found.check(sorted((p["status"], p["amount"]["amount"]) for p in payouts) ==
                sorted(("paid", amount) for amount in want_payouts), f"GET /payouts: {payouts}")
    found.check(len(world.stub.requests) == again, f"a run-due after everything was sent called Stripe again: "
                f"{[(c.method, c.path) for c in world.stub.requests[again:]]}")
    found.check(ledger.returncode == 0, f"payments ledger exited {ledger.returncode}:\n{world.flask.printed(ledger)}")
    found.check(not world.flask.crashes(), "\n".join(world.flask.crashes()))
    world.flask.report_errors()
    if found:
        found.append("the four runs said: " + " | ".join(world.flask.summaries(runs)))
    found.verdict()


WEBHOOK_URL = "/api/v1/payments/webhooks/stripe"


def _later(delay: float, call, *args, **kwargs):
    time.sleep(delay)
    return call(*args, **kwargs)


# (webhook, confirm, webhook again) start offsets in seconds: before, after, together and twice around
TIMINGS = [(0, 0.15, 0.3), (0.15, 0, 0.3), (0, 0, 0), (0, 0.02, 0.04), (0.02, 0, 0.02), (0.04, 0.02, 0)]


def test_webhook_and_confirm_around_a_browser_payment_pay_the_booking_once(world):
    """Stripe.js confirms in the browser; the signed payment_intent.succeeded and the app's POST /confirm arrive
    in every order and together, and the event twice: the booking is paid once, with one charge."""
    _host, listing_id = world.host_with_listing()
    _guest_id, guest = world.user()
    found = Findings()
    for round_, offsets in enumerate(TIMINGS):
        booking = world.api.book(guest, listing_id, TODAY + timedelta(days=10 + 2 * round_))
        created = world.api.pay(guest, booking["id"], f"browser-{round_}", method=None)
        assert created.status == 201 and created.body["status"] == "requires_payment", created
        intent = created.body["client_secret"].split("_secret_")[0]  # Stripe's client_secret names its intent
        world.stub.delays[("GET", f"/v1/payment_intents/{intent}")] = 0.05
        world.stub.confirm(intent, "pm_card_visa")  # what Stripe.js does in the guest's browser
        body, headers = world.stub.sign(world.stub.event("payment_intent.succeeded", intent))

        confirm_url = f"/api/v1/payments/{created.body['id']}/confirm"
        first, confirmed, second = race([
            partial(_later, offsets[0], world.api.call, "POST", WEBHOOK_URL, data=body, headers=headers),
            partial(_later, offsets[1], world.api.call, "POST", confirm_url, guest),
            partial(_later, offsets[2], world.api.call, "POST", WEBHOOK_URL, data=body, headers=headers)])
        after = world.api.booking(guest, booking["id"])
        payments = world.payments_by_booking(guest).get(booking["id"], [])
        where = f"round {round_} {offsets} (booking {booking['id']}): webhooks {first}, {second}; confirm {confirmed};"
        found.check(not crashed([first, confirmed, second]), f"{where} 5xx or no answer")
        found.check(all(isinstance(a, Answer) and a.status == 200 for a in (first, second)), f"{where} webhook not 200")
        found.check(isinstance(confirmed, Answer) and confirmed.status == 200 and isinstance(confirmed.body, dict)
                    and confirmed.body.get("status") == "succeeded", f"{where} confirm did not answer 200 succeeded")
        found.check((after["status"], after["paid"]) == ("confirmed", True), f"{where} booking is {after['status']}")
        found.check([(p["status"], p["refunded"]["amount"]) for p in payments] == [("succeeded", 0)],
                    f"{where} GET /payments: {[(p['status'], p['refunded']) for p in payments]}")
        charges, refunds = charges_of(world.stub, booking["id"]), refunds_of(world.stub, booking["id"])
        found.check((len(charges), len(refunds)) == (1, 0), f"{where} {len(charges)} charge(s) and {len(refunds)} "
                    "refund(s) at Stripe, want 1 and 0")
    ledger = world.flask.run("payments", "ledger")
    found.check(ledger.returncode == 0, f"payments ledger exited {ledger.returncode}:\n{world.flask.printed(ledger)}")
    found.verdict()
