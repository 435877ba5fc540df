"""Driving the HTML pages from tests: forms with their CSRF token, a second signed-in browser, a page's text."""

from __future__ import annotations

import html
import re

from flask import g
from flask.testing import FlaskClient

CSRF_INPUT = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


def csrf_token(client: FlaskClient, url: str) -> str:
    """GET a page and return the CSRF token of its form."""
    page = client.get(url)
    match = CSRF_INPUT.search(page.get_data(as_text=True))
    assert match, f"no CSRF token on {url} (status {page.status_code})"
    return match.group(1)


def submit(client: FlaskClient, url: str, data: dict, *, form_url: str | None = None, **kwargs):
    """Post an HTML form the way a browser does: fetch the page for its CSRF token, then post."""
    data = {"csrf_token": csrf_token(client, form_url or url), **data}
    return client.post(url, data=data, **kwargs)


def page_of(response) -> str:
    return response.get_data(as_text=True)


def text_of(response) -> str:
    """The page's visible text, whitespace collapsed (markup and scripts removed)."""
    html = re.sub(r"<(script|style)\b.*?</\1>", " ", page_of(response), flags=re.S)
    return " ".join(re.sub(r"<[^>]+>", " ", html).replace("&#39;", "'").replace("&amp;", "&").split())


def input_value(page: str, name: str) -> str | None:
    match = re.search(rf'<input[^>]*name="{name}"[^>]*value="([^"]*)"', page)
    return match.group(1) if match else None


def another_client(client, login, user):
    """A second browser signed in as `user` (the app context the test pushed keeps the last user in g)."""
    g.pop("_login_user", None)
    g.pop("csrf_token", None)  # Flask-WTF caches the token of the first session there too
    other = client.application.test_client()
    login(other, user)
    return other


ROW_FORM = re.compile(r'<form method="post" action="([^"]+)" class="d-inline row-action" data-action="([^"]+)" '
                      r'data-row="([^"]+)">(.*?)</form>', re.S)
HIDDEN_INPUT = re.compile(r'<input type="hidden" name="([^"]+)" value="([^"]*)">')


def row_button(client: FlaskClient, url: str, action: str, row_id: int) -> tuple[str, dict] | None:
    """The dashboard row button running `action` on row `row_id` of the page at `url`: (where it posts, its
    fields), or None when the page shows no such button."""
    for target, name, row, body in ROW_FORM.findall(page_of(client.get(url))):
        if (name, row) == (action, str(row_id)):
            return html.unescape(target), {key: html.unescape(value) for key, value in HIDDEN_INPUT.findall(body)}
    return None


def press(client: FlaskClient, url: str, action: str, row_id: int, *, csrf: bool = True, **kwargs):
    """Press a row's button on the page at `url` as a browser does (without its CSRF token if `csrf` is False)."""
    found = row_button(client, url, action, row_id)
    assert found, f"no {action!r} button for row {row_id} on {url}"
    target, data = found
    if not csrf:
        data.pop("csrf_token")
    return client.post(target, data=data, **kwargs)
