"""The check-in pages in a real headless Chromium, the operator's with a fake camera."""

from __future__ import annotations

import asyncio
import json
import re
from io import BytesIO
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from aiohttp.test_utils import TestServer
from PIL import Image

from tests.web import camera as fake_camera
from tests.web.browsing import api_get, expect_fits, keep, live, open_as
from tests.web.camera import OpenCamera, qr_video, write_y4m
from tests.web.checkin_hall import Hall, forged, insert_sites
from tests.web.conftest import Browser, wait_until

if TYPE_CHECKING:
    from playwright.async_api import Page

pytestmark = pytest.mark.browser

# The fixture lives in tests/web/camera.py; naming it here makes it usable in this module.
camera = fake_camera.camera


async def site_figures(page: Page, hall: Hall, code: str) -> dict[str, Any]:
    data = await api_get(page, hall.api("/attendance"))
    return next(site for site in data["sites"] if site["code"] == code)


async def test_a_badge_filmed_by_the_camera_checks_in_and_the_board_sees_it(
    camera: OpenCamera, hall: Hall, tmp_path: Path
) -> None:
    from playwright.async_api import expect

    pages = await camera(qr_video(tmp_path / "badge.y4m", hall.badges["Lê Văn Cường"]))
    board = await open_as(pages, "organizer", f"/c/{hall.cid}/attendance", width=1280)
    lci = board.locator('#board-body tr[data-site="LCI"]')
    await expect(lci.locator('[data-cell="checked_in"]')).to_have_text("0")
    await expect(lci.locator('[data-cell="expected"]')).to_have_text("2")
    await expect(board.locator("#total-checked-in")).to_have_text("0")
    await live(board)

    phone = await open_as(pages, "op_lci", f"/c/{hall.cid}/checkin")
    await expect(phone.get_by_role("heading", level=1)).to_contain_text("Lào Cai")
    await expect(phone.locator("#present-count")).to_have_text("0")
    await expect(phone.locator("#present-expected")).to_have_text("2")
    await live(phone)
    camera_button = phone.get_by_role("button", name="Bật camera để quét")
    await camera_button.click()
    card = phone.locator("#scan-result .scan-card")
    await expect(card).to_have_attribute("data-kind", "ok", timeout=20_000)
    await expect(card).to_contain_text("Lê Văn Cường")
    await expect(card).to_contain_text("Chánh Văn phòng · Văn phòng Tỉnh ủy Lào Cai")
    await expect(phone.get_by_role("button", name="Tắt camera")).to_be_visible()
    await expect(phone.locator("#present-count")).to_have_text("1")
    await expect(phone.locator("#recent li")).to_have_count(1)
    await expect(phone.locator("#recent")).to_contain_text("Lê Văn Cường")

    # The organizer's board, in another browser context, follows live.
    await expect(lci.locator('[data-cell="checked_in"]')).to_have_text("1")
    await expect(lci.locator('[data-cell="percent"]')).to_have_text("50%")
    await expect(board.locator("#total-checked-in")).to_have_text("1")
    await expect(
        board.locator('#board-body tr[data-site="HNI"] [data-cell="checked_in"]')
    ).to_have_text("0")

    # The badge stays in front of the camera: it is not sent again.
    await phone.wait_for_timeout(2000)
    await expect(card).to_have_attribute("data-kind", "ok")
    checkins = await api_get(phone, hall.api("/checkins?site=LCI"))
    assert [item["delegate"]["name"] for item in checkins["items"]] == ["Lê Văn Cường"]
    assert checkins["items"][0]["method"] == "scan"

    await keep(phone, "checkin-camera-360")
    await phone.get_by_role("button", name="Tắt camera").click()
    await expect(phone.locator("#camera")).to_be_hidden()
    await keep(phone, "checkin-operator-360")
    await expect_fits(phone)
    await keep(board, "checkin-board-1280")
    assert pages.errors == []


