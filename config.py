"""Configuration classes: the only module that reads os.environ (names fixed by OPERATIONS.md)."""

from __future__ import annotations

import json
import os
import secrets
from datetime import timedelta
from pathlib import Path

from dotenv import load_dotenv

BASE_DIR = Path(__file__).resolve().parent
load_dotenv(BASE_DIR / ".env")

DEV_SECRET = "dev-only-secret-key-change-me"
DEV_JWT_SECRET = "dev-only-jwt-secret-key-change-me-32b"
DEV_DATA_KEY = "dev-only-data-encryption-key"


def _bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _int(name: str, default: int) -> int:
    value = os.environ.get(name)
    return int(value) if value not in (None, "") else default


class Config:
    """Settings shared by every environment; each reads its OPERATIONS.md variable."""

    ENV_NAME = "base"
    SECRET_KEY = os.environ.get("SECRET_KEY", DEV_SECRET)
    JWT_SECRET_KEY = os.environ.get("JWT_SECRET_KEY", DEV_JWT_SECRET)
    DATA_ENCRYPTION_KEY = os.environ.get("DATA_ENCRYPTION_KEY", DEV_DATA_KEY)

    # None means "<instance folder>/abode.db", resolved by the factory once the instance path is known.
    SQLALCHEMY_DATABASE_URI = os.environ.get("DATABASE_URL") or None
    SQLALCHEMY_ENGINE_OPTIONS = {"pool_pre_ping": True, "pool_recycle": 280}
    SQLALCHEMY_TRACK_MODIFICATIONS = False

    REDIS_URL = os.environ.get("REDIS_URL") or None

    JWT_ACCESS_TOKEN_EXPIRES = timedelta(minutes=_int("JWT_ACCESS_MINUTES", 15))
    JWT_REFRESH_TOKEN_EXPIRES = timedelta(days=_int("JWT_REFRESH_DAYS", 30))
    JWT_TOKEN_LOCATION = ["headers"]
    JWT_ERROR_MESSAGE_KEY = "message"

    # Browser sessions: signed cookies, so any app process can serve any request.
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    REMEMBER_COOKIE_HTTPONLY = True
    # Strict-Transport-Security's max-age, sent by ProductionConfig only (0: none); a year by default.
    HSTS_SECONDS = _int("HSTS_SECONDS", 365 * 86400)
    REMEMBER_COOKIE_SAMESITE = "Lax"
    WTF_CSRF_ENABLED = True
    WTF_CSRF_TIME_LIMIT = None

    # Uploads: a request may carry one 10 MiB listing photo plus form fields.
    STORAGE_BACKEND = os.environ.get("STORAGE_BACKEND", "local")
    UPLOAD_FOLDER = os.environ.get("UPLOAD_FOLDER", str(BASE_DIR / "uploads"))
    S3_BUCKET = os.environ.get("S3_BUCKET")
    S3_ENDPOINT_URL = os.environ.get("S3_ENDPOINT_URL") or None
    S3_REGION = os.environ.get("AWS_DEFAULT_REGION", "us-east-1")
    MAX_CONTENT_LENGTH = 11 * 1024 * 1024
    AVATAR_MAX_BYTES = 5 * 1024 * 1024
    LISTING_IMAGE_MAX_BYTES = 10 * 1024 * 1024
    IMAGE_MAX_PIXELS = 40_000_000  # larger decoded images are treated as decompression bombs
    # The long edge an upload is kept at (larger ones are scaled down before they are stored): a listing photo is
    # shown at most about 1300 px wide (2x for dense screens), an avatar at 72 px.
    LISTING_IMAGE_MAX_EDGE = _int("LISTING_IMAGE_MAX_EDGE", 2560)
    AVATAR_MAX_EDGE = _int("AVATAR_MAX_EDGE", 512)

    PAYMENT_PROVIDER = os.environ.get("PAYMENT_PROVIDER", "fake")
    STRIPE_SECRET_KEY = os.environ.get("STRIPE_SECRET_KEY")
    STRIPE_PUBLISHABLE_KEY = os.environ.get("STRIPE_PUBLISHABLE_KEY")  # Stripe Elements on the checkout page
    STRIPE_WEBHOOK_SECRET = os.environ.get("STRIPE_WEBHOOK_SECRET")
    STRIPE_API_BASE = os.environ.get("STRIPE_API_BASE")
    PAYPAL_CLIENT_ID = os.environ.get("PAYPAL_CLIENT_ID")
    PAYPAL_CLIENT_SECRET = os.environ.get("PAYPAL_CLIENT_SECRET")
    PAYPAL_API_BASE = os.environ.get("PAYPAL_API_BASE")
    PAYPAL_WEBHOOK_ID = os.environ.get("PAYPAL_WEBHOOK_ID")  # the webhook PayPal signs deliveries for

    MAIL_SERVER = os.environ.get("MAIL_SERVER", "127.0.0.1")
    MAIL_PORT = _int("MAIL_PORT", 25)
    MAIL_USERNAME = os.environ.get("MAIL_USERNAME")
    MAIL_PASSWORD = os.environ.get("MAIL_PASSWORD")
    MAIL_USE_TLS = _bool("MAIL_USE_TLS", False)
    MAIL_DEFAULT_SENDER = os.environ.get("MAIL_DEFAULT_SENDER", "Abode <no-reply@abode.local>")
    # "smtp" sends through MAIL_SERVER; "file" writes each email as an .eml file under MAIL_FILE_DIR. Unset: "file"
    # in development without REDIS_URL (a newcomer opens what the site sent), "smtp" otherwise.
    MAIL_TRANSPORT = os.environ.get("MAIL_TRANSPORT") or None
    MAIL_FILE_DIR = os.environ.get("MAIL_FILE_DIR") or None  # None: <instance folder>/mail
    # How a committed email reaches a deliverer: "celery" (a task on REDIS_URL's queue), "inline" (delivered by a
    # thread of the committing process, which does not wait for it) or "none" (it waits for `jobs run-due`, e.g.
    # from cron). None: "celery" with REDIS_URL, "inline" without.
    MAIL_QUEUE = os.environ.get("MAIL_QUEUE") or None
    # Emails a deliverer claims, sends and records per transaction: fewer commits, but after a crash between the
    # server's acceptance and the commit, up to this many are sent once more (with the same Message-ID).
    MAIL_BATCH_SIZE = _int("MAIL_BATCH_SIZE", 10)
    MAIL_TIMEOUT = _int("MAIL_TIMEOUT", 30)  # seconds an SMTP connect, command or send may take
    # Waits between tries of an email the SMTP server refused or did not answer; after the last, it is failed.
    MAIL_RETRY_MINUTES = tuple(int(m) for m in os.environ.get("MAIL_RETRY_MINUTES", "1,5,30,120,720").split(","))
    # The absolute address of the site, for the links in emails (they are written without a request).
    SITE_URL = os.environ.get("SITE_URL", "http://127.0.0.1:5000").rstrip("/")

    GOOGLE_CLIENT_ID = os.environ.get("GOOGLE_CLIENT_ID")
    GOOGLE_CLIENT_SECRET = os.environ.get("GOOGLE_CLIENT_SECRET")
    FACEBOOK_CLIENT_ID = os.environ.get("FACEBOOK_CLIENT_ID")
    FACEBOOK_CLIENT_SECRET = os.environ.get("FACEBOOK_CLIENT_SECRET")
    OAUTH_GOOGLE_METADATA_URL = os.environ.get(
        "OAUTH_GOOGLE_METADATA_URL", "https://accounts.google.com/.well-known/openid-configuration"
    )
    # Extra audiences accepted in ID tokens posted by the mobile apps (their Android/iOS client ids); the web
    # client id (GOOGLE_CLIENT_ID) is always accepted.
    GOOGLE_MOBILE_CLIENT_IDS = tuple(
        name.strip() for name in os.environ.get("GOOGLE_MOBILE_CLIENT_IDS", "").split(",") if name.strip())
    OAUTH_FACEBOOK_AUTHORIZE_URL = os.environ.get(
        "OAUTH_FACEBOOK_AUTHORIZE_URL", "https://www.facebook.com/v19.0/dialog/oauth")
    OAUTH_FACEBOOK_TOKEN_URL = os.environ.get(
        "OAUTH_FACEBOOK_TOKEN_URL", "https://graph.facebook.com/v19.0/oauth/access_token")
    OAUTH_FACEBOOK_API_BASE = os.environ.get("OAUTH_FACEBOOK_API_BASE", "https://graph.facebook.com/v19.0/")

    # How many proxies (load balancers) stand in front of the app; their X-Forwarded-* headers are then trusted,
    # so rate limits and logs see the client's address, not the balancer's.
    PROXY_COUNT = _int("PROXY_COUNT", 0)

    RATELIMIT_ENABLED = _bool("RATELIMIT_ENABLED", True)
    RATELIMIT_HEADERS_ENABLED = True
    # Failed logins allowed per email and per client address before 429.
    LOGIN_FAILURE_LIMIT = os.environ.get("LOGIN_FAILURE_LIMIT", "5 per 15 minutes")
    LOGIN_ADDRESS_FAILURE_LIMIT = os.environ.get("LOGIN_ADDRESS_FAILURE_LIMIT", "20 per 15 minutes")
    AUTH_RATE_LIMIT = os.environ.get("AUTH_RATE_LIMIT", "30 per minute")
    # Writes per account (the API and the pages share each budget) and searches per address: app/rate_limits.py.
    BOOKING_RATE_LIMIT = os.environ.get("BOOKING_RATE_LIMIT", "10 per minute; 100 per day")
    PAYMENT_RATE_LIMIT = os.environ.get("PAYMENT_RATE_LIMIT", "10 per minute; 100 per day")
    REVIEW_RATE_LIMIT = os.environ.get("REVIEW_RATE_LIMIT", "10 per minute")
    UPLOAD_RATE_LIMIT = os.environ.get("UPLOAD_RATE_LIMIT", "60 per minute")
    LISTING_RATE_LIMIT = os.environ.get("LISTING_RATE_LIMIT", "20 per minute")
    SEARCH_RATE_LIMIT = os.environ.get("SEARCH_RATE_LIMIT", "300 per minute")
    # Once an email has used up LOGIN_FAILURE_LIMIT, its sign-in is held for the limit's period, twice that after the
    # next exhausted budget, and so on up to this many hours (a client that signed in to it before is not held).
    LOGIN_HOLD_MAX_HOURS = _int("LOGIN_HOLD_MAX_HOURS", 24)
    KNOWN_DEVICE_DAYS = _int("KNOWN_DEVICE_DAYS", 365)  # lifetime of the signed "signed in here before" cookie
    PASSWORD_RESET_MINUTES = _int("PASSWORD_RESET_MINUTES", 60)  # a reset link works once, this long
    # Reset emails asked for, per email and per client address.
    PASSWORD_RESET_EMAIL_LIMIT = os.environ.get("PASSWORD_RESET_EMAIL_LIMIT", "3 per hour")
    PASSWORD_RESET_ADDRESS_LIMIT = os.environ.get("PASSWORD_RESET_ADDRESS_LIMIT", "10 per hour")

    LOG_LEVEL = os.environ.get("LOG_LEVEL", "INFO")
    LOG_FORMAT = os.environ.get("LOG_FORMAT", "text")

    # Bookings: the guest service fee as a percentage of nights + cleaning fee; how long a booking may stay
    # unpaid, and how long a paid request-to-book waits for its host, before it expires.
    SERVICE_FEE_PERCENT = os.environ.get("SERVICE_FEE_PERCENT", "12")
    BOOKING_PAYMENT_MINUTES = _int("BOOKING_PAYMENT_MINUTES", 30)
    BOOKING_APPROVAL_HOURS = _int("BOOKING_APPROVAL_HOURS", 24)

    # Live notification streams (GET /api/v1/notifications/stream): how many one process holds open (a thread
    # each under gunicorn's gthread worker), how often an idle one sends a heartbeat comment, how long one lasts
    # before the server ends it (the client reconnects with Last-Event-ID, so workers recycle), and the
    # reconnection delay suggested to clients.
    NOTIFICATION_STREAMS_PER_PROCESS = _int("NOTIFICATION_STREAMS_PER_PROCESS", 200)
    NOTIFICATION_STREAM_HEARTBEAT_SECONDS = float(os.environ.get("NOTIFICATION_STREAM_HEARTBEAT_SECONDS") or 15)
    NOTIFICATION_STREAM_MAX_SECONDS = float(os.environ.get("NOTIFICATION_STREAM_MAX_SECONDS") or 300)
    NOTIFICATION_STREAM_RETRY_MS = _int("NOTIFICATION_STREAM_RETRY_MS", 3000)

    BOOTSTRAP_SERVE_LOCAL = True
    BOOTSTRAP_BTN_STYLE = "primary"
    DEFAULT_CURRENCY = "USD"
    LANGUAGES = ["en", "es", "fr", "de", "it", "pt", "ja", "zh"]

    @classmethod
    def init_app(cls, app) -> None:
        """Hook for environment-specific checks; the base class has none."""


