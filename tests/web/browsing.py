"""What the browser tests do on any page: log in, wait for the live stream, check that it
fits a phone, keep a screenshot, follow a job's progress, check an import."""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tests.conftest import PASSWORD
from tests.web.conftest import ARTIFACTS, Browser

if TYPE_CHECKING:
    from playwright.async_api import Locator, Page

# Interactive elements a finger must be able to hit (checkboxes are hit through their label).
SMALL_TARGETS = """() => [...document.querySelectorAll(
    'a, button, select, summary, input:not([type=hidden]):not([type=checkbox])')]
  .filter((el) => el.getClientRects().length && !el.closest('.skip-link, [hidden], dialog'))
  .map((el) => [el.outerHTML.slice(0, 80), el.getBoundingClientRect()])
  .filter(([, r]) => r.height < 43.5 || r.width < 43.5)
  .map(([html]) => html)"""

# Records every value the progress bar of the newest job takes, as the page changes it.
WATCH_PROGRESS = """() => {
  window.progressSeen = [];
  new MutationObserver(() => {
    const bar = document.querySelector('#jobs [role="progressbar"]');
    const value = bar?.getAttribute('aria-valuenow');
    if (value !== null && value !== undefined && window.progressSeen.at(-1) !== value) {
      window.progressSeen.push(value);
    }
  }).observe(document.getElementById('jobs'), {subtree: true, childList: true, attributes: true});
}"""


async def expect_fits(page: Page, width: int = 360) -> None:
    """No horizontal scrolling and no target smaller than 44 px."""
    scroll = await page.evaluate("document.documentElement.scrollWidth")
    assert scroll <= width, f"{page.url} scrolls sideways: {scroll} > {width}"
    assert await page.evaluate(SMALL_TARGETS) == [], page.url


async def submit_login(page: Page, username: str, password: str = PASSWORD) -> None:
    """The login form, filled and sent."""
    await page.goto("/login")
    await page.get_by_label("Tên đăng nhập").fill(username)
    await page.get_by_label("Mật khẩu").fill(password)
    await page.get_by_role("button", name="Đăng nhập").click()


async def log_in(page: Page, username: str) -> None:
    """As username, on the list of conferences the login leads to."""
    await submit_login(page, username)
    await page.wait_for_url(re.compile(r"/conferences$"))


async def open_as(pages: Browser, username: str, path: str, width: int = 360) -> Page:
    page = await pages.new_page(width, 780 if width <= 400 else 900)
    await log_in(page, username)
    await page.goto(path)
    return page


async def live(page: Page) -> None:
    from playwright.async_api import expect

    await expect(page.locator("html")).to_have_attribute("data-live", "live")


async def keep(page: Page, name: str) -> None:
    """A screenshot under test-artifacts/, kept whether the test passes or not."""
    ARTIFACTS.mkdir(exist_ok=True)
    await page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


async def api_get(page: Page, url: str) -> Any:
    response = await page.request.get(url)
    assert response.ok, await response.text()
    return await response.json()


async def check_import(page: Page, name: str, path: Path) -> Locator:
    """Checks path in the import form #name: of its three rows the third names an unknown
    site and a column is ignored. Returns the form's status line."""
    from playwright.async_api import expect

    await page.locator(f"#{name}-file").set_input_files(str(path))
    await page.locator(f"#{name}").get_by_role("button", name="Kiểm tra").click()
    status = page.locator(f"#{name}-status")
    await expect(status).to_contain_text("3 dòng, 2 hợp lệ, 1 có lỗi")
    problems = page.locator(f"#{name}-problems li")
    await expect(problems).to_have_count(1)
    await expect(problems.first).to_contain_text("Dòng 3")
    await expect(problems.first).to_contain_text("Điểm cầu")
    await expect(page.locator(f"#{name}-ignored")).to_contain_text("Ghi chú")
    await expect(page.locator(f"#{name}-report")).to_be_focused()
    return status
