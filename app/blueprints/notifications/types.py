"""What each notification type says: its title and body, written from the notification's `data`, and the page it
links to. In-app rows store the text; the email templates (templates/notifications/email/<type>.html|txt) are
rendered from the same data.

`data` keys: booking_id, listing_id, listing_title, check_in, check_out, nights, guests, guest_name, host_name,
role ("guest" or "host": whose side the reader is on), canceled_by, refund / amount (Money dicts), payment_id,
payout_id, review_id, rating, author_name; `url` is the path of the page it is about.
"""

from __future__ import annotations

from collections.abc import Callable

from ... import money


def money_text(value: dict | None, locale: str) -> str:
    """A Money dict of a notification's data as text in `locale` ('€240.00'); no amount reads as 0."""
    value = value or {"amount": 0, "currency": "USD"}
    return money.format_money(value["amount"], value["currency"], locale)


def _money(data: dict, key: str, locale: str) -> str:
    return money_text(data.get(key), locale)


def _stay(data: dict) -> str:
    return f"{data['check_in']} to {data['check_out']}"


def _requested(data: dict, locale: str) -> tuple[str, str]:
    return (f"New booking request for {data['listing_title']}",
            f"{data['guest_name']} asks to stay {_stay(data)} ({data['nights']} night(s), {data['guests']} guest(s)) "
            f"and has paid. Accept or decline within 24 hours, or the request expires.")


def _confirmed(data: dict, locale: str) -> tuple[str, str]:
    if data["role"] == "host":
        return (f"New booking at {data['listing_title']}",
                f"{data['guest_name']} is staying {_stay(data)} "
                f"({data['nights']} night(s), {data['guests']} guest(s)).")
    return (f"Your stay at {data['listing_title']} is confirmed",
            f"You are booked {_stay(data)}. Check-in is from 15:00, check-out by 11:00.")


def _declined(data: dict, locale: str) -> tuple[str, str]:
    return (f"Your request for {data['listing_title']} was declined",
            f"The host could not take your stay {_stay(data)}. "
            f"Everything you paid ({_money(data, 'refund', locale)}) is on its way back to you.")


CANCELERS = {"guest": "the guest", "host": "the host", "admin": "Abode's support team",
             "expired": "the system (it was not paid or answered in time)"}


def _canceled(data: dict, locale: str) -> tuple[str, str]:
    by = "you" if data["canceled_by"] == data["role"] else CANCELERS.get(data["canceled_by"], "the system")
    title = f"Booking at {data['listing_title']} canceled"
    body = f"The stay {_stay(data)} was canceled by {by}."
    if data["role"] == "guest" and (data.get("refund") or {}).get("amount"):
        body += f" A refund of {_money(data, 'refund', locale)} is on its way back to you."
    elif data["role"] == "guest":
        body += " Nothing was refunded."
    else:
        body += " The nights are free again on your calendar."
    return title, body


def _completed(data: dict, locale: str) -> tuple[str, str]:
    return (f"How was your stay at {data['listing_title']}?",
            "Your stay is over. Leave a review within 14 days to help other guests and your host.")


def _payment_succeeded(data: dict, locale: str) -> tuple[str, str]:
    return (f"Payment received: {_money(data, 'amount', locale)}",
            f"We received your payment for {data['listing_title']}, {_stay(data)}.")


def _payment_failed(data: dict, locale: str) -> tuple[str, str]:
    return (f"Your payment for {data['listing_title']} did not go through",
            "The payment was refused. Try another card before the booking's time to pay runs out.")


def _payout_paid(data: dict, locale: str) -> tuple[str, str]:
    return (f"Payout sent: {_money(data, 'amount', locale)}",
            f"Your payout for the stay at {data['listing_title']} ({_stay(data)}) is on its way.")


def _payout_failed(data: dict, locale: str) -> tuple[str, str]:
    return (f"A payout of {_money(data, 'amount', locale)} could not be sent",
            "We will try again automatically. Check that your payout account is correct.")


def _review_received(data: dict, locale: str) -> tuple[str, str]:
    return (f"{data['author_name']} reviewed {data['listing_title']}: {data['rating']}/5",
            "Read the review and reply to it from your Reviews page.")


def _review_response(data: dict, locale: str) -> tuple[str, str]:
    return (f"{data['host_name']} replied to your review of {data['listing_title']}",
            "See the reply under your review on the listing's page.")


def _listing_unpublished(data: dict, locale: str) -> tuple[str, str]:
    return (f"Abode has taken {data['listing_title']} down",
            "It is out of search and cannot be booked until Abode restores it; bookings already made stand. "
            "Reply to this email to ask why.")


# type -> (what it says, the endpoint of the page it is about and the data keys that page's URL needs, #fragment)
TYPES: dict[str, tuple[Callable[[dict, str], tuple[str, str]], str, tuple[str, ...], str]] = {
    "booking_requested": (_requested, "bookings.detail", ("booking_id",), ""),
    "booking_confirmed": (_confirmed, "bookings.detail", ("booking_id",), ""),
    "booking_declined": (_declined, "bookings.detail", ("booking_id",), ""),
    "booking_canceled": (_canceled, "bookings.detail", ("booking_id",), ""),
    "stay_completed": (_completed, "reviews.new", ("booking_id",), ""),
    "payment_succeeded": (_payment_succeeded, "payments.detail", ("payment_id",), ""),
    "payment_failed": (_payment_failed, "payments.checkout", ("booking_id",), ""),
    "payout_paid": (_payout_paid, "payments.payouts", (), ""),
    "payout_failed": (_payout_failed, "payments.payouts", (), ""),
    "review_received": (_review_received, "reviews.host_index", (), ""),
    "review_response": (_review_response, "listings.detail", ("listing_id",), "#reviews"),
    "listing_unpublished": (_listing_unpublished, "listings.detail", ("listing_id",), ""),
}


def describe(type_: str, data: dict, locale: str = "en") -> tuple[str, str]:
    """(title, body) of a notification of `type_` about `data`, money shown in `locale`."""
    return TYPES[type_][0](data, locale)


def page_path(type_: str, data: dict) -> str:
    """The path of the page a notification is about ("/bookings/12"); built without a request, so the worker and
    the CLI can too."""
    from flask import current_app

    _describe, endpoint, keys, fragment = TYPES[type_]
    return current_app.url_map.bind("").build(endpoint, {key: data[key] for key in keys}) + fragment
