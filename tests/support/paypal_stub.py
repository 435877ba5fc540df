"""A local PayPal REST stub (OAuth2, Orders v2, capture refunds, Payouts, webhook verification) for tests.

It answers with PayPal-shaped JSON and error envelopes, checks the Bearer tokens it issued, replays the first 2xx
answer for a repeated PayPal-Request-Id and records every request. `approve(order_id)` plays the buyer
(`declined=True`: the capture gets INSTRUMENT_DECLINED), vault token DECLINED_VAULT_ID is declined in a one-step
order, `fail_next(n)` answers the next n requests with 500. Webhook test scheme (PayPal's signed string, an HMAC
for its RSA certificate): PAYPAL-TRANSMISSION-SIG = base64 HMAC-SHA256(SIGNING_KEY, "<transmission id>|
<transmission time>|<webhook id>|<CRC32 of the event as canonical JSON>"); `sign(event)` makes a delivery.
"""

from __future__ import annotations

import base64
import copy
import hashlib
import hmac
import json
import re
import secrets
import string
import threading
import time
import uuid
import zlib
from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
from typing import NamedTuple

import pytest
from werkzeug.exceptions import HTTPException
from werkzeug.routing import Map, Rule
from werkzeug.wrappers import Request, Response

from .local_server import live_server

CLIENT_ID, CLIENT_SECRET, WEBHOOK_ID = "stub-client-id", "stub-client-secret", "WHSTUB0000000001"
SIGNING_KEY = b"paypal-stub-webhook-signing-key"
DECLINED_VAULT_ID = "vault-declined"
ZERO_DECIMAL = {"JPY", "HUF", "TWD"}  # PayPal takes no decimals in these

URLS = Map([Rule(path, methods=[method], endpoint=endpoint) for method, path, endpoint in (
    ("POST", "/v1/oauth2/token", "token"), ("POST", "/v2/checkout/orders", "create_order"),
    ("GET", "/v2/checkout/orders/<order_id>", "get_order"),
    ("POST", "/v2/checkout/orders/<order_id>/capture", "capture"),
    ("POST", "/v2/payments/captures/<capture_id>/refund", "refund"), ("POST", "/v1/payments/payouts", "create_payout"),
    ("GET", "/v1/payments/payouts/<batch_id>", "get_payout"),
    ("POST", "/v1/notifications/verify-webhook-signature", "verify"))])


class Recorded(NamedTuple):
    """One request as the stub saw it: its JSON body, PayPal-Request-Id and Authorization headers."""

    method: str
    path: str
    json: object
    request_id: str | None
    authorization: str | None


def paypal_id(length: int = 17) -> str:
    return "".join(secrets.choice(string.ascii_uppercase + string.digits) for _ in range(length))


def now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def error(status: int, name: str, issue: str, description: str) -> tuple[int, dict]:
    """PayPal's error envelope."""
    return status, {"name": name, "message": description, "debug_id": paypal_id(13).lower(),
                    "details": [{"issue": issue, "description": description}], "links": []}


def found(resource: dict | None) -> tuple[int, dict]:
    if resource is None:
        return error(404, "RESOURCE_NOT_FOUND", "INVALID_RESOURCE_ID", "Specified resource ID does not exist.")
    return 200, resource


def link(href: str, rel: str, method: str = "GET") -> dict:
    return {"href": href, "rel": rel, "method": method}


def bad_amount(amount: object, code_key: str) -> tuple[int, dict] | None:
    """PayPal's refusal of an amount that is not a positive decimal string with the currency's decimals."""
    if not isinstance(amount, dict) or not amount.get(code_key) or not isinstance(amount.get("value"), str):
        return error(400, "INVALID_REQUEST", "INVALID_PARAMETER_SYNTAX", "amount needs a string value and a code")
    decimals = "" if amount[code_key] in ZERO_DECIMAL else r"(\.\d{1,2})?"
    if not re.fullmatch(r"\d+" + decimals, amount["value"]) or not Decimal(amount["value"]):
        return error(422, "UNPROCESSABLE_ENTITY", "DECIMAL_PRECISION", f"Bad {amount[code_key]} amount.")
    return None


