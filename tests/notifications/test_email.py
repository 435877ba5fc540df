"""Notification emails as a user receives them, from a real SMTP server (aiosmtpd): what they say and link to,
who gets them, retries after refusals, one-click unsubscribe, preferences, `jobs run-due`, and .eml files in
development."""

from __future__ import annotations

import logging
import os
import socket
import threading
from datetime import date, timedelta
from email import message_from_bytes, policy

import pytest
from sqlalchemy import select

from app import create_app
from app.blueprints.auth.preferences import email_preferences, set_email_preferences
from app.blueprints.bookings import services as bookings
from app.blueprints.notifications.delivery import deliver_due, wait_for_inline
from app.extensions import db
from app.models import OutboxEmail, User, utcnow
from config import DevelopmentConfig

from ..support.factories import make_listing, make_user
from ..support.pages import text_of
from ..support.smtp_server import smtp_server_fixture  # noqa: F401 (registers the smtp_server fixture)

SITE = "https://abode.test"
CHECK_IN = date.today() + timedelta(days=60)


def mail_app(make_app, smtp_server, **overrides):
    return make_app(**smtp_server.settings(), SITE_URL=SITE, **overrides)


def paid_booking(*, instant_book: bool = True, guest: User | None = None):
    """A booking paid just now: instant book tells guest and host (booking_confirmed), request to book the host."""
    host = make_user(role="host", name="Hana <Host>")
    listing = make_listing(host=host, instant_book=instant_book, title="Sea cabin & <b>view</b>", min_nights=1)
    guest = guest or make_user(name="Gus Guest")
    booking, _ = bookings.create_booking(guest=guest, listing_id=listing.id, check_in=CHECK_IN,
                                         check_out=CHECK_IN + timedelta(days=3), guests=2)
    bookings.record_payment(booking.id, booking.total_amount)
    return booking, guest, host


def outbox() -> list[OutboxEmail]:
    db.session.expire_all()
    return db.session.scalars(select(OutboxEmail).order_by(OutboxEmail.id)).all()


def test_a_paid_instant_booking_emails_guest_and_host_with_the_link_back_and_one_click_unsubscribe(
        make_app, smtp_server):
    mail_app(make_app, smtp_server)
    booking, guest, host = paid_booking()
    done = deliver_due()
    assert (done.sent, done.retried, done.failed) == (2, 0, 0)
    for_guest, for_host = smtp_server.wait_for(2)
    rows = outbox()
    assert [(email.rcpt_tos, email.message["To"]) for email in (for_guest, for_host)] == [
        ([guest.email], guest.email), ([host.email], host.email)]
    assert for_guest.message["Subject"] == "Your stay at Sea cabin & <b>view</b> is confirmed"
    assert for_host.message["Subject"] == "New booking at Sea cabin & <b>view</b>"
    assert for_guest.message["From"] == "Abode <no-reply@abode.local>"
    assert [email.message_id for email in (for_guest, for_host)] == [
        f"<outbox-{rows[0].id}@abode.local>", f"<outbox-{rows[1].id}@abode.local>"]
    link = f"{SITE}/bookings/{booking.id}"
    html, text = for_guest.part("html"), for_guest.part("plain")
    assert f'href="{link}"' in html and link in text
    assert "Sea cabin &amp; &lt;b&gt;view&lt;/b&gt;" in html and "<b>view</b>" not in html  # escaped
    assert "Hana &lt;Host&gt;" in html and "Hi Gus Guest," in text
    assert f"{CHECK_IN} to {CHECK_IN + timedelta(days=3)} (3 night(s))" in text
    unsubscribe = for_guest.message["List-Unsubscribe"]
    assert unsubscribe.startswith(f"<{SITE}/notifications/unsubscribe/") and unsubscribe.endswith(">")
    assert for_guest.message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert f"\r\nList-Unsubscribe: {unsubscribe}\r\n".encode() in for_guest.raw  # as is: no encoded word, no fold
    assert unsubscribe[1:-1] in text and unsubscribe[1:-1] in html
    assert [(row.status, row.attempts, row.last_error) for row in rows] == [("sent", 1, None), ("sent", 1, None)]
    assert all(row.sent_at is not None for row in rows)
    assert deliver_due().sent == 0 and len(smtp_server.emails) == 2  # nothing is sent twice


