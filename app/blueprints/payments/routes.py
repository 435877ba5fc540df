"""Payment pages: the checkout of a pending booking (test cards, or Stripe Elements), receipts, host payouts."""

from __future__ import annotations

import logging
import math
import uuid
from datetime import datetime

from flask import current_app, flash, redirect, render_template, request, url_for

from ... import money, rates
from ...authz import current_account, host_required, login_required, viewer_locale
from ...errors import DomainError, NotFoundError, PaymentFailed
from ...forms_util import show_error
from ...models import Booking, Payment, User, utcnow
from ...pagination import page_args
from ...rate_limits import write_limit
from ..bookings import services as bookings
from ..bookings import state
from . import bp, services
from . import payouts as host_payouts
from .forms import CardChoiceForm, CheckoutForm

logger = logging.getLogger(__name__)

RECEIPTS_SHOWN, PAYOUTS_PER_PAGE = 10, 20


def stripe_key() -> str | None:
    """Stripe's publishable key when Stripe Elements takes the card (PAYMENT_PROVIDER=stripe), else None."""
    if current_app.config.get("PAYMENT_PROVIDER") == "stripe":
        return current_app.config.get("STRIPE_PUBLISHABLE_KEY") or None
    return None


def guest_booking(booking_id: int, user: User) -> Booking:
    """The booking if `user` is its guest; its host, an admin or anyone else gets NotFoundError (404 page)."""
    booking = bookings.visible_booking(booking_id, user)
    if booking.guest_id != user.id:
        raise NotFoundError("Booking not found.")
    return booking


def can_pay(booking: Booking) -> bool:
    """True while the booking is pending, unpaid and not expired: its guest sees "Pay now"."""
    return services.payable_problem(booking) is None


def booking_receipts(booking: Booking) -> list[Payment]:
    """The booking's charged payments the viewer may see receipts of (its guest, an admin), newest first."""
    user = current_account()
    if user is None:
        return []
    page = services.list_payments(user, 1, RECEIPTS_SHOWN, booking_id=booking.id)
    return [payment for payment in page.items if payment.status in services.CHARGED]


@bp.route("/bookings/<int:booking_id>/checkout", methods=["GET", "POST"])
@login_required
@write_limit("payment")
def checkout(booking_id: int):
    """The order summary and the payment form of the guest's pending booking; paid, the booking's page."""
    user = current_account()
    booking = guest_booking(booking_id, user)
    publishable_key = stripe_key()
    form = CheckoutForm() if publishable_key else CardChoiceForm()
    stripe_payment = retry_key = None
    if form.validate_on_submit():
        method = None if publishable_key else form.payment_method.data
        try:
            payment, _replayed = services.create_payment(user, booking_id=booking.id, payment_method=method,
                                                         idempotency_key=form.idempotency_key.data)
        except services.ProviderUnanswered as exc:
            logger.warning("checkout of booking %s: the provider did not answer", booking.id)
            flash(exc.message, "warning")
            retry_key = form.idempotency_key.data  # "Pay" again asks about this same payment
        except PaymentFailed as exc:
            logger.warning("checkout of booking %s refused: %s", booking.id, exc.code)
            flash(refused(exc.message), "danger")
        except (state.InvalidState, services.PaymentInProgress) as exc:
            flash(exc.message, "warning")
            return redirect(url_for("bookings.detail", booking_id=booking.id))
        except DomainError as exc:
            show_error(form, exc)
        else:
            if not (publishable_key and payment.status == "requires_payment" and payment.client_secret):
                flash(*paid_message(payment))
                return redirect(url_for("bookings.detail", booking_id=booking.id))
            stripe_payment = payment  # Stripe Elements takes the card next
    elif form.is_submitted() and ({"csrf_token", "idempotency_key"} & form.errors.keys()):
        flash("The form expired; please try again.", "danger")
    now = utcnow()
    if stripe_payment is None and retry_key is None and (problem := services.payable_problem(booking, now)):
        flash(problem.message, "info")
        return redirect(url_for("bookings.detail", booking_id=booking.id))
    form.idempotency_key.data = retry_key or uuid.uuid4().hex  # after a decline, a new attempt is a new payment
    return render_template("payments/checkout.html", booking=booking, form=form,
                           minutes_left=minutes_left(booking, now), publishable_key=publishable_key,
                           stripe_payment=stripe_payment, in_your_currency=in_guest_currency(booking))


