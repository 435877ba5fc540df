"""An outside client of Abode written from docs/api.md and docs/operations.md only: JSON over real HTTP with `requests`,
`flask` commands as separate processes, and a Stripe stub whose answers take as long as a real network's."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import threading
import time
import warnings
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import date, timedelta
from pathlib import Path
from typing import Any, NamedTuple

import requests

from .local_server import live_server
from .stripe_stub import API_KEY, WEBHOOK_SECRET, StripeStub

ROOT = Path(__file__).resolve().parents[2]
FLASK = Path(sys.executable).with_name("flask")
PASSWORD = "a-long-test-password"
ERROR_LINE = re.compile(r"^[\w.]+(Error|Exception): ")  # the last line of a traceback
TIMESTAMP = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d+ ")


class Answer(NamedTuple):
    """One HTTP answer as the client saw it."""

    status: int
    body: Any  # the decoded JSON, or the text when it is not JSON

    @property
    def code(self) -> str | None:
        """The error code of an API error envelope."""
        return self.body.get("error", {}).get("code") if isinstance(self.body, dict) else None


class Abode:
    """The /api/v1 JSON API at `base_url`; every call is its own connection, so threads may share one client."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url

    def call(self, method: str, path: str, token: str | None = None, body: Any = None, *,
             headers: dict | None = None, data: bytes | None = None) -> Answer:
        sent = dict(headers or {})
        if token:
            sent["Authorization"] = f"Bearer {token}"
        response = requests.request(method, f"{self.base_url}{path}", json=body, data=data, headers=sent, timeout=60)
        try:
            return Answer(response.status_code, response.json())
        except ValueError:
            return Answer(response.status_code, response.text[:500])

    def ok(self, method: str, path: str, token: str | None = None, body: Any = None, *, expect: int = 200,
           **kwargs) -> Any:
        """`call` that must answer `expect`; returns the body."""
        answer = self.call(method, path, token, body, **kwargs)
        assert answer.status == expect, f"{method} {path} -> {answer.status} {answer.body}"
        return answer.body

    def register(self, email: str, role: str = "guest") -> tuple[int, str]:
        """(user id, access token) of a new account."""
        body = self.ok("POST", "/api/v1/register", body={"email": email, "password": PASSWORD, "name": email,
                                                          "role": role}, expect=201)
        return body["user"]["id"], body["access_token"]

    def create_listing(self, token: str, **overrides) -> int:
        data = {"title": "Race track cabin", "description": "Many guests at once.", "property_type": "cabin",
                "address": {"line1": "1 Loop Rd", "city": "Lisbon", "state": "Lisboa", "country": "PT",
                            "postal_code": "1100"},
                "price_per_night": {"amount": 10000, "currency": "USD"},
                "cleaning_fee": {"amount": 3000, "currency": "USD"}, "max_guests": 4, "bedrooms": 1, "beds": 1,
                "bathrooms": 1, "amenities": ["wifi"], "min_nights": 1, "max_nights": 30,
                "cancellation_policy": "strict", "instant_book": True, "timezone": "UTC", **overrides}
        return self.ok("POST", "/api/v1/properties", token, data, expect=201)["id"]

    def book(self, token: str, listing_id: int, check_in: date, nights: int = 1) -> dict:
        body = {"property_id": listing_id, "check_in": check_in.isoformat(),
                "check_out": (check_in + timedelta(days=nights)).isoformat(), "guests": 1}
        return self.ok("POST", "/api/v1/bookings", token, body, expect=201)

    def pay(self, token: str, booking_id: int, key: str, method: str | None = "pm_card_visa") -> Answer:
        body = {"booking_id": booking_id, **({"payment_method": method} if method else {})}
        return self.call("POST", "/api/v1/payments", token, body, headers={"Idempotency-Key": key})

    def booking(self, token: str, booking_id: int) -> dict:
        return self.ok("GET", f"/api/v1/bookings/{booking_id}", token)

    def all_pages(self, path: str, token: str) -> list[dict]:
        """Every item of a paginated list."""
        items, page = [], 1
        while True:
            body = self.ok("GET", f"{path}{'&' if '?' in path else '?'}page={page}&per_page=100", token)
            items += body["items"]
            if page >= body["pages"]:
                return items
            page += 1


def race(calls: Sequence[Callable[[], Any]], *, timeout: float = 90) -> list[Any]:
    """Run every call in its own thread, all released at once by a barrier; their results (or exceptions)."""
    barrier, results = threading.Barrier(len(calls)), [None] * len(calls)

    def run(index: int, call: Callable[[], Any]) -> None:
        barrier.wait(timeout=30)
        try:
            results[index] = call()
        except Exception as exc:  # noqa: BLE001 (reported by the test, not lost in a thread)
            results[index] = exc

    threads = [threading.Thread(target=run, args=pair) for pair in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=timeout)
    return results