async def test_search_and_tap_and_codes_that_are_refused(browser: Browser, hall: Hall) -> None:
    from playwright.async_api import expect

    phone = await open_as(browser, "op_lci", f"/c/{hall.cid}/checkin")
    await live(phone)
    search = phone.get_by_label("Tên đại biểu")
    # Without diacritics, in lower case.
    await search.fill("cuong")
    hit = phone.locator("#search-results button", has_text="Lê Văn Cường")
    await expect(hit).to_have_count(1)
    await expect(phone.locator("#search-status")).to_contain_text("1")
    # Only this site's delegates are offered.
    await search.fill("nguyen")
    await expect(phone.locator("#search-status")).to_contain_text("Không có đại biểu nào")
    await search.fill("Cường")
    await hit.click()
    card = phone.locator("#scan-result .scan-card")
    await expect(card).to_have_attribute("data-kind", "ok")
    await expect(card).to_contain_text("Lê Văn Cường")
    await expect(search).to_be_focused()
    await expect(search).to_have_value("")
    await expect(phone.locator("#present-count")).to_have_text("1")
    await expect(phone.locator("#recent")).to_contain_text("tìm theo tên")

    code = phone.get_by_label("Hoặc nhập mã thẻ")
    # A forged badge: red, in plain words.
    await code.fill(forged(hall.badges["Phạm Thị Dung"]))
    await code.press("Enter")
    await expect(card).to_have_attribute("data-kind", "refused")
    await expect(card).to_contain_text("Mã giả hoặc đã bị sửa")
    await keep(phone, "checkin-forged-360")
    # Not a badge at all.
    await code.fill("https://example.org/")
    await code.press("Enter")
    await expect(card).to_contain_text("Mã hỏng, hoặc không phải thẻ đại biểu.")
    # A delegate of another site.
    await code.fill(hall.badges["Nguyễn Văn An"])
    await code.press("Enter")
    await expect(card).to_have_attribute("data-kind", "refused")
    await expect(card).to_contain_text("Đại biểu đăng ký ở điểm cầu khác")
    # Already in: where and when.
    await code.fill(hall.badges["Lê Văn Cường"])
    await code.press("Enter")
    await expect(card).to_contain_text(re.compile(r"Đã điểm danh tại Lào Cai lúc \d\d:\d\d\."))
    await expect(card).to_have_attribute("data-kind", "refused")
    assert (await site_figures(phone, hall, "LCI"))["checked_in"] == 1

    # A second phone at the same site sees the first one's check-ins arrive.
    other = await open_as(browser, "op_lci", f"/c/{hall.cid}/checkin")
    await live(other)
    await expect(other.locator("#present-count")).to_have_text("1")
    await code.fill(hall.badges["Phạm Thị Dung"])
    await code.press("Enter")
    await expect(card).to_contain_text("Phạm Thị Dung")
    await expect(other.locator("#present-count")).to_have_text("2")
    await expect(other.locator("#recent li").first).to_contain_text("Phạm Thị Dung")

    # Undo, with a reason.
    await phone.get_by_role("button", name="Hủy Phạm Thị Dung").click()
    dialog = phone.get_by_role("dialog", name="Hủy điểm danh")
    await dialog.get_by_role("button", name="Hủy điểm danh").click()
    await expect(dialog.get_by_role("alert")).to_have_text("Không được để trống.")
    await dialog.get_by_label("Lý do").fill("Bấm nhầm")
    await dialog.get_by_role("button", name="Hủy điểm danh").click()
    await expect(dialog).to_be_hidden()
    await expect(phone.locator("#present-count")).to_have_text("1")
    await expect(other.locator("#present-count")).to_have_text("1")
    await expect_fits(phone)
    assert browser.errors == []


