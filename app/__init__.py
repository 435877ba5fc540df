"""Application factory: create_app() wires config, logging, extensions, blueprints, template helpers, errors and
commands."""

from __future__ import annotations

import importlib
from pathlib import Path

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from config import Config, config_from_env

from .extensions import bootstrap, cache, csrf, db, jwt, limiter, login_manager, mail, migrate

# Each feature package under app/blueprints/ exposes `bp` (HTML) and `api_bp` (mounted under /api/v1).
FEATURES = ["main", "auth", "listings", "calendar", "search", "bookings", "payments", "reviews", "notifications",
            "administration"]


def create_app(config_class: type[Config] | None = None, **overrides) -> Flask:
    """Build an Abode app from `config_class` (APP_CONFIG when None), with optional config overrides."""
    app = Flask(__name__, instance_relative_config=True)
    register_config(app, config_class or config_from_env(), overrides)
    from .logging_setup import configure_logging

    configure_logging(app)
    if app.config["PROXY_COUNT"]:
        count = app.config["PROXY_COUNT"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=count, x_proto=count, x_host=count, x_port=count)
    register_extensions(app)
    register_blueprints(app)
    from .templating import register_template_helpers

    register_template_helpers(app)
    from .errors import register_error_handlers

    register_error_handlers(app)
    from .security_headers import init_security_headers

    init_security_headers(app)
    from .admin import init_admin

    init_admin(app)
    from .cli import register_cli

    register_cli(app)
    app.shell_context_processor(lambda: {"db": db})
    from .mail_transport import announce

    announce(app)
    return app


def register_config(app: Flask, config_class: type[Config], overrides: dict) -> None:
    """Load the config class, apply overrides, default the database to the instance folder, run its checks."""
    app.config.from_object(config_class)
    app.config.update(overrides)
    if not app.config.get("SQLALCHEMY_DATABASE_URI"):
        Path(app.instance_path).mkdir(parents=True, exist_ok=True)
        app.config["SQLALCHEMY_DATABASE_URI"] = f"sqlite:///{Path(app.instance_path) / 'abode.db'}"
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        app.config["SQLALCHEMY_ENGINE_OPTIONS"] = {}  # pool options are for server databases
    else:
        # Each statement sees what is committed when it runs, not a snapshot taken at the transaction's first
        # read (MariaDB's default, REPEATABLE READ): a service that has just locked a listing row then reads
        # its bookings, prices and holds as they are. No gap locks either, so neighbouring writers do not
        # deadlock. Double booking stays impossible: night_holds' primary key refuses a second hold.
        app.config["SQLALCHEMY_ENGINE_OPTIONS"] = {"isolation_level": "READ COMMITTED",
                                                   **app.config.get("SQLALCHEMY_ENGINE_OPTIONS", {})}
    redis_url = app.config.get("REDIS_URL")
    # With Redis down the cache misses (logged), rate limits count in process memory until it is back, the token
    # blocklist is read from the database and the OAuth flow state says "down" (docs/operations.md#redis-down).
    app.config.setdefault("CACHE_TYPE", "app.cache_backend.SafeRedisCache" if redis_url else "SimpleCache")
    app.config.setdefault("CACHE_REDIS_URL", redis_url)
    app.config.setdefault("CACHE_KEY_PREFIX", "abode:cache:")
    app.config.setdefault("CACHE_DEFAULT_TIMEOUT", 300)
    app.config.setdefault("RATELIMIT_STORAGE_URI", redis_url or "memory://")
    app.config.setdefault("RATELIMIT_KEY_PREFIX", "abode:limits")
    app.config.setdefault("RATELIMIT_IN_MEMORY_FALLBACK_ENABLED", True)
    if redis_url:  # a Redis that does not answer costs a request 2 seconds at most, then the fallback
        app.config.setdefault("CACHE_OPTIONS", {"socket_connect_timeout": 2, "socket_timeout": 2})
        app.config.setdefault("RATELIMIT_STORAGE_OPTIONS", {"socket_connect_timeout": 2, "socket_timeout": 2})
    from .mail_transport import configure_mail

    configure_mail(app)
    config_class.init_app(app)


def register_extensions(app: Flask) -> None:
    """Bind every extension to the app."""
    from . import models  # noqa: F401  (every table must be known before migrations or create_all)
    from .blueprints.auth.identity import init_identity
    from .blueprints.auth.oauth_web import init_oauth
    from .crypto import render_migration_type
    from .redis_client import init_redis
    from .tasks import celery_init_app

    db.init_app(app)
    migrate.init_app(app, db, render_as_batch=True, compare_type=True, render_item=render_migration_type)
    login_manager.init_app(app)
    jwt.init_app(app)
    csrf.init_app(app)
    limiter.init_app(app)
    cache.init_app(app)
    mail.init_app(app)
    bootstrap.init_app(app)
    init_redis(app)
    init_identity(app)
    init_oauth(app)
    celery_init_app(app)


def register_blueprints(app: Flask) -> None:
    """Register each feature's HTML blueprint and mount its API blueprint under /api/v1 (CSRF-exempt)."""
    from .routing import IdConverter, IdRule

    app.url_rule_class = IdRule
    app.url_map.converters["int"] = IdConverter  # any value of a path id answers 404 or 422 (app/routing.py)
    for feature in FEATURES:
        package = importlib.import_module(f".blueprints.{feature}", __name__)
        app.register_blueprint(package.bp)
        csrf.exempt(package.api_bp)
        app.register_blueprint(package.api_bp, url_prefix="/api/v1")