def in_guest_currency(booking: Booking) -> tuple[int, str] | None:
    """The total in the guest's preferred currency at today's rates, when that is not the booking's currency
    (the charge itself is in the booking's currency)."""
    preferred = booking.guest.preferred_currency
    if not preferred or preferred == booking.currency or not money.is_supported(preferred):
        return None
    return rates.convert(booking.total_amount, booking.currency, preferred, rates.current_rates()), preferred


def minutes_left(booking: Booking, now: datetime) -> int | None:
    """Whole minutes (rounded up) before the unpaid booking expires, or None when it has no deadline."""
    if booking.expires_at is None:
        return None
    return max(math.ceil((booking.expires_at - now).total_seconds() / 60), 0)


def refused(message: str) -> str:
    """A refused payment's message as the checkout page says it (the service's own may already say more)."""
    return message if "charged" in message.lower() else f"{message} Nothing was charged. Try another card."


def paid_message(payment: Payment) -> tuple[str, str]:
    """(what the guest is told after paying, the flash category)."""
    booking, amount = payment.booking, money.format_money(payment.amount, payment.currency, viewer_locale())
    if payment.status not in services.CHARGED:
        return (f"Your payment is {payment.status.replace('_', ' ')}. The booking moves on once it goes through.",
                "info")
    if payment.status != "succeeded":
        return f"Paid {amount}, but the booking could no longer take it: it is refunded in full.", "warning"
    if booking.status == "confirmed":
        return f"Paid {amount}. Your stay is confirmed!", "success"
    if booking.awaiting_approval:
        return (f"Paid {amount}. Waiting for the host, who has until {booking.expires_at:%a %d %b, %H:%M} UTC to "
                "accept; if they don't, you get everything back.", "success")
    return f"Paid {amount}.", "success"


@bp.get("/payments/<int:payment_id>")
@login_required
def detail(payment_id: int):
    """A payment's receipt: charged, refunded and net paid (its guest or an admin; anyone else gets 404)."""
    payment = services.visible_payment(payment_id, current_account())
    charged = payment.amount if payment.status in services.CHARGED else 0
    return render_template("payments/detail.html", payment=payment, booking=payment.booking,
                           charged=charged, net=charged - payment.refunded_amount)


@bp.get("/payments/<int:payment_id>/confirm")
@login_required
def confirm(payment_id: int):
    """Where Stripe sends the guest back after Elements: ask the provider how the charge stands, then the booking."""
    user = current_account()
    booking_id = services.visible_payment(payment_id, user).booking_id  # anyone else: the 404 page
    try:
        payment = services.confirm_payment(payment_id, user)
    except PaymentFailed as exc:
        message = exc.message
    else:
        if payment.status != "requires_payment":
            flash(*paid_message(payment))
            return redirect(url_for("bookings.detail", booking_id=booking_id))
        message = "The payment did not go through."  # Stripe keeps a refused intent open for another card
    flash(refused(message), "danger")
    return redirect(url_for(".checkout", booking_id=booking_id))


@bp.get("/host/payouts")
@host_required
def payouts():
    """The host's payouts: what each booking pays them, when, and whether it has been paid."""
    page, _per_page = page_args(request.args)
    result = host_payouts.list_payouts(current_account(), page, PAYOUTS_PER_PAGE)
    shown = bookings.bookings_by_id([payout.booking_id for payout in result.items])
    listings = {booking.id: booking.listing for booking in shown}
    return render_template("payments/payouts.html", result=result, listings=listings)