async def test_offline_scans_are_queued_and_uploaded_once(browser: Browser, hall: Hall) -> None:
    from playwright.async_api import expect

    phone = await open_as(browser, "op_lci", f"/c/{hall.cid}/checkin")
    await live(phone)
    # The page keeps the public keys, to tell forged badges offline.
    await wait_until(phone, f"localStorage.getItem('plenary.keys.{hall.cid}') !== null")
    # Emulated, the network is down for requests (an open WebSocket may well survive).
    await phone.context.set_offline(True)
    code = phone.get_by_label("Hoặc nhập mã thẻ")
    card = phone.locator("#scan-result .scan-card")
    badge = hall.badges["Lê Văn Cường"]
    for _ in range(2):  # the same badge twice at the door
        await code.fill(badge)
        await code.press("Enter")
        await expect(card).to_have_attribute("data-kind", "queued")
    await expect(phone.locator("#queue-text")).to_have_text("2 lượt quét đang chờ gửi.")
    await code.fill(hall.badges["Phạm Thị Dung"])
    await code.press("Enter")
    await expect(phone.locator("#queue-text")).to_have_text("3 lượt quét đang chờ gửi.")
    # Forged is told apart without the server.
    await code.fill(forged(badge))
    await code.press("Enter")
    await expect(card).to_have_attribute("data-kind", "refused")
    await expect(card).to_contain_text("Mã giả hoặc đã bị sửa")
    await expect(phone.locator("#queue-text")).to_have_text("3 lượt quét đang chờ gửi.")
    # Search needs the server, and says so.
    await phone.get_by_label("Tên đại biểu").fill("dung")
    await expect(phone.locator("#search-status")).to_contain_text("Mất mạng")
    kept = json.loads(
        await phone.evaluate(f"localStorage.getItem('plenary.checkin-queue.{hall.cid}.LCI')")
    )
    assert [item["credential"] for item in kept] == [badge, badge, hall.badges["Phạm Thị Dung"]]
    assert len({item["nonce"] for item in kept}) == 3
    assert all(re.fullmatch(r"[A-Za-z0-9_-]{22}", item["nonce"]) for item in kept)
    await keep(phone, "checkin-offline-360")

    await phone.context.set_offline(False)
    results = phone.locator("#upload-list li")
    await expect(results).to_have_count(3)
    await expect(phone.locator("#queue-status")).to_be_hidden()
    await expect(phone.locator("#upload-list")).to_contain_text("Lê Văn Cường: đã điểm danh")
    await expect(phone.locator("#upload-list")).to_contain_text(
        "Lê Văn Cường: Đã điểm danh tại Lào Cai"
    )
    await expect(phone.locator("#upload-list")).to_contain_text("Phạm Thị Dung: đã điểm danh")
    await expect(phone.locator("#present-count")).to_have_text("2")
    figures = await site_figures(phone, hall, "LCI")
    assert figures["checked_in"] == 2
    checkins = await api_get(phone, hall.api("/checkins?site=LCI"))
    outcomes = sorted(
        (i["delegate"]["name"], i["outcome"], i["offline"]) for i in checkins["items"]
    )
    assert outcomes == [
        ("Lê Văn Cường", "already_checked_in", True),
        ("Lê Văn Cường", "ok", True),
        ("Phạm Thị Dung", "ok", True),
    ]
    assert (
        await phone.evaluate(f"localStorage.getItem('plenary.checkin-queue.{hall.cid}.LCI')")
        == "[]"
    )
    # A reload uploads nothing again.
    await phone.reload()
    await live(phone)
    await expect(phone.locator("#queue-status")).to_be_hidden()
    assert (await site_figures(phone, hall, "LCI"))["checked_in"] == 2
    assert browser.errors == []


async def test_a_queue_kept_over_a_reload_is_uploaded(browser: Browser, hall: Hall) -> None:
    from playwright.async_api import expect

    phone = await open_as(browser, "op_lci", f"/c/{hall.cid}/checkin")
    await live(phone)
    # Scans queued by an earlier visit that lost the network (then the phone was reloaded).
    a_minute_ago = await phone.evaluate("new Date(Date.now() - 60000).toISOString()")
    queued = [
        {
            "nonce": "earlier-scan-0001",
            "credential": hall.badges["Phạm Thị Dung"],
            "happened_at": a_minute_ago,
        }
    ]
    await phone.evaluate(
        "([key, items]) => localStorage.setItem(key, JSON.stringify(items))",
        [f"plenary.checkin-queue.{hall.cid}.LCI", queued],
    )
    # The list of latest check-ins is read before the upload is written and reaches the
    # page after the upload's answer: it must not wipe the row the upload added (it did).
    listed, uploaded = asyncio.Event(), asyncio.Event()

    async def read_the_list_first(route: Any) -> None:
        answer = await route.fetch()
        listed.set()
        await uploaded.wait()
        await route.fulfill(response=answer)

    async def upload_after_it(route: Any) -> None:
        await listed.wait()
        await route.continue_()

    await phone.route(lambda url: "/checkins?" in url, read_the_list_first)
    await phone.route(lambda url: url.endswith("/checkins/batch"), upload_after_it)
    await phone.reload()
    await expect(phone.locator("#upload-list li")).to_have_count(1)
    await expect(phone.locator("#upload-list")).to_contain_text("Phạm Thị Dung: đã điểm danh")
    uploaded.set()
    await expect(phone.locator("#present-count")).to_have_text("1")
    # A scan after the list has arrived: both rows stand, the offline one marked as such.
    code = phone.get_by_label("Hoặc nhập mã thẻ")
    await code.fill(hall.badges["Lê Văn Cường"])
    await code.press("Enter")
    await expect(phone.locator("#present-count")).to_have_text("2")
    recent = phone.locator("#recent li")
    await expect(recent).to_have_count(2)
    await expect(recent.nth(0)).to_contain_text("Lê Văn Cường")
    await expect(recent.nth(1)).to_contain_text("Phạm Thị Dung")
    await expect(recent.nth(1)).to_contain_text("quét lúc mất mạng")
    assert browser.errors == []