def test_with_the_inline_queue_the_email_is_sent_by_a_thread_once_the_change_commits(make_app, smtp_server):
    mail_app(make_app, smtp_server, MAIL_QUEUE="inline")
    _booking, _guest, host = paid_booking(instant_book=False)  # returns without waiting for the email
    assert wait_for_inline()
    assert [email.rcpt_tos for email in smtp_server.wait_for(1)] == [[host.email]]
    assert smtp_server.emails[0].message["Subject"] == "New booking request for Sea cabin & <b>view</b>"
    assert [row.status for row in outbox()] == ["sent"]


def test_a_refused_email_is_tried_again_after_growing_waits_and_then_sent(make_app, smtp_server):
    mail_app(make_app, smtp_server)
    paid_booking(instant_book=False)
    smtp_server.refusals.extend(["451 4.3.0 Mailbox busy, try later", "451 4.3.0 Still busy"])
    now = utcnow().replace(microsecond=0) + timedelta(seconds=1)  # DATETIME keeps whole seconds
    assert deliver_due(now).retried == 1
    [row] = outbox()
    assert (row.status, row.attempts, row.next_try_at) == ("pending", 1, now + timedelta(minutes=1))
    assert "451" in row.last_error and "Mailbox busy" in row.last_error
    assert deliver_due(now + timedelta(seconds=59)).retried == 0  # not due yet: nothing tried
    second = now + timedelta(minutes=1)
    assert deliver_due(second).retried == 1
    [row] = outbox()
    assert (row.attempts, row.next_try_at) == (2, second + timedelta(minutes=5))
    assert deliver_due(second + timedelta(minutes=5)).sent == 1
    [row] = outbox()
    assert (row.status, row.attempts, row.last_error) == ("sent", 3, None)
    assert len(smtp_server.emails) == 1


def test_after_the_last_try_the_email_is_failed_and_listed_for_admins(make_app, smtp_server):
    app = mail_app(make_app, smtp_server, MAIL_RETRY_MINUTES=(1, 2))
    paid_booking(instant_book=False)
    smtp_server.refusals.extend(["554 5.7.1 Rejected"] * 3)
    now = utcnow().replace(microsecond=0) + timedelta(seconds=1)  # DATETIME keeps whole seconds
    outcomes = [deliver_due(now + timedelta(minutes=minutes)) for minutes in (0, 1, 3, 10)]
    assert [(done.retried, done.failed) for done in outcomes] == [(1, 0), (1, 0), (0, 1), (0, 0)]
    [row] = outbox()
    assert (row.status, row.attempts) == ("failed", 3) and "554" in row.last_error
    listing = app.test_cli_runner().invoke(args=["mail", "failed"])
    assert listing.exit_code == 0 and f"{row.id}" in listing.output and "SMTP 554 5.7.1 Rejected" in listing.output
    assert "1 failed email(s)" in listing.output
    assert smtp_server.emails == []


def test_a_server_that_does_not_answer_is_retried_like_a_refusal_and_ends_the_pass(make_app):
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    make_app(MAIL_SERVER="127.0.0.1", MAIL_PORT=port, MAIL_SUPPRESS_SEND=False, MAIL_TRANSPORT="smtp", MAIL_TIMEOUT=5)
    paid_booking()  # two emails
    assert deliver_due().retried == 1  # the second is not tried against a server that is down
    first, second = outbox()
    assert first.status == "pending" and first.attempts == 1 and "ConnectionRefusedError" in first.last_error
    assert (second.status, second.attempts, second.last_error) == ("pending", 0, None)


def test_turning_a_type_off_stops_its_emails_even_those_already_queued(make_app, smtp_server):
    mail_app(make_app, smtp_server)
    guest = make_user(name="Gus Guest")
    set_email_preferences(guest, {"booking_confirmed": False})
    db.session.commit()
    _booking, _guest, host = paid_booking(guest=guest)  # the guest's email is never queued
    assert [row.user_id for row in outbox()] == [host.id]
    set_email_preferences(host, {"booking_confirmed": False})  # turned off after it was queued
    db.session.commit()
    done = deliver_due()
    assert (done.sent, done.skipped) == (0, 1) and smtp_server.emails == []
    [row] = outbox()
    assert row.status == "sent" and row.sent_at is None and "turned booking_confirmed emails off" in row.last_error


