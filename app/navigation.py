"""Where a page sends the browser next: the one check that a ?next= or posted `next` stays on this site."""

from __future__ import annotations

from urllib.parse import urlsplit


def safe_next(target: str | None, default: str) -> str:
    """`target` when it is a path on this site, else `default` (no open redirects: '//evil', 'https://...')."""
    parts = urlsplit(target or "")
    if target and target.startswith("/") and not target.startswith("//") and not parts.netloc and not parts.scheme:
        return target
    return default