async def test_an_organizer_picks_the_site(browser: Browser, hall: Hall) -> None:
    from playwright.async_api import expect

    page = await open_as(browser, "organizer", f"/conferences/{hall.cid}", width=1280)
    await page.get_by_role("link", name="Điểm danh đại biểu").click()
    await page.get_by_label("Mã điểm cầu").fill("xyz")
    await page.get_by_role("button", name="Mở trang điểm danh").click()
    await expect(page.get_by_role("alert")).to_contain_text("XYZ")
    await page.get_by_label("Mã điểm cầu").fill("hni")
    await page.get_by_role("button", name="Mở trang điểm danh").click()
    await expect(page.get_by_role("heading", level=1)).to_contain_text("Hà Nội")
    await live(page)
    code = page.get_by_label("Hoặc nhập mã thẻ")
    await code.fill(hall.badges["Trần Thị Bình"])
    await code.press("Enter")
    card = page.locator("#scan-result .scan-card")
    await expect(card).to_have_attribute("data-kind", "ok")
    await expect(page.locator("#present-count")).to_have_text("1")
    await expect(page.locator("#present-expected")).to_have_text("3")
    await page.get_by_role("link", name="Hội nghị toàn quốc Văn phòng cấp ủy").click()
    await page.get_by_role("link", name="Bảng điểm danh").click()
    await expect(
        page.locator('#board-body tr[data-site="HNI"] [data-cell="checked_in"]')
    ).to_have_text("1")
    assert browser.errors == []


async def test_the_board_filters_and_sorts(browser: Browser, hall: Hall) -> None:
    from playwright.async_api import expect

    page = await open_as(browser, "chair", f"/c/{hall.cid}/attendance", width=1280)
    rows = page.locator("#board-body tr")
    await expect(rows).to_have_count(3)
    await expect(page.locator("#board-summary")).to_have_text("Hiện 3 / 3 điểm cầu")
    # Expected: the site's figure, or the delegates registered when it has none.
    await expect(page.locator('tr[data-site="DTP"] [data-cell="expected"]')).to_have_text("1")
    await expect(page.locator("#total-expected")).to_have_text("6")
    await page.get_by_label("Lọc điểm cầu theo tên hoặc mã").fill("dong thap")
    await expect(page.locator("#board-summary")).to_have_text("Hiện 1 / 3 điểm cầu")
    await expect(page.locator('tr[data-site="DTP"]')).to_be_visible()
    await expect(page.locator('tr[data-site="HNI"]')).to_be_hidden()
    await page.get_by_label("Lọc điểm cầu theo tên hoặc mã").fill("")
    await expect(page.locator("#board-summary")).to_have_text("Hiện 3 / 3 điểm cầu")
    await page.get_by_role("button", name="Dự kiến").click()
    await expect(page.locator("th[data-sort='expected']")).to_have_attribute(
        "aria-sort", "descending"
    )
    await expect(rows.first).to_have_attribute("data-site", "HNI")
    await page.get_by_role("button", name="Dự kiến").click()
    await expect(rows.first).to_have_attribute("data-site", "DTP")
    await page.get_by_role("button", name="Điểm cầu").click()
    codes = await rows.evaluate_all("(rows) => rows.map((row) => row.dataset.site)")
    assert codes == ["DTP", "HNI", "LCI"]  # Đồng Tháp, Hà Nội, Lào Cai
    for fmt in ("CSV", "Excel (XLSX)", "PDF"):
        link = page.get_by_role("link", name=fmt)
        assert (await link.get_attribute("href") or "").startswith(
            f"/api/v1/conferences/{hall.cid}/attendance/export."
        )
    await page.set_viewport_size({"width": 360, "height": 780})
    await expect_fits(page)
    await keep(page, "checkin-board-360")
    assert browser.errors == []