def test_a_suspended_account_gets_no_email(make_app, smtp_server):
    mail_app(make_app, smtp_server)
    _booking, _guest, host = paid_booking(instant_book=False)
    host.is_active = False
    db.session.commit()
    assert deliver_due().skipped == 1 and smtp_server.emails == []
    [row] = outbox()
    assert row.status == "failed" and "suspended" in row.last_error


def test_the_unsubscribe_link_asks_first_then_turns_that_type_off_without_login(make_app, smtp_server):
    app = mail_app(make_app, smtp_server)
    _booking, guest, _host = paid_booking()
    deliver_due()
    header = smtp_server.wait_for(2)[0].message["List-Unsubscribe"]
    path = header[1:-1].removeprefix(SITE)
    client = app.test_client()
    page = client.get(path)
    assert page.status_code == 200 and "Stop these emails?" in text_of(page) and "confirmed bookings" in text_of(page)
    assert email_preferences(guest)["booking_confirmed"] is True  # a GET (a link scanner) changes nothing
    done = client.post(path)  # the page's button: no CSRF token, no login
    assert done.status_code == 200 and "You are unsubscribed" in text_of(done)
    db.session.expire_all()
    prefs = email_preferences(guest)
    assert prefs["booking_confirmed"] is False and prefs["booking_canceled"] is True


def test_a_mail_program_unsubscribes_with_the_one_click_post(make_app, smtp_server):
    app = mail_app(make_app, smtp_server)
    _booking, _guest, host = paid_booking()
    deliver_due()
    header = smtp_server.wait_for(2)[1].message["List-Unsubscribe"]
    response = app.test_client().post(header[1:-1].removeprefix(SITE), data={"List-Unsubscribe": "One-Click"})
    assert response.status_code == 200
    db.session.expire_all()
    assert email_preferences(host)["booking_confirmed"] is False


def test_a_forged_or_damaged_unsubscribe_link_is_refused_with_a_clear_page(make_app, smtp_server):
    app = mail_app(make_app, smtp_server)
    user = make_user()
    client = app.test_client()
    from itsdangerous import URLSafeSerializer

    forged = URLSafeSerializer("not-the-secret", salt="abode.notifications.unsubscribe").dumps({"u": user.id,
                                                                                               "t": "payout_paid"})
    for token in (forged, "garbage", forged[:-3]):
        for response in (client.get(f"/notifications/unsubscribe/{token}"),
                         client.post(f"/notifications/unsubscribe/{token}")):
            assert response.status_code == 400 and "This link does not work" in text_of(response)
    with app.test_request_context():
        from app.blueprints.notifications.emails import unsubscribe_token

        gone = unsubscribe_token(user.id + 1000, "payout_paid")
        wrong_type = URLSafeSerializer(app.config["SECRET_KEY"], salt="abode.notifications.unsubscribe").dumps(
            {"u": user.id, "t": "everything"})
    assert client.post(f"/notifications/unsubscribe/{gone}").status_code == 404
    assert client.post(f"/notifications/unsubscribe/{wrong_type}").status_code == 400
    assert all(email_preferences(user).values())


def test_jobs_run_due_delivers_what_the_outbox_holds(make_app, smtp_server):
    app = mail_app(make_app, smtp_server)
    paid_booking()
    run = app.test_cli_runner().invoke(args=["jobs", "run-due"])
    assert run.exit_code == 0 and "2 email(s) sent, 0 to retry, 0 failed, 0 skipped" in run.output, run.output
    assert len(smtp_server.wait_for(2)) == 2
    again = app.test_cli_runner().invoke(args=["jobs", "run-due"])
    assert "0 email(s) sent" in again.output and len(smtp_server.emails) == 2


