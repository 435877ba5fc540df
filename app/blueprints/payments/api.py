"""JSON API for payments: /api/v1/payments."""

from __future__ import annotations

from flask import request
from flask_jwt_extended import get_current_user

from ...authz import host_required, login_required
from ...errors import BadRequest
from ...openapi import api_doc
from ...pagination import page_args
from ...payment_providers import InvalidSignature
from ...rate_limits import write_limit
from ...schemas import PageArgsSchema
from ...validation import load_json, load_query
from . import api_bp, payouts, schemas, services, webhooks


@api_bp.post("/payments")
@login_required
@write_limit("payment")
@api_doc(summary="Pay a booking's total", body=schemas.PaymentInputSchema, response=schemas.PaymentSchema,
         status=201, errors=(402, 404, 409, 422))
def create_payment():
    """Send an `Idempotency-Key`: a repeat with the same body gets the first answer and never a second charge.
    402 `card_declined` or `payment_failed` when the provider refuses; 409 `payment_in_progress` while another
    payment of the booking is processing or has succeeded."""
    payment, replayed = services.create_payment(get_current_user(), **load_json(schemas.PaymentInputSchema()),
                                                idempotency_key=request.headers.get("Idempotency-Key"))
    return schemas.PaymentSchema().dump(payment), 201, ({"Idempotent-Replayed": "true"} if replayed else {})


@api_bp.post("/payments/<int:payment_id>/confirm")
@login_required
@write_limit("payment")
@api_doc(summary="Check a payment the guest confirmed in the browser (Stripe.js, PayPal)",
         response=schemas.PaymentSchema, errors=(402, 404, 409))
def confirm_payment(payment_id: int):
    """Asks the provider how the charge stands and applies it; the webhook would do the same a moment later."""
    return schemas.PaymentSchema().dump(services.confirm_payment(payment_id, get_current_user()))


def _webhook(provider: str):
    try:
        outcome = webhooks.handle_webhook(provider, request.get_data(), request.headers)
    except InvalidSignature:
        raise BadRequest("The webhook signature does not verify.", code="invalid_signature") from None
    return {"received": True, "outcome": outcome}


@api_bp.post("/payments/webhooks/stripe")
@api_doc(summary="Stripe's events (signed with Stripe-Signature)", errors=(400, 503))
def stripe_webhook():
    """A bad signature is 400 `invalid_signature`; an event delivered again changes nothing."""
    return _webhook("stripe")


@api_bp.post("/payments/webhooks/paypal")
@api_doc(summary="PayPal's events (verified with PayPal)", errors=(400, 503))
def paypal_webhook():
    """An event PayPal does not vouch for is 400 `invalid_signature`; one delivered again changes nothing."""
    return _webhook("paypal")


@api_bp.get("/payments")
@login_required
@api_doc(summary="The caller's payments (an admin's: all)", query=schemas.PaymentListArgsSchema,
         response=schemas.PaymentPageSchema, errors=(400, 422))
def list_payments():
    """Newest first."""
    page, per_page = page_args(request.args)
    args = load_query(schemas.PaymentListArgsSchema())  # 422 for a booking_id that is not one
    payments = services.list_payments(get_current_user(), page, per_page, booking_id=args["booking_id"])
    return payments.to_dict(schemas.PaymentSchema().dump)


@api_bp.get("/payments/<int:payment_id>")
@login_required
@api_doc(summary="One payment (its guest or an admin)", response=schemas.PaymentSchema, errors=(404,))
def get_payment(payment_id: int):
    """Anyone else gets 404."""
    return schemas.PaymentSchema().dump(services.visible_payment(payment_id, get_current_user()))


@api_bp.get("/payouts")
@host_required
@api_doc(summary="The host's payouts", query=PageArgsSchema, response=schemas.PayoutPageSchema,
         errors=(400, 403))
def list_payouts():
    """Latest scheduled first; a failed payout is retried and stays failed until it is paid."""
    page, per_page = page_args(request.args)
    return payouts.list_payouts(get_current_user(), page, per_page).to_dict(schemas.PayoutSchema().dump)
