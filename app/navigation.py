"""Where a page sends the browser next: the one check that a ?next= or posted `next` stays on this site."""

from __future__ import annotations

from urllib.parse import urlsplit


def safe_next(target: str | None, default: str) -> str:
    """`target` when it is a path on this site, else `default` (no open redirects: '//evil', '/\\evil', 'https://...')."""
    if not target or "\\" in target or any(ord(char) < 32 for char in target):
        return default  # browsers read "/\\evil.example" as "//evil.example", and drop tabs and newlines
    parts = urlsplit(target)
    if target.startswith("/") and not target.startswith("//") and not parts.netloc and not parts.scheme:
        return target
    return default
