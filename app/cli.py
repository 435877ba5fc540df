"""Flask commands (OPERATIONS.md): seed, users create-admin, jobs run-due."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

import click
from faker import Faker
from flask import Flask
from flask.cli import AppGroup

from .blueprints.auth import services as accounts
from .errors import DomainError

logger = logging.getLogger(__name__)

DEMO_PASSWORD = "abode-demo-2026"
DEMO_USERS = [
    ("admin@example.com", "Ada Admin", "admin"),
    ("host@example.com", "Hana Host", "host"),
    ("host2@example.com", "Hugo Host", "host"),
    ("guest@example.com", "Gil Guest", "guest"),
    ("guest2@example.com", "Greta Guest", "guest"),
]

users_cli = AppGroup("users", help="Manage accounts.")
jobs_cli = AppGroup("jobs", help="Scheduled work.")


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


def _seed_user(email: str, name: str, role: str):
    existing = accounts.find_user_by_email(email)
    if existing is not None:
        return existing, False
    if role == "admin":
        return accounts.create_admin(email=email, password=DEMO_PASSWORD, name=name), True
    return accounts.register_user(email=email, password=DEMO_PASSWORD, name=name, role=role), True


@click.command("seed")
@click.option("--users", "extra_users", default=0, show_default=True, help="Extra random guests to create.")
def seed(extra_users: int) -> None:
    """Load demo data and print the demo logins; running it again adds nothing twice."""
    created = 0
    for email, name, role in DEMO_USERS:
        created += _seed_user(email, name, role)[1]
    fake = Faker()
    Faker.seed(2026)
    for n in range(extra_users):
        created += _seed_user(f"guest{n + 3}@example.com", fake.name(), "guest")[1]
    click.echo(f"Seeded {created} new user(s). Demo logins (password: {DEMO_PASSWORD}):")
    for email, _name, role in DEMO_USERS:
        click.echo(f"  {role:<6} {email}")


@jobs_cli.command("run-due")
@click.option("--now", "now_text", default=None, help="ISO-8601 instant to run as (default: the real time).")
def run_due(now_text: str | None) -> None:
    """Run every job that is due: today, purging expired tokens. Idempotent."""
    try:
        now = datetime.fromisoformat(now_text.replace("Z", "+00:00")) if now_text else datetime.now(UTC)
        if now.tzinfo is None:
            now = now.replace(tzinfo=UTC)
    except ValueError:
        raise click.BadParameter("use ISO 8601, e.g. 2027-03-01T12:00:00Z", param_hint="--now") from None
    from .blueprints.auth.tokens import purge_expired

    removed = purge_expired(now.astimezone(UTC).replace(tzinfo=None))
    click.echo(f"jobs run at {now.isoformat()}: purged {removed} expired token row(s)")


def register_cli(app: Flask) -> None:
    """Add Abode's commands to `flask`."""
    app.cli.add_command(users_cli)
    app.cli.add_command(jobs_cli)
    app.cli.add_command(seed)
