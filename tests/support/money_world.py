"""The outside world of the money property test (tests/payments/test_listings.py): a Stripe stub that is swapped
for a fresh one per example, Stripe's view of one booking's money, Stripe's webhook outbox, and the operator's
`flask ...` commands, one at a time or several at once in threads."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from click.testing import Result
from flask import Flask
from flask.cli import ScriptInfo

from .stripe_stub import StripeStub

WEBHOOK_URL = "/api/v1/payments/webhooks/stripe"


class SwitchableStripe:
    """One listening Stripe stub whose state is replaced by a fresh StripeStub for every example."""

    def __init__(self) -> None:
        self.stub = StripeStub()

    def wsgi(self, environ, start_response):
        return self.stub.wsgi(environ, start_response)

    def reset(self) -> StripeStub:
        url, self.stub = self.stub.url, StripeStub()
        self.stub.url = url
        return self.stub


@dataclass(frozen=True)
class StripeMoney:
    """What Stripe itself holds for one booking: its PaymentIntents (found by the metadata Abode put on them),
    the successful ones (still charges once refunded) and what was refunded on each."""

    intents: list[dict]
    charged: list[dict]
    refunded_by_intent: dict[str, int]

    @property
    def charged_amount(self) -> int:
        return sum(intent["amount"] for intent in self.charged)

    @property
    def refunded(self) -> int:
        return sum(self.refunded_by_intent.values())

    @property
    def kept(self) -> int:
        """What the guest paid and did not get back."""
        return self.charged_amount - self.refunded

    def refunded_for_payment(self, payment_id: int) -> int:
        return sum(self.refunded_by_intent.get(intent["id"], 0) for intent in self.intents
                   if intent["metadata"].get("payment_id") == str(payment_id))

    def describe(self) -> str:
        charges = ", ".join(f"{intent['amount']} {intent['currency'].upper()} for payment "
                            f"{intent['metadata'].get('payment_id')} (refunded "
                            f"{self.refunded_by_intent.get(intent['id'], 0)})" for intent in self.charged)
        return f"Stripe charged [{charges or 'nothing'}], refunded {self.refunded} in all"


def stripe_money(stub: StripeStub, booking_id: int) -> StripeMoney:
    """Stripe's view of `booking_id`."""
    intents = [intent for intent in stub.intents.values() if intent["metadata"].get("booking_id") == str(booking_id)]
    ids = {intent["id"] for intent in intents}
    refunded: dict[str, int] = {}
    for refund in stub.refunds.values():
        if refund["payment_intent"] in ids and refund["status"] == "succeeded":
            refunded[refund["payment_intent"]] = refunded.get(refund["payment_intent"], 0) + refund["amount"]
    return StripeMoney(intents, [intent for intent in intents if intent["status"] == "succeeded"], refunded)


@dataclass
class Outbox:
    """The events Stripe sends about what happened at the stub: payment_intent.succeeded or .payment_failed after
    each charge attempt, charge.refunded after each refund. Stripe redelivers an event until it gets a 2xx, so
    `unacknowledged` is what it still owes Abode."""

    events: list[dict] = field(default_factory=list)
    acknowledged: set[str] = field(default_factory=set)
    _seen: dict[str, tuple[str | None, int]] = field(default_factory=dict)  # intent -> (latest charge, refunded)

    def collect(self, stub: StripeStub) -> None:
        """Queue an event for every charge attempt and refund the stub made since the last call."""
        for intent_id, intent in list(stub.intents.items()):
            charge = stub.charges.get(intent["latest_charge"] or "")
            if charge is None:
                continue
            charge_id, refunded = self._seen.get(intent_id, (None, 0))
            if charge["id"] != charge_id:
                paid = charge["status"] == "succeeded"
                self.events.append(stub.event("payment_intent.succeeded" if paid else "payment_intent.payment_failed",
                                              intent_id))
            if charge["amount_refunded"] > refunded:
                self.events.append(stub.event("charge.refunded", intent_id))
            self._seen[intent_id] = (charge["id"], charge["amount_refunded"])

    def add(self, event: dict) -> None:
        self.events.append(event)

    @property
    def unacknowledged(self) -> list[dict]:
        return [event for event in self.events if event["id"] not in self.acknowledged]


def deliver(client, stub: StripeStub, event: dict):
    """POST one signed delivery of `event` to Abode's Stripe webhook, as Stripe does."""
    body, headers = stub.sign(event)
    return client.post(WEBHOOK_URL, data=body, headers=headers)


def run_cli(app: Flask, *args: str) -> Result:
    """`flask <args>` as an operator runs it: its own app context (so its own database session), output captured."""
    with app.app_context():
        return app.test_cli_runner().invoke(args=list(args))


def cli_call(app: Flask, *args: str) -> Callable[[], Any]:
    """`flask <args>` to run in another thread, where it pushes its own app context (its own session).

    Not through CliRunner.invoke: that swaps the process-wide sys.stdout and sys.stderr, so two at once leave
    them pointing at a dead buffer. app.cli.main with a ScriptInfo is what invoke calls inside; the command's
    output goes to the test's stdout, and a failure raises."""
    return lambda: app.cli.main(args=list(args), prog_name="flask", obj=ScriptInfo(create_app=lambda: app),
                                standalone_mode=False)


@dataclass(frozen=True)
class ThreadRun:
    """One call made in a thread: when it started and ended (perf_counter), what it returned or raised."""

    started: float
    ended: float
    result: Any
    error: BaseException | None


def run_in_threads(calls: Sequence[Callable[[], Any]], delays: Sequence[float] = ()) -> list[ThreadRun]:
    """Make each call in its own thread, all released at once by a barrier; call n waits delays[n] seconds more."""
    barrier, runs = threading.Barrier(len(calls)), [None] * len(calls)

    def work(index: int, call: Callable[[], Any]) -> None:
        barrier.wait()
        if index < len(delays) and delays[index]:
            time.sleep(delays[index])
        started, result, error = time.perf_counter(), None, None
        try:
            result = call()
        except BaseException as exc:  # noqa: B036 (handed to the test's thread, which fails the step)
            error = exc
        runs[index] = ThreadRun(started, time.perf_counter(), result, error)

    threads = [threading.Thread(target=work, args=(n, call)) for n, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return runs


def overlapped(runs: Sequence[ThreadRun]) -> bool:
    """True when all the runs were under way at one same moment (really concurrent, not one after the other)."""
    return max(run.started for run in runs) < min(run.ended for run in runs)
