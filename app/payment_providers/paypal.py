"""PayPal over its REST API with requests: OAuth2 client credentials, Orders v2, refunds, Payouts, webhooks.

A charge is an Orders v2 order (intent CAPTURE), its reference the order id. Without a payment method the order
waits for the buyer and its id is the client_secret PayPal's JS SDK approves; approval is only half a payment,
so `get_charge` captures an order it finds APPROVED. A payment method is a PayPal vault token (a `vault_id` saved
at an earlier checkout): the order is created and captured in one step. Nothing is retried here.
"""

from __future__ import annotations

import hashlib
import json
import logging
import threading
import time
import uuid
from collections.abc import Mapping
from datetime import datetime
from urllib.parse import urlencode, urlsplit

import requests

from app.money import is_supported, to_major, to_minor

from .base import Charge, InvalidSignature, PaymentError, Refund, Transfer, WebhookEvent

logger = logging.getLogger(__name__)

SANDBOX_API_BASE = "https://api-m.sandbox.paypal.com"
TOKEN_MARGIN = 60  # seconds: renew the access token this long before PayPal says it expires
MAX_REQUEST_ID = 108  # PayPal-Request-Id length limit
DECLINE_ISSUES = {"INSTRUMENT_DECLINED", "CARD_EXPIRED", "TRANSACTION_REFUSED", "REDIRECT_PAYER_FOR_ALTERNATE_FUNDING"}
ORDER_STATUSES = {"CREATED": "requires_payment", "SAVED": "requires_payment", "PAYER_ACTION_REQUIRED":
                  "requires_payment", "APPROVED": "processing", "VOIDED": "failed"}
CAPTURE_STATUSES = {"COMPLETED": "succeeded", "PARTIALLY_REFUNDED": "succeeded", "REFUNDED": "succeeded",
                    "PENDING": "processing", "DECLINED": "failed", "FAILED": "failed"}
EVENT_STATUSES = {"CHECKOUT.ORDER.APPROVED": "processing", "PAYMENT.CAPTURE.COMPLETED": "succeeded",
                  "PAYMENT.CAPTURE.PENDING": "processing", "PAYMENT.CAPTURE.DENIED": "failed"}
SIGNATURE_HEADERS = ("transmission_id", "transmission_time", "transmission_sig", "cert_url", "auth_algo")


class PayPalError(PaymentError):
    """A PaymentError that also carries PayPal's HTTP status and first issue (e.g. ORDER_ALREADY_CAPTURED)."""

    def __init__(self, message: str, *, status: int | None = None, issue: str | None = None,
                 body: Mapping | None = None, code: str = "payment_failed", retryable: bool = False):
        super().__init__(message, code=code, retryable=retryable)
        self.status, self.issue, self.body = status, issue, body or {}


