"""Security headers on every answer, pages and API alike: a Content-Security-Policy without inline script (a
per-request nonce for the few scripts Flask-Admin writes inline), nosniff, no framing, a referrer policy, a
permissions policy, HSTS in production, and a Server header that names no software.

Third-party origins enter the policy only when the feature that needs them is configured: Stripe Elements
(PAYMENT_PROVIDER=stripe with STRIPE_PUBLISHABLE_KEY), S3 images (STORAGE_BACKEND=s3) and the sign-in pages of
Google and Facebook (a form that links a provider is answered by a redirect there). Nothing else is
loaded from outside: Bootstrap, Chart.js and Flask-Admin's assets are served by the app itself.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
from urllib.parse import urlsplit

from flask import Flask, request
from flask.wrappers import Response

NONCE_KEY = "abode.csp_nonce"
STRIPE_SCRIPT = "https://js.stripe.com"
STRIPE_FRAMES = ("https://js.stripe.com", "https://hooks.stripe.com")
STRIPE_API = "https://api.stripe.com"

# Flask-Admin's "Add Filter" items carry onclick="return false;" (bootstrap4/admin/model/layout.html). On the
# dashboard, exactly that handler may run ('unsafe-hashes' with its hash): no other inline handler, no inline script.
ADMIN_INLINE_HANDLERS = ("return false;",)
ADMIN_HANDLER_HASHES = tuple(
    "'sha256-" + base64.b64encode(hashlib.sha256(handler.encode()).digest()).decode() + "'"
    for handler in ADMIN_INLINE_HANDLERS)

PERMISSIONS_POLICY = ("accelerometer=(), camera=(), geolocation=(), gyroscope=(), magnetometer=(), microphone=(), "
                      "payment=(self), usb=(), interest-cohort=()")


def csp_nonce() -> str:
    """This request's script nonce (templates: `nonce="{{ csp_nonce() }}"`; Flask-Admin gets it too). Kept in the
    request's environ: `g` belongs to the app context, which a test may hold open across requests."""
    nonce = request.environ.get(NONCE_KEY)
    if nonce is None:
        nonce = request.environ[NONCE_KEY] = secrets.token_urlsafe(18)
    return nonce


def _origin(url: str) -> str | None:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}" if parts.scheme and parts.netloc else None


def build_policy(config, nonce: str, *, dashboard: bool = False) -> str:
    """The Content-Security-Policy for an app with `config`, for a request whose nonce is `nonce` (`dashboard`: a
    Flask-Admin page under /admin)."""
    scripts, frames, connect, images = ["'self'", f"'nonce-{nonce}'"], [], ["'self'"], ["'self'", "data:"]
    if dashboard:
        scripts.extend(("'unsafe-hashes'", *ADMIN_HANDLER_HASHES))
    if config.get("PAYMENT_PROVIDER") == "stripe" and config.get("STRIPE_PUBLISHABLE_KEY"):
        scripts.append(STRIPE_SCRIPT)
        frames.extend(STRIPE_FRAMES)
        connect.append(STRIPE_API)
    if config.get("STORAGE_BACKEND") == "s3":  # photos are presigned URLs on the bucket's host
        endpoint = config.get("S3_ENDPOINT_URL")
        images.append(_origin(endpoint) if endpoint and _origin(endpoint) else "https://*.amazonaws.com")
    # Linking a provider is a form post answered by a redirect to the provider, which form-action governs too.
    forms = ["'self'"]
    if config.get("GOOGLE_CLIENT_ID") and (origin := _origin(config.get("OAUTH_GOOGLE_METADATA_URL") or "")):
        forms.append(origin)
    if config.get("FACEBOOK_CLIENT_ID") and (origin := _origin(config.get("OAUTH_FACEBOOK_AUTHORIZE_URL") or "")):
        forms.append(origin)
    directives = {
        "default-src": ["'self'"],
        "script-src": scripts,
        # Style attributes and <style> elements are refused too: the templates use classes (abode.css) only.
        "style-src": ["'self'"],
        "img-src": images,
        "font-src": ["'self'", "data:"],
        "connect-src": connect,
        "frame-src": frames or ["'none'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": list(dict.fromkeys(forms)),
        "frame-ancestors": ["'none'"],
    }
    return "; ".join(f"{name} {' '.join(values)}" for name, values in directives.items())


def add_security_headers(response: Response, *, config, production: bool) -> Response:
    """Set the headers on `response` (kept when a view set its own)."""
    headers = response.headers
    dashboard = request.path == "/admin" or request.path.startswith("/admin/")
    headers.setdefault("Content-Security-Policy", build_policy(config, csp_nonce(), dashboard=dashboard))
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("X-Frame-Options", "DENY")
    headers.setdefault("Referrer-Policy", "strict-origin-when-cross-origin")
    headers.setdefault("Permissions-Policy", PERMISSIONS_POLICY)
    if production and config.get("HSTS_SECONDS"):
        headers.setdefault("Strict-Transport-Security", f"max-age={config['HSTS_SECONDS']}; includeSubDomains")
    return response


def _neutral_server_header(_handler) -> str:
    return "Abode"


def hide_development_server_version() -> None:
    """Werkzeug's development server (`flask run`, the tests' live servers) writes `Server: Werkzeug/x Python/y`
    itself, whatever the answer carries, so its handler is told to say "Abode". gunicorn writes a bare "gunicorn",
    with no version, and is left alone: a second Server header would only be added to it."""
    from werkzeug.serving import WSGIRequestHandler

    WSGIRequestHandler.version_string = _neutral_server_header


def init_security_headers(app: Flask) -> None:
    """Add the headers to every answer of `app`, and the nonce to templates."""
    production = app.config.get("ENV_NAME") == "production"
    app.after_request(lambda response: add_security_headers(response, config=app.config, production=production))
    app.jinja_env.globals["csp_nonce"] = csp_nonce
    hide_development_server_version()