def in_parallel(work: Callable[[Any], Any], items: Iterable, workers: int = 4) -> list[Any]:
    """`work` over `items` on a few threads (to set the stage faster, not to race)."""
    with ThreadPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(work, items))


class FlaskCommands:
    """`flask --app wsgi …` run as separate processes against the app's database, Redis and Stripe stub."""

    def __init__(self, app_config: dict, stripe_url: str) -> None:
        database = app_config["SQLALCHEMY_DATABASE_URI"]
        self.env = {**os.environ, "APP_CONFIG": "testing", "DATABASE_URL": database, "TEST_DATABASE_URL": database,
                    "PAYMENT_PROVIDER": "stripe", "STRIPE_SECRET_KEY": API_KEY,
                    "STRIPE_WEBHOOK_SECRET": WEBHOOK_SECRET, "STRIPE_API_BASE": stripe_url,
                    "RATELIMIT_ENABLED": "false", "LOG_LEVEL": "INFO"}
        if app_config.get("REDIS_URL"):
            self.env["REDIS_URL"] = app_config["REDIS_URL"]
        self.runs: list[subprocess.CompletedProcess] = []

    def start(self, *args: str) -> subprocess.Popen:
        return subprocess.Popen([str(FLASK), "--app", "wsgi", *args], cwd=ROOT, env=self.env, text=True,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE)

    def finish(self, process: subprocess.Popen, timeout: float = 60) -> subprocess.CompletedProcess:
        out, err = process.communicate(timeout=timeout)
        done = subprocess.CompletedProcess(process.args, process.returncode, out, err)
        self.runs.append(done)
        return done

    def run(self, *args: str) -> subprocess.CompletedProcess:
        return self.finish(self.start(*args))

    def at_once(self, count: int, *args: str) -> list[subprocess.CompletedProcess]:
        """`count` processes of the same command started together."""
        return [self.finish(process) for process in [self.start(*args) for _ in range(count)]]

    def crashes(self) -> list[str]:
        """The commands that exited non-zero, with the end of what they printed."""
        return [f"`{' '.join(done.args[3:])}` exited {done.returncode}: {(done.stdout + done.stderr)[-800:]}"
                for done in self.runs if done.returncode]

    def errors(self) -> list[str]:
        """The errors the commands logged (deadlocks show up here), one line per distinct error."""
        found: Counter[str] = Counter()
        for done in self.runs:
            for line in (done.stdout + done.stderr).splitlines():
                if " ERROR " in line or ERROR_LINE.match(line):
                    found[f"`{' '.join(done.args[3:5])}`: {TIMESTAMP.sub('', line).strip()[:300]}"] += 1
        return [f"{error} (x{times})" for error, times in found.items()]

    def report_errors(self) -> None:
        """Show logged errors as a warning in pytest's summary: not the contract, but worth a look."""
        if errors := self.errors():
            warnings.warn("flask commands logged errors:\n" + "\n".join(errors), stacklevel=2)

    @staticmethod
    def printed(done: subprocess.CompletedProcess) -> str:
        """What the command printed, without the app's log lines."""
        return "\n".join(line for line in done.stdout.splitlines() if not TIMESTAMP.match(line))

    def summaries(self, runs: Sequence[subprocess.CompletedProcess] | None = None) -> list[str]:
        """The summary line each `jobs run-due` printed."""
        return [line.split(": ", 1)[-1] for done in (self.runs if runs is None else runs)
                for line in done.stdout.splitlines() if line.startswith("jobs run at ")]


@contextmanager
def slow_stripe() -> Iterator[StripeStub]:
    """The Stripe stub on its own live server; `stub.delays[(method, path)] = seconds` makes answers take that
    long, as Stripe's do over the internet (a refund or a transfer takes a few hundred milliseconds)."""
    stub = StripeStub()
    stub.delays = {}

    def wsgi(environ, start_response):
        time.sleep(stub.delays.get((environ["REQUEST_METHOD"], environ["PATH_INFO"]), 0))
        return stub.wsgi(environ, start_response)

    with live_server(wsgi) as stub.url:
        yield stub


def intents_of(stub: StripeStub, booking_id: int) -> list[dict]:
    """The PaymentIntents Abode created for a booking (it names the booking in their metadata)."""
    return [intent for intent in list(stub.intents.values())
            if intent["metadata"].get("booking_id") == str(booking_id)]


def charges_of(stub: StripeStub, booking_id: int) -> list[dict]:
    """The booking's PaymentIntents that took the guest's money."""
    return [intent for intent in intents_of(stub, booking_id) if intent["status"] == "succeeded"]


def refunds_of(stub: StripeStub, booking_id: int) -> list[dict]:
    """The refund objects Stripe created against any of the booking's PaymentIntents."""
    intents = {intent["id"] for intent in intents_of(stub, booking_id)}
    return [refund for refund in list(stub.refunds.values()) if refund["payment_intent"] in intents]