class PayPalProvider:
    """PaymentProvider over PayPal REST; build it with `PayPalProvider.from_config(app.config)`."""

    name = "paypal"

    def __init__(self, *, client_id: str, client_secret: str, api_base: str = SANDBOX_API_BASE,
                 webhook_id: str | None = None, timeout: tuple[float, float] = (5, 30)):
        self.client_id, self.client_secret, self.webhook_id = client_id, client_secret, webhook_id
        self.api_base, self.timeout = api_base.rstrip("/"), timeout
        self.session = requests.Session()
        self._token: str | None = None
        self._token_expires, self._token_lock = 0.0, threading.Lock()

    @classmethod
    def from_config(cls, config) -> PayPalProvider:
        """Read PAYPAL_CLIENT_ID, PAYPAL_CLIENT_SECRET, PAYPAL_API_BASE (default: sandbox) and PAYPAL_WEBHOOK_ID
        from a Flask config (or a config class). Raises RuntimeError without credentials."""
        def setting(name: str):
            return config.get(name) if isinstance(config, Mapping) else getattr(config, name, None)

        if not setting("PAYPAL_CLIENT_ID") or not setting("PAYPAL_CLIENT_SECRET"):
            raise RuntimeError("PAYPAL_CLIENT_ID and PAYPAL_CLIENT_SECRET must be set to use PayPal")
        return cls(client_id=setting("PAYPAL_CLIENT_ID"), client_secret=setting("PAYPAL_CLIENT_SECRET"),
                   api_base=setting("PAYPAL_API_BASE") or SANDBOX_API_BASE, webhook_id=setting("PAYPAL_WEBHOOK_ID"))

    def create_charge(self, *, amount: int, currency: str, idempotency_key: str, description: str,
                      metadata: Mapping[str, str], payment_method: str | None = None) -> Charge:
        """Create an order (the idempotency key is its PayPal-Request-Id). Without `payment_method` it returns a
        "requires_payment" Charge whose client_secret is the order id; with a vault token it is captured at once
        ("succeeded", or "failed" with failure_code "card_declined"). Raises PaymentError."""
        unit = {"amount": _amount(amount, currency, "currency_code"), "description": description[:127]}
        if metadata:
            unit["custom_id"] = urlencode(sorted(metadata.items()))
            if len(unit["custom_id"]) > 127:
                raise ValueError("PayPal's custom_id holds 127 characters; the metadata is longer")
        body: dict = {"intent": "CAPTURE", "purchase_units": [unit]}
        if payment_method:
            body["payment_source"] = {"paypal": {"vault_id": payment_method}}
        order = self._call("POST", "/v2/checkout/orders", body, request_id=idempotency_key)
        logger.info("paypal order %s created: %s", order["id"], order.get("status"))
        if payment_method and order.get("status") == "APPROVED":
            return self._capture(order["id"])
        return _order_charge(order)

    def get_charge(self, reference: str) -> Charge:
        """The order as a Charge; an APPROVED order is captured first, so the buyer's approval becomes a payment.
        Raises PaymentError."""
        order = self._order(reference)
        if order.get("status") == "APPROVED":
            return self._capture(reference)
        return _order_charge(order)

    def cancel_charge(self, reference: str) -> Charge:
        """Orders v2 has no cancel: an order is only money once Abode captures it, so one not captured is
        returned as failed (Abode will never capture it; PayPal lets it expire); a captured one as it is."""
        order = self._order(reference)
        charge = _order_charge(order)
        if charge.status in ("succeeded", "failed") or order.get("status") == "COMPLETED":
            return charge
        return Charge(reference=charge.reference, status="failed", amount=charge.amount, currency=charge.currency,
                      failure_code="payment_failed", failure_message="Closed by Abode before it was captured.")

    def _capture(self, order_id: str) -> Charge:
        # A fresh request id each time: PayPal refuses a second capture itself, and a declined buyer may re-approve.
        try:
            order = self._call("POST", f"/v2/checkout/orders/{order_id}/capture", {}, request_id=uuid.uuid4().hex)
        except PayPalError as exc:
            declined = exc.code == "card_declined" and not exc.retryable
            if not declined and exc.issue != "ORDER_ALREADY_CAPTURED":
                raise
            order = self._order(order_id)
            return _order_charge(order, failure=("card_declined", str(exc)) if declined else None)
        logger.info("paypal order %s captured: %s", order_id, order.get("status"))
        return _order_charge(order)

    def refund(self, *, charge_reference: str, amount: int, currency: str, idempotency_key: str) -> Refund:
        """Refund `amount` of the order's capture (found by reading the order). Raises PaymentError."""
        order = self._order(charge_reference)
        unit = order["purchase_units"][0]
        captures = (unit.get("payments") or {}).get("captures") or []
        if not captures or unit["amount"]["currency_code"] != currency:
            raise PayPalError(f"PayPal order {charge_reference} has no {currency} capture to refund")
        body = {"amount": _amount(amount, currency, "currency_code")}
        if unit.get("custom_id"):
            body["custom_id"] = unit["custom_id"]  # so the PAYMENT.CAPTURE.REFUNDED event names the payment
        done = self._call("POST", f"/v2/payments/captures/{captures[0]['id']}/refund", body,
                          request_id=idempotency_key)
        logger.info("paypal refund %s of order %s: %s", done["id"], charge_reference, done.get("status"))
        return Refund(reference=done["id"], amount=amount, currency=currency)

    def pay_out(self, *, amount: int, currency: str, destination: str, idempotency_key: str,
                description: str) -> Transfer:
        """Send `amount` to the PayPal account of the email `destination` in a one-item payout batch whose
        sender_batch_id is the idempotency key. Returns the batch as a Transfer; raises PaymentError."""
        body = {"sender_batch_header": {"sender_batch_id": idempotency_key, "recipient_type": "EMAIL",
                                        "email_subject": description[:255], "email_message": description},
                "items": [{"recipient_type": "EMAIL", "receiver": destination, "note": description[:4000],
                           "amount": _amount(amount, currency, "currency")}]}
        try:
            batch = self._call("POST", "/v1/payments/payouts", body, request_id=idempotency_key)
        except PayPalError as exc:
            # A reused sender_batch_id is refused with a link to the batch that already has it: that is our payout.
            original = _link_path(exc.body, "/v1/payments/payouts/")
            if exc.retryable or original is None:
                raise
            batch = self._call("GET", original)
        header = batch["batch_header"]
        if (header.get("sender_batch_header") or {}).get("sender_batch_id") != idempotency_key:
            raise PayPalError(f"PayPal answered with payout {header.get('payout_batch_id')}, not ours")
        if header.get("batch_status") in ("DENIED", "CANCELED"):
            raise PayPalError(f"PayPal payout {header['payout_batch_id']} was {header['batch_status']}")
        logger.info("paypal payout %s: %s", header["payout_batch_id"], header.get("batch_status"))
        return Transfer(reference=header["payout_batch_id"], amount=amount, currency=currency)

    def parse_webhook(self, payload: bytes, headers: Mapping[str, str]) -> WebhookEvent:
        """Have PayPal verify the delivery (verify-webhook-signature with PAYPAL_WEBHOOK_ID), then read it.
        Raises InvalidSignature, or PaymentError (retryable) when PayPal cannot be asked."""
        lower = {key.lower(): value for key, value in headers.items()}
        fields = {name: lower.get("paypal-" + name.replace("_", "-")) for name in SIGNATURE_HEADERS}
        if not all(fields.values()):
            raise InvalidSignature("The PayPal transmission headers are missing.")
        if not self.webhook_id:
            logger.error("PAYPAL_WEBHOOK_ID is not set: PayPal webhooks cannot be verified")
            raise InvalidSignature("No PayPal webhook id is configured.")
        try:
            event = json.loads(text := payload.decode("utf-8"))
        except ValueError:
            raise InvalidSignature("The payload is not JSON.") from None
        if not isinstance(event, dict) or not event.get("id") or not event.get("event_type"):
            raise InvalidSignature("The payload is not a PayPal event.")
        # The event goes back byte for byte: re-encoding it could change what PayPal checks the signature over.
        raw = json.dumps({**fields, "webhook_id": self.webhook_id})[:-1] + ', "webhook_event": ' + text + "}"
        try:
            answer = self._call("POST", "/v1/notifications/verify-webhook-signature", raw_body=raw)
        except PayPalError as exc:
            if exc.retryable:
                raise
            raise InvalidSignature(f"PayPal refused to verify the delivery ({exc.issue})") from None
        if answer.get("verification_status") != "SUCCESS":
            raise InvalidSignature("PayPal did not verify the webhook signature.")
        return _event(event)

    def _order(self, order_id: str) -> dict:
        if not order_id.isalnum():  # PayPal's order ids are [A-Z0-9]+; anything else would go into the path
            raise PayPalError(f"{order_id!r} is not a PayPal order id.")
        return self._call("GET", f"/v2/checkout/orders/{order_id}")

    def _call(self, method: str, path: str, body: Mapping | None = None, *, request_id: str | None = None,
              raw_body: str | None = None) -> dict:
        headers = {"Authorization": f"Bearer {self._access_token()}", "Content-Type": "application/json",
                   "Prefer": "return=representation"}
        if request_id:
            headers["PayPal-Request-Id"] = (request_id if len(request_id) <= MAX_REQUEST_ID
                                            else hashlib.sha256(request_id.encode()).hexdigest())
        data = raw_body if raw_body is not None else (json.dumps(body) if body is not None else None)
        response = self._send(method, path, headers=headers, data=data)
        if response.status_code == 401:
            with self._token_lock:
                self._token = None  # expired or revoked early: the next call fetches a new one
            raise _error(response, method, path, retryable=True)
        return _answer(response, method, path)

    def _access_token(self) -> str:
        with self._token_lock:  # one fetch at a time; the others wait and reuse it
            if self._token and time.monotonic() < self._token_expires:
                return self._token
            answer = _answer(self._send("POST", "/v1/oauth2/token", auth=(self.client_id, self.client_secret),
                                        data={"grant_type": "client_credentials"}), "POST", "/v1/oauth2/token")
            lifetime = float(answer.get("expires_in") or 0)
            self._token, self._token_expires = answer["access_token"], time.monotonic() + lifetime - TOKEN_MARGIN
            return self._token

    def _send(self, method: str, path: str, **kwargs) -> requests.Response:
        try:
            return self.session.request(method, self.api_base + path, timeout=self.timeout, **kwargs)
        except requests.RequestException as exc:
            logger.warning("paypal %s %s unreachable: %s", method, path, type(exc).__name__)
            raise PayPalError(f"PayPal could not be reached ({type(exc).__name__}).", retryable=True) from exc


