"""A live server and Debian's Chromium driven by Playwright, for tests through a real browser."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from .factories import DEFAULT_PASSWORD
from .local_server import live_server  # noqa: F401 (the browser tests serve the app with it)

CHROMIUM = os.environ.get("CHROMIUM_PATH") or shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = ["--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run", "--no-sandbox"]


def require_chromium() -> None:
    """Skip where Chromium is missing (a laptop); CI installs it, so there the test always runs."""
    if not os.path.exists(CHROMIUM):
        if os.environ.get("CI"):
            pytest.fail(f"Chromium is required in CI but {CHROMIUM} is missing")
        pytest.skip("Chromium is not installed (apt-get install chromium)")


@contextmanager
def browser_page() -> Iterator:
    """A fresh Chromium page (headless)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            page = browser.new_page()
            page.set_default_timeout(10_000)
            yield page
        finally:
            browser.close()


@contextmanager
def chromium() -> Iterator:
    """A headless Chromium browser, for tests that need several contexts (two users side by side)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            yield browser
        finally:
            browser.close()


def sign_in(page, base: str, email: str, password: str = DEFAULT_PASSWORD) -> None:
    """Sign in through the login page in `page` and wait for the home page."""
    page.goto(base + "/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(base + "/")
