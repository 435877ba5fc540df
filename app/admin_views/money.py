"""Dashboard views of money and mail: bookings, payments, refunds, payouts, exchange rates, the email outbox.

Lists are read-only. Every action calls the feature's service, which decides and audits in its own transaction:
cancel a booking with a full refund (bookings.cancel_booking as an admin), refund a settled booking in full
(refunds.refund_in_full), send a refused refund again (refunds.retry_refund), retry a failed payout
(payouts.retry_payout), set an exchange rate (rates.set_rate), send a failed email again
(notifications.services.resend). A DomainError is flashed (nothing changed, nothing audited); success too.
Each list row has its action's button (app/admin.py RowAction). Forms are Flask-WTF forms, so the site's CSRF
protection checks every POST.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from flask import flash, redirect, url_for
from flask_admin import Admin, BaseView, expose
from flask_admin.actions import action
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms import HiddenField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length

from .. import rates
from ..admin import AdminModelView, AdminOnly, RowAction, RowLink
from ..blueprints.bookings import services as bookings
from ..blueprints.bookings.services import MAX_REASON_LENGTH
from ..blueprints.bookings.state import CANCELABLE, SETTLED
from ..blueprints.notifications import services as notifications
from ..blueprints.payments import ledger, payouts, refunds
from ..errors import DomainError, NotFoundError
from ..extensions import db
from ..models import Booking, OutboxEmail, Payment, PaymentRefund, Payout
from ..money import format_money

logger = logging.getLogger(__name__)

ADMIN_CANCEL_REASON = "Canceled by an admin."


def _money(column: str) -> Callable:
    """A list formatter showing the `column` amount in the row's currency ('€125.50')."""
    def formatter(_view, _context, model, _name):
        amount = getattr(model, column)
        return "" if amount is None else format_money(amount, model.currency)
    return formatter


def _each(ids: list[str], call: Callable[[int], str]) -> None:
    """Run the service `call` for each selected row id; flash its success text or the rule that refused it."""
    for row_id in ids:
        try:
            flash(call(int(row_id)), "success")
        except DomainError as exc:
            flash(exc.message, "danger")


class CancelForm(FlaskForm):
    """The booking page's cancel: who cancels is the admin, the reason goes to the guest and the audit."""

    booking_id = HiddenField(validators=[DataRequired()])
    reason = TextAreaField("Reason", validators=[Length(max=MAX_REASON_LENGTH)])


class RefundForm(FlaskForm):
    """The booking page's goodwill refund of a settled booking: everything paid back, the host's payout removed."""

    booking_id = HiddenField(validators=[DataRequired()])


class RateForm(FlaskForm):
    code = StringField("Currency", validators=[DataRequired(), Length(max=3)])
    rate = StringField("Units per USD", validators=[DataRequired(), Length(max=30)])


