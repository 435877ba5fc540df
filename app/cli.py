"""Flask commands (docs/operations.md): seed, users create-admin, jobs run-due, mail failed, rates, payments,
keys rotate."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

import click
from flask import Flask
from flask.cli import AppGroup

from .blueprints.auth import services as accounts
from .errors import DomainError

logger = logging.getLogger(__name__)

users_cli = AppGroup("users", help="Manage accounts.")
jobs_cli = AppGroup("jobs", help="Scheduled work.")
rates_cli = AppGroup("rates", help="Exchange rates (units of a currency per 1 USD).")
payments_cli = AppGroup("payments", help="Money: the ledger an admin reconciles.")
mail_cli = AppGroup("mail", help="Email: what the outbox could not deliver.")
keys_cli = AppGroup("keys", help="Encryption keys of the data at rest (DATA_ENCRYPTION_KEY).")


@rates_cli.command("set")
@click.argument("code")
@click.argument("rate")
def set_rate(code: str, rate: str) -> None:
    """Set CODE's rate: RATE units of CODE per 1 USD (EUR 0.9 shows USD 100.00 as EUR 90.00). Audited (rate.set,
    actor: the command line)."""
    from . import rates

    try:
        row = rates.set_rate(code, rate, command_line=True)
    except DomainError as exc:
        raise click.ClickException(exc.message) from None
    click.echo(f"1 USD = {row.rate.normalize():f} {row.currency}")


@rates_cli.command("show")
def show_rates() -> None:
    """Print every rate in use."""
    from . import rates

    for code, rate in sorted(rates.current_rates().items()):
        click.echo(f"{code}  {rate.normalize():f}")


@users_cli.command("create-admin")
@click.argument("email")
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True, help="Asked for when not given.")
@click.option("--name", default="Administrator", show_default=True)
def create_admin(email: str, password: str, name: str) -> None:
    """Create an admin account (or promote the account with this email)."""
    try:
        user = accounts.create_admin(email=email, password=password, name=name)
    except DomainError as exc:
        raise click.ClickException(exc.message) from None
    click.echo(f"Admin {user.email} (id {user.id}) is ready.")


@click.command("seed")
@click.option("--listings", "listing_count", default=12, show_default=True, help="Listings the demo hosts should have.")
@click.option("--users", "extra_users", default=0, show_default=True, help="Extra random guests to create.")
def seed(listing_count: int, extra_users: int) -> None:
    """Load demo data and print the demo logins; running it again adds nothing twice."""
    from .seed import DEMO_PASSWORD, DEMO_USERS, seed_bookings, seed_listings, seed_reviews, seed_users

    hosts, new_users = seed_users(extra_users)
    new_listings = seed_listings(hosts, listing_count, photos_per_listing=3 if listing_count <= 50 else 1)
    new_bookings = seed_bookings()
    new_reviews = seed_reviews()
    click.echo(f"Seeded {new_users} new user(s), {new_listings} new listing(s), {new_bookings} new booking(s) "
               f"and {new_reviews} new review(s).")
    click.echo(f"Demo logins (password: {DEMO_PASSWORD}):")
    for email, _name, role in DEMO_USERS:
        click.echo(f"  {role:<6} {email}")


@jobs_cli.command("run-due")
@click.option("--now", "now_text", default=None, help="ISO-8601 instant to run as (default: the real time).")
def run_due(now_text: str | None) -> None:
    """Run every job that is due: expire unpaid or unanswered bookings, complete finished stays, ask the provider
    about payments whose outcome is unknown, send owed refunds and due payouts, purge expired tokens, deliver queued
    email. Idempotent, and safe to run in parallel: every row is claimed before it is acted on."""
    try:
        now = datetime.fromisoformat(now_text.replace("Z", "+00:00")) if now_text else datetime.now(UTC)
        if now.tzinfo is None:
            now = now.replace(tzinfo=UTC)
    except ValueError:
        raise click.BadParameter("use ISO 8601, e.g. 2027-03-01T12:00:00Z", param_hint="--now") from None
    from .jobs import run_due as run_due_jobs

    done = run_due_jobs(now)
    click.echo(f"jobs run at {now.isoformat()}: {done['expired']} booking(s) expired, {done['completed']} stay(s) "
               f"completed, {done['reconciled']} payment(s) reconciled, {done['refunded']} refund(s) sent, "
               f"{done['paid']} payout(s) paid, {done['purged']} expired token row(s) purged, "
               f"{done['emails_sent']} email(s) sent, {done['emails_retried']} to retry, "
               f"{done['emails_failed']} failed, {done['emails_skipped']} skipped")


@payments_cli.command("ledger")
@click.option("--all", "show_all", is_flag=True, help="Print every booking, not only those that do not balance.")
@click.option("--rebuild-revenue", is_flag=True, help="First recompute the per-day revenue rows from the payments.")
def payments_ledger(show_all: bool, rebuild_revenue: bool) -> None:
    """Per booking: charged - refunded - paid out - service fee kept - still held = 0, the payments' own
    `refunded` equals their succeeded refunds, and the per-day revenue rows add up to the ledger's totals. Exits 1
    if anything is off."""
    from .blueprints.payments import ledger, revenue
    from .extensions import db

    if rebuild_revenue:
        click.echo(f"{revenue.rebuild()} revenue row(s) rebuilt")
        db.session.commit()
    lines = ledger.ledger()
    wrong = [line for line in lines if not line.balanced]
    click.echo(f"{'booking':>8} {'cur':>4} {'charged':>10} {'refunded':>10} {'payout':>10} {'fee kept':>10} "
               f"{'held':>10} {'balance':>8} {'recorded':>10}")
    for line in lines if show_all else wrong:
        click.echo(f"{line.booking_id:>8} {line.currency:>4} {line.charged:>10} {line.refunded:>10} {line.payout:>10} "
                   f"{line.fee_kept:>10} {line.held:>10} {line.balance:>8} {line.recorded_refunded:>10}")
    click.echo(f"{len(lines)} booking(s) with payments, {len(wrong)} not balancing")
    expected, counted = ledger.totals(lines), revenue.totals()
    if counted != expected:
        click.echo(f"revenue rows {counted} differ from the ledger {expected}: run with --rebuild-revenue")
    if wrong or counted != expected:
        raise SystemExit(1)


@mail_cli.command("failed")
@click.option("--limit", default=50, show_default=True, help="How many to list, newest first.")
def mail_failed(limit: int) -> None:
    """List the emails that failed for good (after every retry, or skipped for a suspended account)."""
    from .blueprints.notifications.delivery import failed_emails

    rows = failed_emails(limit)
    for row in rows:
        click.echo(f"{row.id:>8}  {row.to_address}  {row.kind}  tries {row.attempts}  "
                   f"last {row.next_try_at:%Y-%m-%d %H:%M}  {row.last_error or ''}")
    click.echo(f"{len(rows)} failed email(s)")


@keys_cli.command("rotate")
def keys_rotate() -> None:
    """Re-encrypt every encrypted column under DATA_ENCRYPTION_KEY's first key (put the new key first, keep the
    old ones after it, run this, then drop the old ones). Exits 1 when some value no configured key opens."""
    from .crypto import rotate_keys

    report = rotate_keys()
    for name in report.rotated:
        unreadable = report.unreadable.get(name, [])
        click.echo(f"{name}: {report.rotated[name]} re-encrypted, {report.current[name]} already under the first "
                   f"key" + (f", {len(unreadable)} unreadable (ids {', '.join(map(str, unreadable[:20]))})"
                             if unreadable else ""))
    if report.unreadable:
        click.echo("Some values open with none of the configured keys: add the key they were written with.")
        raise SystemExit(1)


def register_cli(app: Flask) -> None:
    """Add Abode's commands to `flask`."""
    app.cli.add_command(users_cli)
    app.cli.add_command(jobs_cli)
    app.cli.add_command(rates_cli)
    app.cli.add_command(payments_cli)
    app.cli.add_command(mail_cli)
    app.cli.add_command(keys_cli)
    app.cli.add_command(seed)