DEV_KEY_NAMES = ("SECRET_KEY", "JWT_SECRET_KEY", "DATA_ENCRYPTION_KEY")


class DevelopmentConfig(Config):
    """Local development (`make run`, or an explicit APP_CONFIG=development): embedded SQLite and in-process
    services by default, and signing keys of its own, generated on first start into <instance>/secrets.json."""

    ENV_NAME = "development"
    DEBUG = False
    DEV_SECRETS_FILE = os.environ.get("DEV_SECRETS_FILE") or None  # None: <instance folder>/secrets.json

    @classmethod
    def init_app(cls, app) -> None:
        """Replace each built-in key that the environment did not set with this checkout's own: a session or token
        forged with the committed defaults signs in nowhere. Data encrypted under the built-in data key (a
        database seeded before the keys existed) stays readable: that key follows the generated one, and
        `flask --app wsgi keys rotate` moves it under the new key."""
        builtin = {"SECRET_KEY": DEV_SECRET, "JWT_SECRET_KEY": DEV_JWT_SECRET, "DATA_ENCRYPTION_KEY": DEV_DATA_KEY}
        if all(app.config.get(name) != value for name, value in builtin.items()):
            return
        own = load_dev_secrets(Path(app.config.get("DEV_SECRETS_FILE") or Path(app.instance_path) / "secrets.json"))
        for name, value in builtin.items():
            if app.config.get(name) == value:
                app.config[name] = f"{own[name]},{DEV_DATA_KEY}" if name == "DATA_ENCRYPTION_KEY" else own[name]


