"""A local Stripe API stub (PaymentIntents, refunds, transfers) the stripe SDK is pointed at in tests.

It reads form-encoded bodies as the SDK sends them (`metadata[booking_id]=42`, `payment_method_types[0]=card`),
answers with Stripe-shaped JSON objects and error envelopes, checks the secret key, records every request and
honours Idempotency-Key like Stripe: the same key with the same parameters replays the first answer (2xx or 402),
with other parameters or another endpoint it is a 400 idempotency_error. Test payment methods: `pm_card_visa`
and `pm_card_mastercard` succeed, `pm_card_chargeDeclined` is declined with Stripe's 402 card_error. An intent
that waits for its customer can be canceled (then Stripe.js can no longer confirm it).
Levers: `confirm(pi_id, payment_method)` plays Stripe.js confirming a client_secret, `fail_next(n)` answers the
next n requests with 500, `event(type, object_id)` builds a webhook event and `sign(event, secret)` signs it.
"""

from __future__ import annotations

import copy
import json
import re
import secrets
import string
import threading
import time
from collections.abc import Iterable, Iterator
from typing import NamedTuple

import pytest
import stripe
from werkzeug.exceptions import HTTPException
from werkzeug.routing import Map, Rule
from werkzeug.wrappers import Request, Response

from .local_server import live_server

API_KEY = "sk_test_stub_4eC39HqLyjWDarjtT1zdp7dc"
WEBHOOK_SECRET = "whsec_stub_test_secret"
CONNECTED_ACCOUNT = "acct_1StubHost0000001"
API_VERSION = "2025-01-27.acacia"
SUCCEEDING = {"pm_card_visa": "visa", "pm_card_mastercard": "mastercard"}
DECLINING = {"pm_card_chargeDeclined": "generic_decline", "pm_card_chargeDeclinedInsufficientFunds":
             "insufficient_funds"}

URLS = Map([Rule(path, methods=[method], endpoint=endpoint) for method, path, endpoint in (
    ("POST", "/v1/payment_intents", "create_intent"), ("GET", "/v1/payment_intents/<intent_id>", "get_intent"),
    ("POST", "/v1/payment_intents/<intent_id>/cancel", "cancel_intent"),
    ("POST", "/v1/refunds", "create_refund"), ("POST", "/v1/transfers", "create_transfer"))])


class Recorded(NamedTuple):
    """One request as the stub saw it: decoded params, the Idempotency-Key and Authorization headers."""

    method: str
    path: str
    params: dict
    idempotency_key: str | None
    authorization: str | None


def stripe_id(prefix: str) -> str:
    return f"{prefix}_3Stub" + "".join(secrets.choice(string.ascii_letters + string.digits) for _ in range(19))


def error(status: int, message: str, *, kind: str = "invalid_request_error", **fields) -> tuple[int, dict]:
    """Stripe's error envelope."""
    body = {"message": message, "type": kind, **fields}
    if "code" in fields:
        body["doc_url"] = f"https://stripe.com/docs/error-codes/{fields['code'].replace('_', '-')}"
    return status, {"error": body}


def decode_form(pairs: Iterable[tuple[str, str]]) -> dict:
    """Stripe's form encoding back to nested values: a[b]=1 -> {"a": {"b": "1"}}, a[0]=x -> {"a": ["x"]}."""
    tree: dict = {}
    for key, value in pairs:
        names = [key.split("[", 1)[0], *re.findall(r"\[([^\]]*)\]", key)]
        node = tree
        for name in names[:-1]:
            node = node.setdefault(name, {})
        node[names[-1]] = value

    def lists(node):
        if not isinstance(node, dict):
            return node
        if node and all(name.isdigit() for name in node):
            return [lists(node[name]) for name in sorted(node, key=int)]
        return {name: lists(value) for name, value in node.items()}

    return lists(tree)


def bad_amount(value: object) -> tuple[int, dict] | None:
    if not isinstance(value, str) or not value.isdigit() or int(value) <= 0:
        return error(400, f"Invalid positive integer: {value}", param="amount", code="parameter_invalid_integer")
    return None


def bad_currency(value: object) -> tuple[int, dict] | None:
    if not isinstance(value, str) or not re.fullmatch(r"[a-zA-Z]{3}", value):
        return error(400, f"Invalid currency: {value}.", param="currency", code="parameter_invalid_string")
    return None


