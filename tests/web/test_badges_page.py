"""The badge printing page in a real headless Chromium: start a job for a site, watch the
progress bar reach 100 %, hear it announced, download the PDF; usable at 360 px."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from aiohttp.test_utils import TestServer

from attendance.schemas import DelegateCreate
from attendance.services import create_delegate
from conference.accounts import grant_role
from conference.db import Database
from conference.models import Account
from server.keys import db_key
from tests.conference.test_documents import pdf_pages, pdf_text
from tests.conftest import add_account, new_conference
from tests.web.browsing import WATCH_PROGRESS, expect_fits, log_in
from tests.web.conftest import Browser, wait_until


@pytest.fixture
def renders_documents() -> bool:
    """These pages make PDFs: the live server renders them in the session's worker."""
    return True


pytestmark = pytest.mark.browser


async def conference_with_delegates(db: Database, account: Account) -> str:
    conference, actor, _ = await new_conference(
        db,
        title="Hội nghị toàn quốc Văn phòng cấp ủy",
        sites=(("LCI", "Lào Cai"), ("HN", "Hà Nội")),
    )
    async with db.transaction() as session:
        await grant_role(session, account, conference, "organizer", actor=actor)
        for n in range(40):
            data = DelegateCreate(
                name=f"Lê Thị Ngọc Ẩn {n:02d}", unit="Tỉnh ủy Lào Cai", site="LCI"
            )
            await create_delegate(session, conference, data, actor=actor)
        data = DelegateCreate(name="Đặng Quốc Việt", site="HN")
        await create_delegate(session, conference, data, actor=actor)
    return conference.public_id


async def test_an_organizer_prints_a_sites_badges(
    browser: Browser, live_server: TestServer, tmp_path: Path
) -> None:
    from playwright.async_api import expect

    db = live_server.app[db_key]
    account = await add_account(db, "organizer")
    cid = await conference_with_delegates(db, account)
    page = await browser.new_page()
    await log_in(page, "organizer")
    await page.goto(f"/conferences/{cid}")
    await page.get_by_role("link", name="In thẻ đại biểu").click()
    await page.wait_for_url(f"**/c/{cid}/badges")
    await expect(page.get_by_role("heading", level=1)).to_have_text("In thẻ đại biểu")
    await expect(page.locator("#jobs-empty")).to_be_visible()
    # Live first, so that the job's events reach the page.
    await wait_until(page, "document.documentElement.dataset.live === 'live'")

    site = page.get_by_label("Điểm cầu")
    await expect(site.locator("option")).to_have_text(
        ["Tất cả điểm cầu (41 đại biểu)", "Lào Cai (LCI) · 40 đại biểu", "Hà Nội (HN) · 1 đại biểu"]
    )
    await site.select_option("LCI")
    await expect(page.get_by_label("8 thẻ trên một tờ A4")).to_be_checked()
    await page.evaluate(WATCH_PROGRESS)
    await page.get_by_role("button", name="Tạo tệp PDF").click()

    bar = page.get_by_role("progressbar", name="Lào Cai (LCI)")
    await expect(bar).to_have_attribute("aria-valuenow", "100", timeout=60_000)
    await expect(page.locator("#jobs .job-status")).to_have_text("Xong: 40 thẻ")
    await expect(page.locator("#announcer")).to_have_text(
        "Đã xong 40 thẻ cho Lào Cai (LCI). Có thể tải tệp PDF."
    )
    seen = [int(v) for v in await page.evaluate("window.progressSeen")]
    assert seen == sorted(seen) and seen[-1] == 100, seen
    assert len(set(seen)) >= 3, f"the bar jumped straight to the end: {seen}"

    link = page.get_by_role("link", name="Tải tệp PDF (badges-LCI.pdf)")
    async with page.expect_download() as info:
        await link.click()
    download = await info.value
    assert download.suggested_filename == "badges-LCI.pdf"
    target = tmp_path / "badges.pdf"
    await download.save_as(target)
    pdf = target.read_bytes()
    assert pdf_pages(pdf) == 5
    text = pdf_text(pdf)
    assert "Lê Thị Ngọc Ẩn 39" in text and "Đặng Quốc Việt" not in text

    # The job is there after a reload, and the page fits a phone.
    phone = await browser.new_page(width=360, height=740)
    await log_in(phone, "organizer")
    await phone.goto(f"/c/{cid}/badges?lang=en")
    await expect(phone.get_by_role("heading", level=1)).to_have_text("Delegate badges")
    await expect(phone.locator("#jobs .job-status")).to_have_text("Done: 40 badges")
    await expect(phone.get_by_role("progressbar")).to_have_attribute("aria-valuenow", "100")
    await expect_fits(phone)
    assert browser.errors == []


async def test_the_page_is_for_organizers_and_operators(
    browser: Browser, live_server: TestServer
) -> None:
    db = live_server.app[db_key]
    account = await add_account(db, "organizer")
    cid = await conference_with_delegates(db, account)
    page = await browser.new_page()
    await page.goto(f"/c/{cid}/badges")
    await page.wait_for_url(re.compile(r"/login\?next="))
    await add_account(db, "stranger")
    await log_in(page, "stranger")
    response = await page.goto(f"/c/{cid}/badges")
    assert response is not None and response.status == 404