def load_dev_secrets(path: Path) -> dict[str, str]:
    """The keys in `path` (JSON), written first with fresh random keys, readable by its owner only (0600)."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        keys = {name: secrets.token_urlsafe(48) for name in DEV_KEY_NAMES}
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:  # another process wrote it first: use theirs
            pass
        else:
            with os.fdopen(fd, "w") as out:
                json.dump(keys, out, indent=2)
    return json.loads(path.read_text())


class TestingConfig(Config):
    """The test suite: MariaDB/Redis when TEST_DATABASE_URL/REDIS_URL are set, SQLite otherwise."""

    ENV_NAME = "testing"
    TESTING = True
    SQLALCHEMY_DATABASE_URI = os.environ.get("TEST_DATABASE_URL") or "sqlite://"
    RATELIMIT_ENABLED = False
    # Nothing is sent unless a test (or a worker it starts) points MAIL_SERVER/MAIL_PORT at a local SMTP server.
    MAIL_SUPPRESS_SEND = _bool("MAIL_SUPPRESS_SEND", True)
    # Emails wait in the outbox until a test delivers them (deliver_due, jobs run-due) or asks for a hand-over.
    MAIL_QUEUE = "none"
    SERVER_NAME = None


class ProductionConfig(Config):
    """Production: real secrets and a real database or nothing."""

    ENV_NAME = "production"
    LOG_FORMAT = os.environ.get("LOG_FORMAT", "json")
    SESSION_COOKIE_SECURE = True
    REMEMBER_COOKIE_SECURE = True

    @classmethod
    def init_app(cls, app) -> None:
        """Refuse to start with a development secret or an SQLite database."""
        problems = []
        defaults = {"SECRET_KEY": DEV_SECRET, "JWT_SECRET_KEY": DEV_JWT_SECRET, "DATA_ENCRYPTION_KEY": DEV_DATA_KEY}
        for name, default in defaults.items():
            value = app.config.get(name)
            if not value or value == default:
                problems.append(f"{name} must be set to a real secret")
        uri = app.config.get("SQLALCHEMY_DATABASE_URI") or ""
        if not os.environ.get("DATABASE_URL") or uri.startswith("sqlite"):
            problems.append("DATABASE_URL must point at MySQL/MariaDB, not SQLite")
        if problems:
            hint = "" if os.environ.get("APP_CONFIG") else (
                " (APP_CONFIG is unset, which means production; on a workstation use `make run` or"
                " APP_CONFIG=development)")
            raise RuntimeError("Refusing to start in production: " + "; ".join(problems) + hint)


CONFIGS = {"development": DevelopmentConfig, "testing": TestingConfig, "production": ProductionConfig}


def config_from_env() -> type[Config]:
    """Return the config class that APP_CONFIG names (development when unset, as the operations contract says).
    Development never signs with the committed keys: it generates its own into the instance folder, so a server
    started without APP_CONFIG (gunicorn wsgi:app) trusts no key anyone could read in config.py."""
    name = os.environ.get("APP_CONFIG") or "development"
    try:
        return CONFIGS[name]
    except KeyError:
        raise RuntimeError(f"APP_CONFIG must be one of {sorted(CONFIGS)}, not {name!r}") from None
