"""Browser tests: Playwright for Python driving Debian's Chromium (never a downloaded browser) against
the live server on the test database. Screenshots of each main page go to ``artifacts/e2e/``."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from django.conf import settings

# Playwright's sync API keeps an event loop in this thread; the tests' own ORM calls are still plain
# synchronous calls, which Django would otherwise refuse next to a running loop.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

ROOT = Path(__file__).resolve().parent.parent.parent
ARTIFACTS = Path(os.environ.get("E2E_ARTIFACTS", ROOT / "artifacts" / "e2e"))
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
]


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        pytest.fail(f"Chromium not found at {CHROMIUM}: apt-get install chromium (or set CHROMIUM)")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS, headless=True)
        yield browser
        browser.close()


@pytest.fixture
def page_as(browser, live_server):
    """``page_as(user)`` → a browser page signed in as ``user`` (each with its own session)."""
    from django.test import Client

    contexts = []

    def make(user):
        client = Client()
        client.force_login(user)
        context = browser.new_context(viewport={"width": 1400, "height": 900}, locale="zh-CN")
        context.add_cookies(
            [
                {
                    "name": settings.SESSION_COOKIE_NAME,
                    "value": client.cookies[settings.SESSION_COOKIE_NAME].value,
                    "url": live_server.url,
                }
            ]
        )
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(15_000)
        page.base = live_server.url
        return page

    yield make
    for context in contexts:
        context.close()


def shot(page, name: str) -> None:
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)