class StripeStub:
    """The stub's state and test levers; `url` is set once the server listens."""

    def __init__(self) -> None:
        self.url, self.api_key = "", API_KEY
        self.requests: list[Recorded] = []
        self.intents: dict[str, dict] = {}
        self.charges: dict[str, dict] = {}  # charge id -> charge (one per successful or declined attempt)
        self.refunds: dict[str, dict] = {}
        self.transfers: dict[str, dict] = {}
        self.accounts = {CONNECTED_ACCOUNT}
        self._replies: dict[str, tuple[tuple, int, dict]] = {}  # key -> (request fingerprint, status, body)
        self._failures, self._lock = 0, threading.RLock()

    def settings(self) -> dict:
        """The app settings that point Abode's Stripe provider at this stub, with its keys and webhook secret."""
        return {"PAYMENT_PROVIDER": "stripe", "STRIPE_SECRET_KEY": API_KEY, "STRIPE_WEBHOOK_SECRET": WEBHOOK_SECRET,
                "STRIPE_API_BASE": self.url}

    def calls(self, path_prefix: str, method: str | None = None) -> list[Recorded]:
        """The recorded requests whose path starts with `path_prefix` (and with `method`, if given)."""
        return [call for call in self.requests if call.path.startswith(path_prefix)
                and (method is None or call.method == method)]

    def fail_next(self, count: int = 1) -> None:
        """Answer the next `count` requests (any endpoint) with a 500 api_error."""
        self._failures = count

    def confirm(self, intent_id: str, payment_method: str = "pm_card_visa") -> dict:
        """Confirm a PaymentIntent as Stripe.js would with its client_secret; returns the PaymentIntent."""
        with self._lock:
            intent = self.intents[intent_id]
            self._attempt(intent, payment_method)
            return copy.deepcopy(intent)

    def event(self, kind: str, object_id: str, **overrides) -> dict:
        """A webhook event of `kind` about the PaymentIntent `object_id` (its latest charge for charge.*)."""
        with self._lock:
            intent = self.intents[object_id]
            obj = self.charges[intent["latest_charge"]] if kind.startswith("charge.") else intent
            return {"id": stripe_id("evt"), "object": "event", "api_version": API_VERSION, "created": int(time.time()),
                    "data": {"object": copy.deepcopy(obj)}, "livemode": False, "pending_webhooks": 1,
                    "request": {"id": None, "idempotency_key": None}, "type": kind, **overrides}

    @staticmethod
    def sign(event: dict, secret: str = WEBHOOK_SECRET, *, timestamp: int | None = None) -> tuple[bytes, dict]:
        """A delivery of `event` as Stripe posts it: (body, headers with Stripe-Signature)."""
        payload = json.dumps(event, indent=2)
        header = stripe.WebhookSignature.generate_signature_header(payload, secret, timestamp=timestamp)
        return payload.encode(), {"Stripe-Signature": header, "Content-Type": "application/json; charset=utf-8"}

    @Request.application
    def wsgi(self, request: Request) -> Response:
        params = decode_form((request.form if request.method == "POST" else request.args).items(multi=True))
        key = request.headers.get("Idempotency-Key")
        with self._lock:
            self.requests.append(Recorded(request.method, request.path, params, key,
                                          request.headers.get("Authorization")))
            status, body, replayed = self._dispatch(request, params, key)
        headers = {"Request-Id": stripe_id("req"), "Stripe-Version": API_VERSION}
        if key and request.method == "POST":
            headers["Idempotency-Key"] = key
            if replayed:
                headers["Idempotent-Replayed"] = "true"
        return Response(json.dumps(body), status, headers=headers, mimetype="application/json")

    def _dispatch(self, request: Request, params: dict, key: str | None) -> tuple[int, dict, bool]:
        if self._failures:
            self._failures -= 1
            return (*error(500, "An unknown error occurred", kind="api_error"), False)
        if request.headers.get("Authorization") != f"Bearer {self.api_key}":
            return (*error(401, "Invalid API Key provided: sk_test_****"), False)
        try:
            endpoint, args = URLS.bind_to_environ(request.environ).match()
        except HTTPException:
            return (*error(404, f"Unrecognized request URL ({request.method}: {request.path})."), False)
        fingerprint = (request.method, request.path, json.dumps(params, sort_keys=True))
        if key and request.method == "POST" and key in self._replies:
            first, status, body = self._replies[key]
            if first != fingerprint:
                return (*error(400, "Keys for idempotent requests can only be used with the same parameters they "
                               f"were first used with. Try using a key other than '{key}' if you meant to execute "
                               "a different request.", kind="idempotency_error"), False)
            return status, copy.deepcopy(body), True
        status, body = getattr(self, f"_{endpoint}")(params, **args)
        if key and request.method == "POST" and (status < 300 or status == 402):
            self._replies[key] = (fingerprint, status, copy.deepcopy(body))  # the answer as it was then
        return status, body, False

    def _create_intent(self, params: dict) -> tuple[int, dict]:
        if refused := bad_amount(params.get("amount")) or bad_currency(params.get("currency")):
            return refused
        if "payment_method_types" in params and "automatic_payment_methods" in params:
            return error(400, "You may only specify one of these parameters: automatic_payment_methods, "
                         "payment_method_types.", code="parameters_exclusive")
        method, confirm = params.get("payment_method"), params.get("confirm") == "true"
        if method and method not in SUCCEEDING and method not in DECLINING:
            return error(400, f"No such PaymentMethod: '{method}'", param="payment_method", code="resource_missing")
        if confirm and not method:
            return error(400, "You cannot confirm this PaymentIntent because it's missing a payment method.",
                         param="payment_method", code="payment_intent_unexpected_state")
        automatic = "payment_method_types" not in params and (params.get("automatic_payment_methods") or {}).get(
            "enabled", "true") == "true"
        if confirm and automatic and not params.get("return_url"):
            return error(400, "This PaymentIntent is configured to accept payment methods enabled in your "
                         "Dashboard, some of which may require a full page redirect. Provide a return_url.")
        intent_id = stripe_id("pi")
        intent = self.intents[intent_id] = {
            "id": intent_id, "object": "payment_intent", "amount": int(params["amount"]), "amount_capturable": 0,
            "amount_received": 0, "automatic_payment_methods": {"allow_redirects": "always", "enabled": True}
            if automatic else None, "canceled_at": None, "cancellation_reason": None, "capture_method": "automatic",
            "client_secret": f"{intent_id}_secret_{secrets.token_urlsafe(18)}", "confirmation_method": "automatic",
            "created": int(time.time()), "currency": params["currency"].lower(),
            "description": params.get("description"), "last_payment_error": None, "latest_charge": None,
            "livemode": False, "metadata": params.get("metadata") or {}, "next_action": None,
            "payment_method": method, "payment_method_types": params.get("payment_method_types") or ["card"],
            "status": "requires_confirmation" if method else "requires_payment_method"}
        if confirm:
            return self._attempt(intent, method)
        return 200, copy.deepcopy(intent)

    def _attempt(self, intent: dict, method: str) -> tuple[int, dict]:
        """Charge `method` for the intent: it succeeds, or Stripe's 402 with the intent inside."""
        if intent["status"] not in ("requires_payment_method", "requires_confirmation"):
            return error(400, f"This PaymentIntent's status is {intent['status']}.",
                         code="payment_intent_unexpected_state", payment_intent=copy.deepcopy(intent))
        decline = DECLINING.get(method)
        charge_id = stripe_id("ch")
        self.charges[charge_id] = {
            "id": charge_id, "object": "charge", "amount": intent["amount"], "amount_captured": 0 if decline else
            intent["amount"], "amount_refunded": 0, "captured": not decline, "created": int(time.time()),
            "currency": intent["currency"], "metadata": intent["metadata"], "paid": not decline,
            "payment_intent": intent["id"], "payment_method": method, "refunded": False,
            "failure_code": "card_declined" if decline else None, "status": "failed" if decline else "succeeded"}
        intent.update(latest_charge=charge_id, payment_method=method)
        if not decline:
            intent.update(status="succeeded", amount_received=intent["amount"], last_payment_error=None)
            return 200, copy.deepcopy(intent)
        failure = {"charge": charge_id, "code": "card_declined", "decline_code": decline,
                   "doc_url": "https://stripe.com/docs/error-codes/card-declined",
                   "message": "Your card was declined.", "payment_method": {"id": method, "object": "payment_method",
                                                                            "type": "card"}, "type": "card_error"}
        intent.update(status="requires_payment_method", last_payment_error=failure, payment_method=None)
        return 402, {"error": {**failure, "payment_intent": copy.deepcopy(intent),
                               "request_log_url": f"https://dashboard.stripe.com/test/logs/{stripe_id('req')}"}}

    def _get_intent(self, _params: dict, intent_id: str) -> tuple[int, dict]:
        if intent_id not in self.intents:
            return error(404, f"No such payment_intent: '{intent_id}'", param="intent", code="resource_missing")
        return 200, copy.deepcopy(self.intents[intent_id])

    def _cancel_intent(self, params: dict, intent_id: str) -> tuple[int, dict]:
        intent = self.intents.get(intent_id)
        if intent is None:
            return error(404, f"No such payment_intent: '{intent_id}'", param="intent", code="resource_missing")
        if intent["status"] in ("succeeded", "canceled", "processing"):
            return error(400, "You cannot cancel this PaymentIntent because it has a status of "
                         f"{intent['status']}.", code="payment_intent_unexpected_state",
                         payment_intent=copy.deepcopy(intent))
        intent.update(status="canceled", canceled_at=int(time.time()),
                      cancellation_reason=params.get("cancellation_reason"))
        return 200, copy.deepcopy(intent)

    def _create_refund(self, params: dict) -> tuple[int, dict]:
        intent = self.intents.get(params.get("payment_intent") or "")
        if intent is None:
            return error(400, f"No such payment_intent: '{params.get('payment_intent')}'", param="payment_intent",
                         code="resource_missing")
        if intent["status"] != "succeeded":
            return error(400, f"This PaymentIntent ({intent['id']}) does not have a successful charge to refund.")
        charge = self.charges[intent["latest_charge"]]
        left = charge["amount"] - charge["amount_refunded"]
        if not left:
            return error(400, f"Charge {charge['id']} has already been refunded.", code="charge_already_refunded")
        if refused := bad_amount(params.get("amount", str(left))):
            return refused
        amount = int(params.get("amount", left))
        if amount > left:
            return error(400, f"Refund amount ({amount}) is greater than unrefunded amount on charge ({left})",
                         param="amount")
        charge.update(amount_refunded=charge["amount_refunded"] + amount, refunded=amount == left)
        refund_id = stripe_id("re")
        refund = self.refunds[refund_id] = {
            "id": refund_id, "object": "refund", "amount": amount, "balance_transaction": stripe_id("txn"),
            "charge": charge["id"], "created": int(time.time()), "currency": intent["currency"],
            "metadata": params.get("metadata") or {}, "payment_intent": intent["id"], "reason": params.get("reason"),
            "status": "succeeded"}
        return 200, copy.deepcopy(refund)

    def _create_transfer(self, params: dict) -> tuple[int, dict]:
        if refused := bad_amount(params.get("amount")) or bad_currency(params.get("currency")):
            return refused
        destination = params.get("destination")
        if destination not in self.accounts:
            return error(400, f"No such destination: '{destination}'", param="destination", code="resource_missing")
        transfer_id = stripe_id("tr")
        transfer = self.transfers[transfer_id] = {
            "id": transfer_id, "object": "transfer", "amount": int(params["amount"]), "amount_reversed": 0,
            "balance_transaction": stripe_id("txn"), "created": int(time.time()),
            "currency": params["currency"].lower(), "description": params.get("description"),
            "destination": destination, "destination_payment": stripe_id("py"), "livemode": False,
            "metadata": params.get("metadata") or {}, "reversals": {"object": "list", "data": [], "has_more": False,
                                                                    "total_count": 0, "url": f"/v1/transfers/"
                                                                    f"{transfer_id}/reversals"},
            "reversed": False, "source_transaction": None, "source_type": "card", "transfer_group": None}
        return 200, copy.deepcopy(transfer)


@pytest.fixture(name="stripe_stub")
def stripe_stub_fixture() -> Iterator[StripeStub]:
    """A StripeStub listening on a free local port for one test."""
    stub = StripeStub()
    with live_server(stub.wsgi) as stub.url:
        yield stub
