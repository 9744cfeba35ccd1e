"""The pages in a real browser: Debian's chromium (`make browser`), driven by Playwright's Python
API, against the local stack (moto in server mode, the local API, every function wired) started
once for the session. Screenshots of each page are kept in out/screenshots/."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path(os.environ.get("CHROMIUM", "/usr/bin/chromium"))
SCREENSHOTS = ROOT / "out" / "screenshots"
# As the machine notes say: no background networking (the sandbox's network is closed), as root.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@dataclass
class LocalSite:
    api_url: str
    names: dict[str, str]
    pipeline: Any

    def order_through(self, order: dict[str, Any]) -> None:
        """The storefront writes a completed order; everything downstream runs until quiet."""
        from infra.local.api_server import AWS_LOCK
        from infra.local.orders import put_order

        with AWS_LOCK:
            put_order(self.names["ORDERS_TABLE_NAME"], order)
            self.pipeline.run_until_quiet()

    def settle(self) -> None:
        from infra.local.api_server import AWS_LOCK

        with AWS_LOCK:
            self.pipeline.run_until_quiet()


@pytest.fixture(scope="session")
def site() -> Iterator[LocalSite]:
    saved = dict(os.environ)
    from infra.local.api_server import start_api_server
    from infra.local.pipeline import LocalPipeline
    from infra.local.runtime import start_local_stack
    from infra.local.vendors import load_vendors, put_vendors
    from invoicing import settings

    os.environ["POWERTOOLS_LOG_LEVEL"] = "ERROR"
    stack = start_local_stack(prefix="pages")
    for name in dir(settings):
        loader = getattr(settings, name)
        if callable(loader) and hasattr(loader, "cache_clear"):
            loader.cache_clear()
    put_vendors(stack.names["VENDORS_TABLE_NAME"], load_vendors(ROOT / "events" / "vendors" / "vendors.json"))
    pipeline = LocalPipeline.start(stack.names)
    server, api_url = start_api_server(int(stack.names["API_PORT"]))
    try:
        yield LocalSite(api_url=api_url, names=stack.names, pipeline=pipeline)
    finally:
        server.shutdown()
        stack.stop()
        os.environ.clear()
        os.environ.update(saved)
        for name in dir(settings):
            loader = getattr(settings, name)
            if callable(loader) and hasattr(loader, "cache_clear"):
                loader.cache_clear()


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    assert CHROMIUM.exists(), f"no {CHROMIUM}: `make browser` installs Debian's chromium"
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        yield launched
        launched.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1100, "height": 900}, accept_downloads=True)
    opened = context.new_page()
    yield opened
    context.close()


def screenshot(page: Any, name: str) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def sign_in(page: Any, site: LocalSite, where: str, account: str) -> None:
    """Through the pages' own sign-in (web/sign-in/oidc.js): the local issuer's page, a test
    account (`role:sub`), and back to the page with a code, which leaves the address at once."""
    page.goto(f"{site.api_url}/{where}/")
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("heading", name="Sign in").wait_for()
    page.locator(f'input[name="account"][value="{account}"]').check()
    page.get_by_role("button", name="Continue").click()
    page.get_by_text("Signed in as").wait_for()
    assert page.url == f"{site.api_url}/{where}/", page.url