def _amount(amount: int, currency: str, code_key: str) -> dict:
    """PayPal's money object: a decimal string in major units ("125.50", JPY "15000"), never a float."""
    return {code_key: currency, "value": format(to_major(amount, currency), "f")}


def _answer(response: requests.Response, method: str, path: str) -> dict:
    """The JSON of a 2xx answer; raises PayPalError for anything else."""
    if (status := response.status_code) >= 400:
        raise _error(response, method, path, retryable=status >= 500 or status in (408, 429))
    try:
        return response.json() if response.content else {}
    except ValueError:
        raise PayPalError(f"PayPal answered {method} {path} with no JSON.", retryable=True) from None


def _error(response: requests.Response, method: str, path: str, *, retryable: bool) -> PayPalError:
    try:
        body = response.json()
    except ValueError:
        body = None
    body = body if isinstance(body, dict) else {}
    details = body.get("details") if isinstance(body.get("details"), list) else []
    first = details[0] if details and isinstance(details[0], dict) else {}
    issue = first.get("issue") or body.get("error")
    name = body.get("name") or body.get("error") or f"HTTP {response.status_code}"
    logger.warning("paypal %s %s refused: %s %s %s (debug_id %s)", method, path, response.status_code, name, issue,
                   body.get("debug_id"))
    message = first.get("description") or body.get("message") or body.get("error_description") or name
    return PayPalError(f"PayPal: {message}", status=response.status_code, issue=issue, body=body, retryable=retryable,
                       code="card_declined" if issue in DECLINE_ISSUES else "payment_failed")


