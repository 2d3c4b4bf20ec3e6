"""Browser tests: Debian Chromium driven by Playwright against a live server.

Every test here is marked ``browser``; it is skipped when ``/usr/bin/chromium``
is missing, and fails instead under ``DISPATCH_REQUIRE_SERVERS=1`` (CI installs
Chromium, so CI's server run cannot go green without them). The server is
pytest-django's ``live_server`` (a real HTTP server in a thread of the test
process, on the test database); optimizations run in a real Celery worker
thread on the configured broker.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from celery.contrib.testing.worker import start_worker

from config.celery import app

CHROMIUM = Path(os.environ.get("DISPATCH_CHROMIUM", "/usr/bin/chromium"))
ROOT = Path(__file__).resolve().parents[2]
# Screenshots for the docs are refreshed only on request, so a test run does
# not rewrite committed images: DISPATCH_SCREENSHOTS=1 make test PYTEST_ARGS=tests/browser
SCREENSHOTS = (
    ROOT / "docs" / "screenshots"
    if os.environ.get("DISPATCH_SCREENSHOTS") == "1"
    else ROOT / "var" / "screenshots"
)
PASSWORD = "browser-pass-2026"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    for item in items:
        if Path(str(item.fspath)).is_relative_to(here):
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="module")
def chromium() -> Iterator[object]:
    if not CHROMIUM.exists():
        if os.environ.get("DISPATCH_REQUIRE_SERVERS") == "1":
            pytest.fail(f"DISPATCH_REQUIRE_SERVERS=1 but {CHROMIUM} is not installed")
        pytest.skip(f"needs Debian chromium at {CHROMIUM} (apt-get install -y chromium)")
    from playwright.sync_api import sync_playwright

    # Playwright's sync API runs an event loop in this thread; the Django ORM
    # calls the tests and their fixtures make between page actions are still
    # plain synchronous calls. Only while this module's browser runs: the
    # variable must not leak into other tests (`check --deploy` refuses it).
    with pytest.MonkeyPatch.context() as patch, sync_playwright() as playwright:
        patch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=["--no-sandbox"]
        )
        yield browser
        browser.close()


@pytest.fixture
def page(chromium: object) -> Iterator[object]:
    context = chromium.new_context(  # type: ignore[attr-defined]
        viewport={"width": 1600, "height": 1000},
        timezone_id="Asia/Tokyo",
        locale="en-US",
    )
    context.set_default_timeout(15_000)
    page = context.new_page()
    yield page
    context.close()


@pytest.fixture
def celery_worker_thread(transactional_db: None) -> Iterator[None]:
    """A real worker consuming the configured broker, in a thread of this process."""
    with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=30):
        yield


def login(page: object, base_url: str, username: str, password: str = PASSWORD) -> None:
    """Sign in through the login form, as a person would."""
    page.goto(f"{base_url}/login/")  # type: ignore[attr-defined]
    page.get_by_label("Username").fill(username)  # type: ignore[attr-defined]
    page.get_by_label("Password").fill(password)  # type: ignore[attr-defined]
    page.get_by_role("button", name="Sign in").click()  # type: ignore[attr-defined]


def screenshot(page: object, name: str) -> Path:
    """Save a screenshot (docs/screenshots/NAME.png with DISPATCH_SCREENSHOTS=1)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=False)  # type: ignore[attr-defined]
    return path