class BookingView(AdminModelView):
    """Bookings with their money; the page of one shows its history, payments, refunds, payout and ledger line."""

    column_list = ("id", "listing", "guest", "check_in", "check_out", "status", "total_amount", "paid_amount")
    column_labels = {"total_amount": "Total", "paid_amount": "Paid", "listing": "Listing", "guest": "Guest"}
    column_filters = ("status", "check_in", "check_out", "created_at", "listing.title", "guest.email")
    column_default_sort = ("id", True)
    column_formatters = {"total_amount": _money("total_amount"), "paid_amount": _money("paid_amount"),
                         "listing": lambda _v, _c, m, _n: m.listing.title,
                         "guest": lambda _v, _c, m, _n: m.guest.email}
    details_template = "admin/money_booking_details.html"
    column_extra_row_actions = [RowLink(".details_view", "Cancel…", anchor="cancel",
                                        shown=lambda booking: booking.status in CANCELABLE)]

    @action("cancel_refund", "Cancel with full refund", "Cancel the selected bookings and refund everything paid?")
    def action_cancel(self, ids: list[str]) -> None:
        _each(ids, lambda booking_id: _cancel(booking_id, ADMIN_CANCEL_REASON))

    @expose("/cancel/", methods=("POST",))
    def cancel_view(self):
        """POST from a booking's page: cancel it as the admin (full refund), with the reason given."""
        form = CancelForm()
        if not form.validate_on_submit():
            flash("The cancel form was not accepted: " + "; ".join(
                message for messages in form.errors.values() for message in messages), "danger")
            return redirect(url_for(".index_view"))
        _each([form.booking_id.data], lambda booking_id: _cancel(booking_id, form.reason.data or
                                                                 ADMIN_CANCEL_REASON))
        return redirect(url_for(".details_view", id=form.booking_id.data))

    @expose("/refund/", methods=("POST",))
    def refund_view(self):
        """POST from a settled booking's page: give everything paid back (refunds.refund_in_full, audited)."""
        form = RefundForm()
        if not form.validate_on_submit():
            flash("The refund form was not accepted; open the booking again and retry.", "danger")
            return redirect(url_for(".index_view"))
        _each([form.booking_id.data], _refund)
        return redirect(url_for(".details_view", id=form.booking_id.data))

    def money_of(self, booking: Booking) -> dict:
        """What the booking page shows of the money: payments, their refunds, the payout, the ledger line."""
        payments = list(db.session.scalars(select(Payment).where(Payment.booking_id == booking.id)
                                           .order_by(Payment.id)))
        given_back = list(db.session.scalars(select(PaymentRefund).join(PaymentRefund.payment)
                                          .where(Payment.booking_id == booking.id).order_by(PaymentRefund.id)))
        payout = db.session.scalar(select(Payout).where(Payout.booking_id == booking.id))
        lines = ledger.ledger([booking.id]) if payments else []
        return {"payments": payments, "refunds": given_back, "payout": payout, "line": lines[0] if lines else None,
                "cancel_form": CancelForm(booking_id=booking.id), "format": format_money,
                "refund_form": RefundForm(booking_id=booking.id) if booking.status in SETTLED else None}


def _cancel(booking_id: int, reason: str) -> str:
    booking = bookings.cancel_booking(booking_id, current_user, reason)
    return (f"Booking {booking.id} canceled; {format_money(booking.refund_amount or 0, booking.currency)} "
            "goes back to the guest.")


def _refund(booking_id: int) -> str:
    owed = refunds.refund_in_full(booking_id, actor=current_user)
    booking = db.session.get(Booking, booking_id, populate_existing=True)
    return (f"Booking {booking_id} refunded in full: {format_money(sum(r.amount for r in owed), booking.currency)} "
            f"goes back to the guest, {format_money(booking.refund_amount, booking.currency)} in all.")


def _retry_refund(refund_id: int) -> str:
    sent = refunds.retry_refund(refund_id, actor=current_user)
    refund = db.session.get(PaymentRefund, refund_id, populate_existing=True)
    return (f"Refund {refund_id} sent: {format_money(refund.amount, refund.currency)} back to the guest." if sent
            else f"Refund {refund_id} retried: {refund.status} ({refund.last_error or 'not sent'}).")


class PaymentView(AdminModelView):
    """Payments (never their client secret or idempotency hashes); a settled booking's can be refunded in full."""

    column_list = ("id", "booking_id", "guest_id", "provider", "status", "amount", "refunded_amount", "currency",
                   "provider_reference", "created_at")
    column_exclude_list = column_details_exclude_list = ("client_secret", "key_hash", "request_hash")
    column_details_list = ("id", "booking_id", "guest_id", "provider", "provider_reference", "payment_method",
                           "status", "amount", "refunded_amount", "currency", "failure_code", "failure_message",
                           "pays_booking", "created_at", "closed_at")
    column_filters = ("status", "provider", "currency")
    column_default_sort = ("id", True)
    column_formatters = {"amount": _money("amount"), "refunded_amount": _money("refunded_amount")}
    column_extra_row_actions = [RowAction("refund_full", "Refund in full", style="outline-danger",
                                          shown=lambda payment: payment.status in ("succeeded", "partially_refunded")
                                          and payment.booking.status in SETTLED)]

    @action("refund_full", "Refund in full", "Give everything paid for the selected payments' bookings back to "
            "their guests? The hosts' unpaid payouts are removed.")
    def action_refund(self, ids: list[str]) -> None:
        def refund(payment_id: int) -> str:
            payment = db.session.get(Payment, payment_id)
            if payment is None:
                raise NotFoundError(f"Payment {payment_id} not found.")
            return _refund(payment.booking_id)
        _each(ids, refund)