def test_in_development_without_redis_emails_are_eml_files_in_the_instance_folder(make_app, tmp_path, caplog):
    app = make_app()
    with caplog.at_level(logging.INFO, logger="app.mail_transport"):
        development = create_app(DevelopmentConfig, REDIS_URL=None,
                                 SQLALCHEMY_DATABASE_URI=app.config["SQLALCHEMY_DATABASE_URI"])
    assert development.config["MAIL_TRANSPORT"] == "file" and development.config["MAIL_QUEUE"] == "inline"
    assert development.config["MAIL_FILE_DIR"].endswith("instance/mail")
    assert "emails are written to" in caplog.text
    with development.app_context():
        db.engine.dispose()
    folder = tmp_path / "mail"
    make_app(MAIL_TRANSPORT="file", MAIL_FILE_DIR=str(folder), MAIL_QUEUE="inline", SITE_URL=SITE)
    booking, guest, _host = paid_booking()
    assert wait_for_inline()
    files = sorted(folder.glob("*.eml"))
    assert len(files) == 2 and [row.status for row in outbox()] == ["sent", "sent"]
    first = message_from_bytes(files[0].read_bytes(), policy=policy.default)
    assert first["To"] == guest.email and first["Message-ID"] == f"<outbox-{outbox()[0].id}@abode.local>"
    assert f"{SITE}/bookings/{booking.id}" in first.get_body(preferencelist=("plain",)).get_content()


def test_every_notification_type_has_an_email_with_its_title_and_the_page_it_is_about(make_app, smtp_server):
    from app.blueprints.notifications.services import notify
    from app.models import NOTIFICATION_TYPES

    mail_app(make_app, smtp_server)
    user = make_user(name="Ann <Reader>")
    money = {"amount": 12550, "currency": "EUR"}
    data = {"booking_id": 7, "listing_id": 3, "listing_title": "Loft <i>", "check_in": "2031-05-10",
            "check_out": "2031-05-13", "nights": 3, "guests": 2, "guest_name": "Gus", "host_name": "Hana",
            "role": "guest", "canceled_by": "host", "refund": money, "amount": money, "payment_id": 5,
            "payout_id": 6, "review_id": 8, "rating": 4, "author_name": "Gus"}
    notes = [notify(user, type_, data) for type_ in NOTIFICATION_TYPES]
    db.session.commit()
    assert deliver_due().sent == len(NOTIFICATION_TYPES) == 12
    for note, email in zip(notes, smtp_server.wait_for(12), strict=True):
        link = SITE + note.data["url"]
        assert email.message["Subject"] == note.title and email.rcpt_tos == [user.email]
        assert f'href="{link}"' in email.part("html") and link in email.part("plain"), note.type
        assert "Ann &lt;Reader&gt;" in email.part("html") and "<i>" not in email.part("html")
        assert note.body in email.part("plain")
    by_type = {note.type: email for note, email in zip(notes, smtp_server.emails, strict=True)}
    assert "€125.50" in by_type["payout_paid"].part("plain") and "4/5" in by_type["review_received"].part("plain")
    assert "Refund" in by_type["booking_canceled"].part("plain")
    assert "cannot be booked until Abode restores it" in by_type["listing_unpublished"].part("plain")


@pytest.mark.skipif(not os.environ.get("TEST_DATABASE_URL", "").startswith("mysql"),
                    reason="a race needs MariaDB (SQLite runs one writer at a time)")
def test_unsubscribing_twice_at_once_answers_both_and_leaves_one_preference_row(app):
    """A double click, or a mail program's one-click POST beside the reader's own: both are 200, nothing fails on
    the preference row's key."""
    from app.blueprints.notifications.emails import unsubscribe_token
    from app.models import NotificationPreference

    for round_ in range(4):
        user = make_user(email=f"twice{round_}@example.com")
        db.session.commit()
        path = f"/notifications/unsubscribe/{unsubscribe_token(user.id, 'booking_confirmed')}"
        start, answers = threading.Barrier(4), []

        def click(start=start, answers=answers, path=path):
            start.wait(10)
            answers.append(app.test_client().post(path).status_code)

        threads = [threading.Thread(target=click) for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(30)
        assert answers == [200] * 4
        db.session.expire_all()
        assert db.session.query(NotificationPreference).filter_by(user_id=user.id).count() == 1
        assert email_preferences(user)["booking_confirmed"] is False