async def test_the_board_follows_delegates_removed_and_imported(
    browser: Browser, hall: Hall, live_server: TestServer
) -> None:
    """The board reads its figures again on delegate/removed and delegates/imported (it
    once waited for a delegate/deleted that the server never sends)."""
    from playwright.async_api import expect

    from attendance import importing, services
    from conference.actors import CLI, Actor
    from conference.services import get_conference
    from server.keys import db_key

    page = await open_as(browser, "chair", f"/c/{hall.cid}/attendance", width=1280)
    expected = page.locator('tr[data-site="DTP"] [data-cell="expected"]')
    await expect(expected).to_have_text("1")  # its one delegate (the site gives no figure)
    await live(page)
    db = live_server.app[db_key]
    async with db.transaction() as session:
        conference = await get_conference(session, hall.cid)
        actor = Actor(CLI, conference.id, frozenset({"organizer"}))
        found = await services.get_delegate(
            session, conference, hall.delegates["Đặng Văn Giang"], actor=actor
        )
        await services.delete_delegate(session, conference, found, actor=actor)
    await expect(expected).to_have_text("0")
    listed = "name,site\nVõ Thị Hạnh,DTP\nHuỳnh Văn Khoa,DTP\n".encode()
    async with db.transaction() as session:
        conference = await get_conference(session, hall.cid)
        table = importing.read_table(listed)
        report = await services.import_delegates(session, conference, table, actor=actor)
        assert report.imported == 2
    await expect(expected).to_have_text("2")
    await expect(page.locator("#total-expected")).to_have_text("7")
    assert browser.errors == []


async def test_the_delegate_scans_the_site_screen_and_is_checked_in(
    browser: Browser, camera: OpenCamera, hall: Hall, tmp_path: Path
) -> None:
    """The screen's QR, photographed, is what the delegate's phone camera sees."""
    from playwright.async_api import expect

    screen = await open_as(
        browser, "op_lci", f"/c/{hall.cid}/sites/{hall.sites['LCI']}/checkin-screen", width=1280
    )
    await expect(screen.get_by_role("heading", level=1)).to_have_text("Lào Cai")
    qr = screen.locator("#screen-qr")
    await expect(qr).to_have_attribute("data-code", re.compile(r"^PLS1"))
    await expect(screen.locator("#present-count")).to_have_text("0")
    await live(screen)
    # Far enough from the change of code that the phone scans the current one.
    seconds = int(await screen.locator("#countdown-seconds").inner_text())
    if seconds < 12:
        await screen.wait_for_timeout(seconds * 1000 + 1500)
    shown = await qr.get_attribute("data-code")
    current = await api_get(screen, hall.api(f"/sites/{hall.sites['LCI']}/checkin-code"))
    assert shown == current["code"]
    await keep(screen, "checkin-screen-1280")
    picture = Image.open(BytesIO(await qr.screenshot()))
    pages = await camera(write_y4m(tmp_path / "screen.y4m", picture))

    phone = await pages.new_page(360, 780)
    await phone.goto(f"/d/{hall.links['Lê Văn Cường']}")
    await expect(phone.get_by_role("heading", level=1)).to_have_text("Lê Văn Cường")
    badge = phone.get_by_role("img", name="Mã QR trên thẻ đại biểu của Lê Văn Cường")
    await expect(badge).to_be_visible()
    assert await badge.evaluate("(img) => img.complete && img.naturalWidth > 0")
    state = phone.locator("#checkin-state")
    await expect(state).to_have_text("Bạn chưa điểm danh.")
    await keep(phone, "delegate-page-360")
    await expect_fits(phone)
    await phone.get_by_role("button", name="Quét mã điểm danh tại hội trường").click()
    await expect(state).to_have_text(
        re.compile(r"Đã điểm danh tại Lào Cai lúc \d\d:\d\d\."), timeout=20_000
    )
    await expect(phone.locator("#scan-result .scan-card")).to_have_attribute("data-kind", "ok")
    await expect(phone.locator("#camera")).to_be_hidden()
    # The screen counts them.
    await expect(screen.locator("#present-count")).to_have_text("1")
    checkins = await api_get(screen, hall.api("/checkins?site=LCI"))
    assert [(i["delegate"]["name"], i["method"]) for i in checkins["items"]] == [
        ("Lê Văn Cường", "self")
    ]
    # Reloaded, the page says so itself.
    await phone.reload()
    await expect(state).to_have_text(re.compile(r"Đã điểm danh tại Lào Cai lúc \d\d:\d\d\."))
    await keep(phone, "delegate-checked-in-360")
    assert browser.errors == [] and pages.errors == []