class RefundView(AdminModelView):
    """Refunds, refused ones first to look at; a failed one (the provider refused) can be sent again."""

    column_list = ("id", "payment_id", "payment.booking_id", "status", "amount", "attempts", "last_error",
                   "next_attempt_at", "created_at", "succeeded_at")
    column_labels = {"payment_id": "Payment", "payment.booking_id": "Booking"}
    column_exclude_list = column_details_exclude_list = ("provider_key",)
    column_filters = ("status", "currency")
    column_default_sort = [("status", False), ("id", True)]  # failed < pending < succeeded
    column_formatters = {"amount": _money("amount")}
    column_extra_row_actions = [RowAction("retry", "Retry refund", shown=lambda refund: refund.status == "failed")]

    @action("retry", "Retry refund", "Send the selected failed refunds again now?")
    def action_retry(self, ids: list[str]) -> None:
        _each(ids, _retry_refund)


class PayoutView(AdminModelView):
    """Host payouts; a failed one can be retried now."""

    column_list = ("id", "booking_id", "host_id", "provider", "status", "amount", "currency", "scheduled_for",
                   "attempts", "next_attempt_at", "last_error", "paid_at")
    column_filters = ("status", "provider", "currency")
    column_default_sort = ("id", True)
    column_formatters = {"amount": _money("amount")}
    column_extra_row_actions = [RowAction("retry", "Retry payout", shown=lambda payout: payout.status == "failed")]

    @action("retry", "Retry payout", "Send the selected failed payouts now?")
    def action_retry(self, ids: list[str]) -> None:
        def retry(payout_id: int) -> str:
            paid = payouts.retry_payout(payout_id, actor=current_user)
            payout = db.session.get(Payout, payout_id, populate_existing=True)
            return (f"Payout {payout_id} paid." if paid
                    else f"Payout {payout_id} retried: {payout.status} ({payout.last_error or 'not sent'}).")
        _each(ids, retry)


class OutboxView(AdminModelView):
    """The email outbox, failed rows first; a failed email can be sent again."""

    column_list = ("id", "to_address", "kind", "status", "attempts", "last_error", "next_try_at",
                   "sent_at")
    column_labels = {"kind": "Type", "to_address": "To"}
    column_filters = ("status",)
    column_default_sort = [("status", False), ("next_try_at", True)]  # failed < pending < sent
    column_extra_row_actions = [RowAction("resend", "Resend", shown=lambda row: row.status == "failed")]

    @action("resend", "Resend", "Send the selected failed emails again?")
    def action_resend(self, ids: list[str]) -> None:
        _each(ids, lambda outbox_id: f"Email {notifications.resend(outbox_id, actor=current_user).id} "
                                     "queued to be sent again.")


class RatesView(AdminOnly, BaseView):
    """The exchange rates in force (units per USD) and a form to set one."""

    @expose("/")
    def index(self):
        current = sorted(rates.current_rates().items())
        return self.render("admin/money_rates.html", rates=current, form=RateForm())

    @expose("/set/", methods=("POST",))
    def set_view(self):
        """POST: set one rate through rates.set_rate (audited); bad input is flashed."""
        form = RateForm()
        if not form.validate_on_submit():
            flash("Give a currency code and a rate.", "danger")
        else:
            try:
                row = rates.set_rate(form.code.data.strip(), form.rate.data.strip(), actor=current_user)
            except DomainError as exc:
                flash(exc.message, "danger")
            else:
                flash(f"{row.currency} is now {row.rate} per USD.", "success")
        return redirect(url_for(".index"))


def register(admin: Admin, db) -> None:
    """Add this area's views to `admin`, under a Money menu."""
    admin.add_view(BookingView(Booking, db, name="Bookings", category="Money", endpoint="money_bookings",
                             url="bookings"))
    admin.add_view(PaymentView(Payment, db, name="Payments", category="Money", endpoint="money_payments",
                             url="payments"))
    admin.add_view(RefundView(PaymentRefund, db, name="Refunds", category="Money", endpoint="money_refunds",
                              url="refunds"))
    admin.add_view(PayoutView(Payout, db, name="Payouts", category="Money", endpoint="money_payouts",
                             url="payouts"))
    admin.add_view(RatesView(name="Exchange rates", category="Money", endpoint="money_rates",
                             url="rates"))
    admin.add_view(OutboxView(OutboxEmail, db, name="Email outbox", category="Money", endpoint="money_outbox",
                             url="outbox"))