class PayPalStub:
    """The stub's state and test levers; `url` is set once the server listens."""

    def __init__(self) -> None:
        self.url, self.webhook_id, self.token_ttl = "", WEBHOOK_ID, 32400
        self.requests: list[Recorded] = []
        self.orders: dict[str, dict] = {}
        self.payouts: dict[str, dict] = {}
        self.tokens: dict[str, float] = {}
        self._captures: dict[str, str] = {}  # capture id -> order id
        self._replies: dict[tuple[str, str], tuple[int, dict]] = {}
        self._declined, self._failures, self._lock = set(), 0, threading.Lock()
        self._pending: set[str] = set()  # orders whose capture PayPal holds as PENDING (e.g. an eCheck)

    def settings(self) -> dict:
        """The app settings that point Abode's PayPal provider at this stub, with its client and webhook ids."""
        return {"PAYMENT_PROVIDER": "paypal", "PAYPAL_CLIENT_ID": CLIENT_ID, "PAYPAL_CLIENT_SECRET": CLIENT_SECRET,
                "PAYPAL_API_BASE": self.url, "PAYPAL_WEBHOOK_ID": WEBHOOK_ID}

    def calls(self, path_prefix: str) -> list[Recorded]:
        """The recorded requests whose path starts with `path_prefix`."""
        return [call for call in self.requests if call.path.startswith(path_prefix)]

    def approve(self, order_id: str, *, declined: bool = False) -> None:
        """Approve the order as the buyer would in PayPal's window; `declined` picks an instrument that fails."""
        with self._lock:
            self.orders[order_id].update(status="APPROVED",
                                         payer={"payer_id": paypal_id(13), "email_address": "buyer@example.com"})
            (self._declined.add if declined else self._declined.discard)(order_id)

    def hold_capture(self, order_id: str) -> None:
        """Capture this order as PENDING (PayPal still clearing the funds) until `complete_capture`."""
        self._pending.add(order_id)

    def complete_capture(self, order_id: str) -> dict:
        """PayPal finishes a PENDING capture: returns the COMPLETED capture (the resource of its webhook)."""
        with self._lock:
            capture = self.orders[order_id]["purchase_units"][0]["payments"]["captures"][0]
            capture["status"] = "COMPLETED"
            return copy.deepcopy(capture)

    def fail_next(self, count: int = 1) -> None:
        """Answer the next `count` requests (any endpoint) with a 500."""
        self._failures = count

    def revoke_tokens(self) -> None:
        """Invalidate every access token issued so far, as PayPal may before expires_in."""
        self.tokens.clear()

    def forget_request_ids(self) -> None:
        """Forget stored PayPal-Request-Ids (PayPal keeps them for hours or days, not forever)."""
        self._replies.clear()

    def sign(self, event: dict, *, webhook_id: str | None = None) -> tuple[bytes, dict[str, str]]:
        """A webhook delivery of `event` as PayPal would post it: (body, headers)."""
        transmission_id, transmission_time = str(uuid.uuid1()), now()
        signature = self._signature(transmission_id, transmission_time, webhook_id or self.webhook_id, event)
        return json.dumps(event).encode(), {
            "PAYPAL-TRANSMISSION-ID": transmission_id, "PAYPAL-TRANSMISSION-TIME": transmission_time,
            "PAYPAL-TRANSMISSION-SIG": signature, "PAYPAL-AUTH-ALGO": "SHA256withRSA",
            "PAYPAL-CERT-URL": f"{self.url}/v1/notifications/certs/CERT-STUB", "Content-Type": "application/json"}

    @staticmethod
    def _signature(transmission_id: str, transmission_time: str, webhook_id: str, event: object) -> str:
        crc = zlib.crc32(json.dumps(event, sort_keys=True, separators=(",", ":")).encode())
        message = f"{transmission_id}|{transmission_time}|{webhook_id}|{crc}".encode()
        return base64.b64encode(hmac.new(SIGNING_KEY, message, hashlib.sha256).digest()).decode()

    @Request.application
    def wsgi(self, request: Request) -> Response:
        body, request_id = request.get_json(silent=True), request.headers.get("PayPal-Request-Id")
        with self._lock:
            self.requests.append(Recorded(request.method, request.path, body, request_id,
                                          request.headers.get("Authorization")))
            status, payload = self._dispatch(request, body, request_id)
        return Response(json.dumps(payload), status, mimetype="application/json")

    def _dispatch(self, request: Request, body: object, request_id: str | None) -> tuple[int, dict]:
        if self._failures:
            self._failures -= 1
            return error(500, "INTERNAL_SERVER_ERROR", "INTERNAL_SERVICE_ERROR", "Try again.")
        try:
            endpoint, args = URLS.bind_to_environ(request.environ).match()
        except HTTPException as exc:
            return error(exc.code or 404, "RESOURCE_NOT_FOUND", "NOT_FOUND", "No such endpoint.")
        scheme, _, token = (request.headers.get("Authorization") or "").partition(" ")
        if endpoint != "token" and not (scheme == "Bearer" and self.tokens.get(token, 0) > time.time()):
            return 401, {"error": "invalid_token", "error_description": "Token signature verification failed"}
        key = (request.path, request_id or "")
        if request_id and key in self._replies:
            return self._replies[key]
        status, payload = getattr(self, f"_{endpoint}")(request, body, **args)
        if request_id and status < 300:
            self._replies[key] = (status, copy.deepcopy(payload))  # the answer as it was then
        return status, payload

    def _token(self, request: Request, _body: object) -> tuple[int, dict]:
        auth = request.authorization
        if auth is None or auth.type != "basic" or (auth.username, auth.password) != (CLIENT_ID, CLIENT_SECRET):
            return 401, {"error": "invalid_client", "error_description": "Client Authentication failed"}
        if request.form.get("grant_type") != "client_credentials":
            return 400, {"error": "unsupported_grant_type", "error_description": "Grant Type is NULL"}
        token = "A21AA" + secrets.token_urlsafe(32)
        self.tokens[token] = time.time() + self.token_ttl
        return 200, {"scope": "https://uri.paypal.com/services/payments/payment", "access_token": token,
                     "token_type": "Bearer", "app_id": "APP-80W284485P519543T", "expires_in": self.token_ttl}

    def _create_order(self, request: Request, body: dict | None) -> tuple[int, dict]:
        units = (body or {}).get("purchase_units")
        if (body or {}).get("intent") != "CAPTURE" or not isinstance(units, list) or len(units) != 1:
            return error(400, "INVALID_REQUEST", "MISSING_REQUIRED_PARAMETER", "intent CAPTURE, one purchase unit")
        if refused := bad_amount(units[0].get("amount"), "currency_code"):
            return refused
        vault_id = ((body.get("payment_source") or {}).get("paypal") or {}).get("vault_id")
        if vault_id and not request.headers.get("PayPal-Request-Id"):
            return error(400, "INVALID_REQUEST", "PAYPAL_REQUEST_ID_REQUIRED", "One-step orders need one.")
        order_id = paypal_id()
        unit = {"reference_id": "default", "payee": {"email_address": "merchant@example.com"}, **units[0]}
        links = [link(f"{self.url}/v2/checkout/orders/{order_id}", "self"),
                 link(f"https://www.sandbox.paypal.com/checkoutnow?token={order_id}", "approve"),
                 link(f"{self.url}/v2/checkout/orders/{order_id}/capture", "capture", "POST")]
        order = self.orders[order_id] = {"id": order_id, "intent": "CAPTURE", "status": "CREATED",
                                         "purchase_units": [unit], "create_time": now(), "links": links}
        if vault_id:  # a saved payment method: created and captured in one step
            order["payment_source"] = {"paypal": {"attributes": {"vault": {"id": vault_id, "status": "VAULTED"}}}}
            self._add_capture(order, "DECLINED" if vault_id == DECLINED_VAULT_ID else "COMPLETED")
        return 201, order

    def _add_capture(self, order: dict, status: str) -> None:
        unit, capture_id = order["purchase_units"][0], paypal_id()
        capture = {"id": capture_id, "status": status, "amount": dict(unit["amount"]), "final_capture": True,
                   "custom_id": unit.get("custom_id"), "create_time": now(),
                   "links": [link(f"{self.url}/v2/payments/captures/{capture_id}", "self"),
                             link(f"{self.url}/v2/checkout/orders/{order['id']}", "up")]}
        unit["payments"] = {"captures": [capture]}
        order.update(status="COMPLETED", links=order["links"][:1])
        self._captures[capture_id] = order["id"]

    def _get_order(self, _request: Request, _body: object, order_id: str) -> tuple[int, dict]:
        return found(self.orders.get(order_id))

    def _capture(self, request: Request, body: object, order_id: str) -> tuple[int, dict]:
        order = self.orders.get(order_id)
        if order is None:
            return found(None)
        if order["status"] == "COMPLETED":
            return error(422, "UNPROCESSABLE_ENTITY", "ORDER_ALREADY_CAPTURED", "Order already captured.")
        if order["status"] != "APPROVED":
            return error(422, "UNPROCESSABLE_ENTITY", "ORDER_NOT_APPROVED", "Payer has not yet approved the Order.")
        if order_id in self._declined:
            return error(422, "UNPROCESSABLE_ENTITY", "INSTRUMENT_DECLINED", "The instrument presented was declined.")
        self._add_capture(order, "PENDING" if order_id in self._pending else "COMPLETED")
        return 201, order

    def _refund(self, _request: Request, body: dict | None, capture_id: str) -> tuple[int, dict]:
        if capture_id not in self._captures:
            return found(None)
        payments = self.orders[self._captures[capture_id]]["purchase_units"][0]["payments"]
        capture, amount = payments["captures"][0], (body or {}).get("amount") or dict(payments["captures"][0]["amount"])
        if refused := bad_amount(amount, "currency_code"):
            return refused
        if amount["currency_code"] != capture["amount"]["currency_code"]:
            return error(422, "UNPROCESSABLE_ENTITY", "REFUND_CURRENCY_MISMATCH", "Use the capture's currency.")
        refunds = payments.setdefault("refunds", [])
        left = Decimal(capture["amount"]["value"]) - sum(Decimal(r["amount"]["value"]) for r in refunds)
        if capture["status"] not in ("COMPLETED", "PARTIALLY_REFUNDED") or Decimal(amount["value"]) > left:
            return error(422, "UNPROCESSABLE_ENTITY", "REFUND_AMOUNT_EXCEEDED", "The refund exceeds the capture.")
        refund_id = paypal_id()
        refund = {"id": refund_id, "status": "COMPLETED", "amount": amount, "custom_id": (body or {}).get("custom_id"),
                  "create_time": now(), "links": [link(f"{self.url}/v2/payments/refunds/{refund_id}", "self"),
                                                  link(f"{self.url}/v2/payments/captures/{capture_id}", "up")]}
        refunds.append(refund)
        capture["status"] = "REFUNDED" if Decimal(amount["value"]) == left else "PARTIALLY_REFUNDED"
        return 201, refund

    def _create_payout(self, _request: Request, body: dict | None) -> tuple[int, dict]:
        header, items = (body or {}).get("sender_batch_header") or {}, (body or {}).get("items")
        if not header.get("sender_batch_id") or not isinstance(items, list) or not items:
            return error(400, "VALIDATION_ERROR", "MISSING_REQUIRED_PARAMETER", "sender_batch_id and items")
        for item in items:
            if not item.get("receiver"):
                return error(400, "VALIDATION_ERROR", "REQUIRED_FIELD_MISSING", "receiver is required")
            if refused := bad_amount(item.get("amount"), "currency"):
                return refused
        for batch in self.payouts.values():
            if batch["batch_header"]["sender_batch_header"]["sender_batch_id"] == header["sender_batch_id"]:
                status, refused = error(400, "USER_BUSINESS_ERROR", "DUPLICATE_REQUEST_ID",
                                        "Batch with given sender_batch_id already exists")
                return status, {**refused, "links": batch["links"]}
        batch_id = paypal_id(13)
        batch = self.payouts[batch_id] = {
            "batch_header": {"payout_batch_id": batch_id, "batch_status": "PENDING", "time_created": now(),
                             "sender_batch_header": header},
            "items": items, "links": [link(f"{self.url}/v1/payments/payouts/{batch_id}", "self")]}
        return 201, {"batch_header": batch["batch_header"], "links": batch["links"]}

    def _get_payout(self, _request: Request, _body: object, batch_id: str) -> tuple[int, dict]:
        return found(self.payouts.get(batch_id))

    def _verify(self, _request: Request, body: dict | None) -> tuple[int, dict]:
        body = body or {}
        names = ("auth_algo", "cert_url", "transmission_id", "transmission_sig", "transmission_time", "webhook_id")
        if any(not body.get(name) for name in names) or not isinstance(body.get("webhook_event"), dict):
            return error(400, "VALIDATION_ERROR", "MISSING_REQUIRED_PARAMETER", "Every field is required.")
        expected = self._signature(body["transmission_id"], body["transmission_time"], self.webhook_id,
                                   body["webhook_event"])
        good = (body["webhook_id"] == self.webhook_id and body["auth_algo"] == "SHA256withRSA"
                and hmac.compare_digest(expected, body["transmission_sig"]))
        return 200, {"verification_status": "SUCCESS" if good else "FAILURE"}


@pytest.fixture(name="paypal_stub")
def paypal_stub_fixture() -> Iterator[PayPalStub]:
    """A PayPalStub listening on a free local port for one test."""
    stub = PayPalStub()
    with live_server(stub.wsgi) as stub.url:
        yield stub