async def test_the_delegate_page_explains_a_refused_code(browser: Browser, hall: Hall) -> None:
    """The page's test hook feeds codes as if the camera had read them."""
    from playwright.async_api import expect

    phone = await browser.new_page(360, 780)
    await phone.goto(f"/d/{hall.links['Phạm Thị Dung']}?lang=en")
    await expect(phone.get_by_role("heading", level=1)).to_have_text("Phạm Thị Dung")
    card = phone.locator("#scan-result .scan-card")
    scan = "(text) => document.dispatchEvent(new CustomEvent('plenary:scan', {detail: text}))"
    await phone.evaluate(scan, hall.badges["Phạm Thị Dung"])
    await expect(card).to_have_text("This is not a check-in code of this conference.")
    await expect(phone.locator("#checkin-state")).to_have_text("You have not checked in yet.")
    await expect_fits(phone)
    assert browser.errors == []


async def test_the_board_holds_3300_sites(
    browser: Browser, hall: Hall, live_server: TestServer
) -> None:
    """The communes after 2025: rows made once, a filter, and an event touches one row."""
    from playwright.async_api import expect
    from sqlmodel import select

    from attendance.checkin import check_in
    from attendance.scans import Scan
    from conference.actors import CLI, Actor
    from conference.models import Conference, Site
    from server.keys import db_key, keyring_key

    app = live_server.app
    async with app[db_key].transaction() as session:
        conference = (
            await session.exec(select(Conference).where(Conference.public_id == hall.cid))
        ).one()
        assert conference.id is not None
        await insert_sites(
            session,
            conference.id,
            (
                {
                    "code": f"XA{n:04d}",
                    "name": f"Xã Số {n}",
                    "expected_attendance": 30,
                    "position": 10 + n,
                }
                for n in range(1, 3298)
            ),
        )
    page = await open_as(browser, "organizer", f"/c/{hall.cid}/attendance", width=1280)
    rows = page.locator("#board-body tr")
    await expect(rows).to_have_count(3300, timeout=20_000)
    await expect(page.locator("#board-summary")).to_have_text("Hiện 3.300 / 3.300 điểm cầu")
    await expect(page.locator("#total-expected")).to_have_text("98.916")
    await live(page)

    # Watch which rows change while one delegate checks in.
    await page.evaluate(
        """() => {
          window.changedRows = new Set();
          new MutationObserver((records) => {
            for (const record of records) {
              const row = (record.target.closest ? record.target : record.target.parentElement)
                ?.closest("tr");
              if (row) window.changedRows.add(row.dataset.site);
            }
          }).observe(document.getElementById("board-body"),
                     { subtree: true, childList: true, characterData: true, attributes: true });
        }"""
    )
    async with app[db_key].transaction() as session:
        conference = (
            await session.exec(select(Conference).where(Conference.public_id == hall.cid))
        ).one()
        lci = (await session.exec(select(Site).where(Site.code == "LCI"))).one()
        actor = Actor(CLI, conference.id, frozenset({"organizer"}))
        [outcome] = await check_in(
            session,
            conference,
            lci,
            [Scan("board-test-0001", delegate_id=hall.delegates["Lê Văn Cường"])],
            actor=actor,
            keyring=app[keyring_key],
            method="search",
        )
        assert outcome.outcome == "ok"
    await expect(page.locator('tr[data-site="LCI"] [data-cell="checked_in"]')).to_have_text("1")
    await expect(page.locator("#total-checked-in")).to_have_text("1")
    assert await page.evaluate("[...window.changedRows]") == ["LCI"]

    filter_box = page.get_by_label("Lọc điểm cầu theo tên hoặc mã")
    await filter_box.fill("xa so 1234")
    await expect(page.locator("#board-summary")).to_have_text("Hiện 1 / 3.300 điểm cầu")
    await expect(page.locator('tr[data-site="XA1234"]')).to_be_visible()
    await filter_box.fill("")
    await expect(page.locator("#board-summary")).to_have_text("Hiện 3.300 / 3.300 điểm cầu")
    await page.get_by_role("button", name="Tỉ lệ").click()
    await expect(rows.first).to_have_attribute("data-site", "LCI")
    assert browser.errors == []