def _order_charge(order: Mapping, failure: tuple[str, str] | None = None) -> Charge:
    """An Orders v2 order as a Charge: the capture's status when there is one, else the order's."""
    unit = order["purchase_units"][0]
    currency = unit["amount"]["currency_code"]
    capture = ((unit.get("payments") or {}).get("captures") or [None])[0]
    status = CAPTURE_STATUSES.get(capture.get("status"), "processing") if capture else \
        ORDER_STATUSES.get(order.get("status"), "processing")
    if status == "failed" and failure is None:
        code = "card_declined" if capture and capture.get("status") == "DECLINED" else "payment_failed"
        failure = (code, f"PayPal {'capture' if capture else 'order'} {(capture or order).get('status')}")
    status = "failed" if failure else status
    return Charge(reference=order["id"], status=status, amount=to_minor(unit["amount"]["value"], currency),
                  currency=currency, client_secret=order["id"] if status == "requires_payment" else None,
                  failure_code=failure[0] if failure else None, failure_message=failure[1] if failure else None)


def _link_path(body: Mapping, prefix: str) -> str | None:
    """The path of a GET HATEOAS link under `prefix`, to be fetched from our own API base (never another host)."""
    for link in body.get("links") or []:
        path = urlsplit(str(link.get("href", ""))).path
        if path.startswith(prefix) and link.get("method", "GET") == "GET":
            return path
    return None


def _event(event: Mapping) -> WebhookEvent:
    """A verified PayPal event reduced to a WebhookEvent; `data` holds the capture id, custom_id and amount."""
    kind, resource_type, resource = event["event_type"], event.get("resource_type"), event.get("resource") or {}
    related = (resource.get("supplementary_data") or {}).get("related_ids") or {}
    unit = (resource.get("purchase_units") or [{}])[0] if resource_type == "checkout-order" else resource
    if resource_type == "checkout-order":
        order_id, capture_id = resource.get("id"), None
    else:  # a capture's "up" link leads to its order, a refund's to its capture
        order_link = _link_path(resource, "/v2/checkout/orders/") or ""
        capture_link = _link_path(resource, "/v2/payments/captures/") or ""
        order_id = related.get("order_id") or order_link.rpartition("/")[2] or None
        capture_id = resource.get("id") if resource_type == "capture" else (
            related.get("capture_id") or capture_link.rpartition("/")[2] or None)
    data = {"event_type": kind, "resource_type": resource_type, "resource_id": resource.get("id"),
            "custom_id": unit.get("custom_id"), "capture_id": capture_id}
    amount = unit.get("amount") or {}
    if is_supported(amount.get("currency_code")):
        data.update(amount=to_minor(amount["value"], amount["currency_code"]), currency=amount["currency_code"])
    created = event.get("create_time")
    return WebhookEvent(id=event["id"], type=kind, charge_reference=order_id, status=EVENT_STATUSES.get(kind),
                        created=int(datetime.fromisoformat(created).timestamp()) if created else int(time.time()),
                        data=data)
