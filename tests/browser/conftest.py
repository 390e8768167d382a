"""Headless Chromium for the dashboard's browser tests (Playwright over Debian's chromium).

The browser is Debian's ``/usr/bin/chromium`` (``scripts/browser.sh`` installs
it; ``make test`` runs that first). Playwright's own browser download is never
used: this machine has no internet. A missing Chromium FAILS these tests, it
never skips them, so CI cannot pass without running them.

Every test saves screenshots under ``var/screenshots/`` (the CI artefact
directory) through the ``shot`` fixture, named ``<test>-<step>.png``.

The tests that need the real broker reuse the Kafka fixtures of
``tests/integration/conftest.py`` (imported below) and carry the ``kafka``
marker themselves.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

import pytest
from playwright.sync_api import Browser, ConsoleMessage, Error, Page, Playwright, expect, sync_playwright

from tests.integration import conftest as integration
from tests.integration.conftest import make_worker, receiver, topics

__all__ = ["make_worker", "off_loop", "receiver", "topics"]  # fixtures re-exported

REPO = Path(__file__).resolve().parents[2]
SCREENSHOTS = REPO / "var" / "screenshots"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

Shot = Callable[[Page, str], Path]

# CI runs these beside the whole suite on two shared cores: wait up to 15 s
# for the page to reach a state (the polls are 2 to 10 s apart) before failing.
expect.set_options(timeout=15_000)
T = TypeVar("T")


def off_loop(function: Callable[..., T], *args: Any) -> T:
    """Run ``function`` in a thread of its own and return its result (or raise its error).

    Playwright's sync API keeps an asyncio loop running in the test's thread,
    and the Kafka helpers of tests/integration call ``asyncio.run()``, which
    refuses to start inside a running loop.
    """
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(function, *args).result()


@pytest.fixture(scope="session")
def kafka_bootstrap() -> str:
    """tests/integration's broker check (it fails, never skips), run off Playwright's loop."""
    check: Callable[[], str] = integration.kafka_bootstrap.__wrapped__  # type: ignore[attr-defined]
    return off_loop(check)


def chromium_path() -> str:
    path = os.environ.get("AUDITWATCH_CHROMIUM", "/usr/bin/chromium")
    if not os.access(path, os.X_OK):
        pytest.fail(
            f"Chromium is not installed at {path}: run scripts/browser.sh (make test does), "
            "or point AUDITWATCH_CHROMIUM at a chromium binary. Browser tests never skip.",
            pytrace=False,
        )
    return path


@pytest.fixture
def playwright() -> Iterator[Playwright]:
    """Playwright for one test only: while it runs, its event loop counts as running in
    this thread, so every later ``asyncio.run()`` of the suite (and pytest-asyncio)
    would fail if it outlived the test."""
    with sync_playwright() as driver:
        yield driver


@pytest.fixture
def browser(playwright: Playwright) -> Iterator[Browser]:
    try:
        chromium = playwright.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS)
    except Error as exc:
        pytest.fail(f"Chromium did not start: {exc}", pytrace=False)
    yield chromium
    chromium.close()


class PageErrors(list[str]):
    """Uncaught JavaScript exceptions of a page; a test ends by asserting there were none."""


@pytest.fixture
def page_errors() -> PageErrors:
    return PageErrors()


@pytest.fixture
def page(browser: Browser, page_errors: PageErrors) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    tab = context.new_page()
    tab.set_default_timeout(15_000)
    tab.on("pageerror", lambda exc: page_errors.append(str(exc)))

    def console(message: ConsoleMessage) -> None:
        # A refused fetch (401/403) logs "Failed to load resource"; that is the
        # page working. Anything else the page logs as an error is a bug.
        if message.type == "error" and "Failed to load resource" not in message.text:
            page_errors.append(message.text)

    tab.on("console", console)
    yield tab
    context.close()


@pytest.fixture
def shot(request: pytest.FixtureRequest) -> Shot:
    """``shot(page, "step")`` saves var/screenshots/<test>-<step>.png (full page) and returns the path."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    test = re.sub(r"[^A-Za-z0-9_.-]+", "_", request.node.name)

    def take(tab: Page, step: str) -> Path:
        path = SCREENSHOTS / f"{test}-{step}.png"
        tab.screenshot(path=str(path), full_page=True)
        return path

    return take
