"""Browser fixtures: the app on a real port (SQLite), Debian's Chromium through Playwright.

Browser tests are marked `browser`; without /usr/bin/chromium they skip, unless
PLENARY_REQUIRE_BROWSER=1 (CI), where they fail. A failing test leaves a
screenshot of each of its pages under test-artifacts/.
"""

from __future__ import annotations

import asyncio
import os
import re
import shutil
from collections.abc import AsyncIterator, Awaitable, Callable, Generator
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from runtime.config import Config
from server.app import create_app
from server.runtime import lent_pool_key
from tests.web.checkin_hall import Hall, make_hall

if TYPE_CHECKING:
    from playwright.async_api import Browser as Chromium
    from playwright.async_api import BrowserContext, Page

CHROMIUM = Path("/usr/bin/chromium")
REQUIRE_BROWSER = os.environ.get("PLENARY_REQUIRE_BROWSER") == "1"
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]

reports_key = pytest.StashKey[dict[str, pytest.TestReport]]()


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """Keep each phase's report on the item, so fixtures know whether the test failed."""
    report = yield
    item.stash.setdefault(reports_key, {})[report.when] = report
    return report


@pytest.fixture
def browser_db_url(tmp_path: Path, sqlite_template: Path) -> str:
    """A freshly migrated SQLite database (browser tests run on SQLite only)."""
    path = tmp_path / "browser.db"
    shutil.copy(sqlite_template, path)
    return f"sqlite+aiosqlite:///{path}"


@pytest.fixture
def renders_documents() -> bool:
    """Whether the module's pages make PDFs; a module that does says so (True)."""
    return False


@pytest.fixture
async def live_server(
    aiohttp_server: Callable[[web.Application], Awaitable[TestServer]],
    browser_db_url: str,
    renders_documents: bool,
    request: pytest.FixtureRequest,
) -> TestServer:
    """The whole app listening on 127.0.0.1 at a free port; where the pages make PDFs, it
    renders them in the session's one worker (warming a worker takes seconds: pages
    that make none do not wait for it)."""
    app = create_app(Config(database_url=browser_db_url, login_attempts_per_minute=20))
    if renders_documents:
        pool: ProcessPoolExecutor = request.getfixturevalue("document_pool")
        app[lent_pool_key] = pool
    return await aiohttp_server(app)


@pytest.fixture
async def hall(live_server: TestServer) -> Hall:
    """The check-in hall on the live server."""
    return await make_hall(live_server.app)


@pytest.fixture
async def small_hall(client: TestClient[Any, Any], app: web.Application) -> Hall:
    """The check-in hall in the app the test client serves (pages rendered, no browser)."""
    return await make_hall(app)


class Browser:
    """Pages, each in its own context (its own cookies), with console errors collected."""

    def __init__(self, browser: Chromium, base_url: str) -> None:
        self.browser = browser
        self.base_url = base_url.rstrip("/")
        self.contexts: list[BrowserContext] = []
        self.pages: list[Page] = []
        self.errors: list[str] = []

    async def new_page(self, width: int = 1280, height: int = 800) -> Page:
        context = await self.browser.new_context(
            viewport={"width": width, "height": height}, base_url=self.base_url
        )
        context.set_default_timeout(10_000)
        self.contexts.append(context)
        page = await context.new_page()
        index = len(self.pages)
        page.on("pageerror", lambda exc: self.errors.append(f"page {index}: {exc}"))
        page.on(
            "console",
            lambda msg: (
                self.errors.append(f"page {index} console: {msg.text}")
                if msg.type == "error" and "Content Security Policy" in msg.text
                else None
            ),
        )
        self.pages.append(page)
        return page

    async def screenshot(self, name: str) -> list[Path]:
        safe = re.sub(r"[^A-Za-z0-9_.-]+", "_", name)
        saved = []
        for index, page in enumerate(self.pages):
            if page.is_closed():
                continue
            path = ARTIFACTS / f"{safe}-page{index}.png"
            try:
                await page.screenshot(path=str(path), full_page=True)
            except Exception as exc:  # a screenshot must never hide the real failure
                print(f"could not save {path}: {exc}")
                continue
            saved.append(path)
        return saved

    async def close(self) -> None:
        for context in self.contexts:
            await context.close()


@pytest.fixture
def chromium_path() -> Path:
    """Debian's Chromium; never a downloaded browser."""
    if not CHROMIUM.exists():
        message = f"{CHROMIUM} is missing (apt-get install chromium) for browser tests"
        if REQUIRE_BROWSER:
            pytest.fail(message)
        pytest.skip(message)
    ARTIFACTS.mkdir(exist_ok=True)
    return CHROMIUM


@pytest.fixture
async def chromium(chromium_path: Path) -> AsyncIterator[Chromium]:
    """A headless Chromium for one test."""
    from playwright.async_api import async_playwright, expect

    # A loaded CI machine (two cores, both databases, a browser) may take longer than
    # Playwright's default 5 s to draw a page; a real failure still fails, later.
    expect.set_options(timeout=15_000)
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=str(chromium_path), args=CHROMIUM_ARGS, headless=True
        )
        try:
            yield browser
        finally:
            await browser.close()


@pytest.fixture
async def browser(
    request: pytest.FixtureRequest, chromium: Chromium, live_server: TestServer
) -> AsyncIterator[Browser]:
    """Pages on the live server; screenshots under test-artifacts/ when the test fails."""
    pages = Browser(chromium, str(live_server.make_url("/")))
    try:
        yield pages
    finally:
        report = request.node.stash.get(reports_key, {}).get("call")
        if report is not None and report.failed:
            for path in await pages.screenshot(request.node.name):
                print(f"screenshot: {path}")
        await pages.close()


async def wait_until(page: Page, expression: str, seconds: float = 15.0) -> None:
    """Poll a JavaScript expression until it is true.

    Playwright's wait_for_function polls with eval inside the page, which the pages'
    Content-Security-Policy (no 'unsafe-eval') forbids once the first check fails;
    page.evaluate runs through the DevTools protocol instead.
    """
    for _ in range(int(seconds * 20)):
        if await page.evaluate(expression):
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"still false after {seconds} s: {expression}")
