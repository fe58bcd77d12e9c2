"""The organizer's agenda page: who may open it, what it holds, and in a real headless
Chromium building the agenda (a session with items inside), editing, reordering by keyboard
and by drag and drop, removing, other organizers' changes arriving live, a stale reorder,
the speaking-time settings, and a 360 px phone."""

from __future__ import annotations

import re
from datetime import date, datetime
from datetime import time as clock_time
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

import pytest
from aiohttp.test_utils import TestClient, TestServer

from tests.web.browsing import expect_fits, keep, live, open_as
from tests.web.checkin_hall import Hall
from tests.web.conftest import Browser
from tests.web.test_chair_page import Http, open_held
from tests.web.test_checkin_render import log_in as form_log_in
from tests.web.test_checkin_render import page as get_page
from tests.web.test_checkin_render import staff_page

if TYPE_CHECKING:
    from playwright.async_api import Locator, Page

Client = TestClient[Any, Any]
ZONE = ZoneInfo("Asia/Ho_Chi_Minh")


def row(page: Page, title: str) -> Locator:
    """The item titled title (its own row, not an item inside it)."""
    return page.locator("li.agenda-item").filter(
        has=page.locator(":scope > .agenda-row .agenda-title", has_text=re.compile(f"^{title}$"))
    )


def titles(level: Locator) -> Locator:
    return level.locator(":scope > li > .agenda-row .agenda-title")


async def add_item(page: Page, opener: str, fields: dict[str, str]) -> None:
    """Open the add dialog with the button named opener, fill fields (label: value), save."""
    await page.get_by_role("button", name=opener).click()
    dialog = page.locator("#item-dialog")
    for label, value in fields.items():
        control = dialog.get_by_label(label)
        if await control.evaluate("(el) => el.tagName") == "SELECT":
            await control.select_option(value)
        else:
            await control.fill(value)
    await dialog.get_by_role("button", name="Lưu").click()
    from playwright.async_api import expect

    await expect(dialog).to_be_hidden()


async def agenda(http: Http, hall: Hall) -> dict[str, dict[str, Any]]:
    items = (await http.call("GET", hall.api("/agenda")))["items"]
    return {item["title"]: item for item in items}


def level_order(items: dict[str, dict[str, Any]], parent: str | None) -> list[str]:
    level = [item for item in items.values() if item["parent"] == parent]
    return [item["title"] for item in sorted(level, key=lambda item: item["position"])]


@pytest.mark.browser
async def test_the_organizer_builds_reorders_and_trims_the_agenda(
    browser: Browser, hall: Hall, live_server: TestServer
) -> None:
    from playwright.async_api import expect

    other = await Http(live_server).login("organizer")
    try:
        page, socket = await open_held(browser, "organizer", f"/c/{hall.cid}/agenda")
        await expect(page.locator("#agenda-empty")).to_be_visible()
        # The delegates are offered as presenters.
        await expect(page.locator("#delegate-names option")).to_have_count(5)

        # A session, then two items inside it.
        await add_item(
            page,
            "Thêm mục",
            {
                "Tên mục": "Phiên toàn thể",
                "Loại": "session",
                "Giờ bắt đầu": "08:00",
                "Thời lượng (phút)": "90",
            },
        )
        session = row(page, "Phiên toàn thể")
        await expect(session).to_be_visible()
        await expect(session.locator("[data-cell=number]").first).to_have_text("1.")
        # The focus is on the new item.
        focused = page.locator("li.agenda-item:has(> .agenda-row :focus)")
        await expect(focused).to_have_attribute("data-kind", "session")

        await add_item(
            page,
            "Thêm mục vào Phiên toàn thể",
            {
                "Tên mục": "Báo cáo tổng kết",
                "Loại": "report",
                "Giờ bắt đầu": "08:05",
                "Thời lượng (phút)": "30",
                "Người trình bày": "Nguyễn Văn An",
                "Trình bày từ điểm cầu": "HNI",
            },
        )
        await add_item(
            page,
            "Thêm mục vào Phiên toàn thể",
            {
                "Tên mục": "Tham luận Lào Cai",
                "Loại": "speech",
                "Giờ bắt đầu": "08:35",
                "Thời lượng (phút)": "10",
                "Người trình bày": "Ông Khách Mời",
                "Thời gian mỗi người phát biểu (giây)": "420",
            },
        )
        inside = session.locator(":scope > ol")
        await expect(titles(inside)).to_have_text(["Báo cáo tổng kết", "Tham luận Lào Cai"])
        report = row(page, "Báo cáo tổng kết")
        await expect(report.locator("[data-cell=number]")).to_have_text("1.1.")
        await expect(report.locator("[data-cell=kind]")).to_have_text("Báo cáo")
        await expect(report.locator("[data-cell=start]")).to_contain_text("08:05")
        await expect(report.locator("[data-cell=duration]")).to_have_text("30 phút")
        await expect(report.locator("[data-cell=presenter]")).to_have_text("Nguyễn Văn An")
        await expect(report.locator("[data-cell=site]")).to_have_text("Hà Nội")
        await expect(report.locator("[data-cell=limit]")).to_have_text("5:00 (mặc định)")
        await expect(report.locator("[data-cell=status]")).to_have_text("Chưa diễn ra")

        items = await agenda(other, hall)
        assert items["Báo cáo tổng kết"]["parent"] == items["Phiên toàn thể"]["id"]
        assert items["Báo cáo tổng kết"]["presenter_delegate"] == hall.delegates["Nguyễn Văn An"]
        assert items["Báo cáo tổng kết"]["site"] == "HNI"
        # 08:05 on the conference's clock (Hanoi), on its first day.
        planned = datetime.fromisoformat(items["Báo cáo tổng kết"]["planned_start"])
        assert planned == datetime.combine(date.today(), clock_time(8, 5), tzinfo=ZONE)
        speech = items["Tham luận Lào Cai"]
        assert speech["presenter"] == "Ông Khách Mời" and speech["presenter_delegate"] is None
        assert speech["speaking_limit_seconds"] == 420

        # Edit: only what changed is sent.
        await page.get_by_role("button", name="Sửa Tham luận Lào Cai").click()
        dialog = page.locator("#item-dialog")
        await expect(dialog.get_by_label("Tên mục")).to_have_value("Tham luận Lào Cai")
        await dialog.get_by_label("Tên mục").fill("Tham luận của Lào Cai")
        await dialog.get_by_label("Thời lượng (phút)").fill("15")
        async with page.expect_request(re.compile(r"/agenda/[^/]+$")) as sent:
            await dialog.get_by_role("button", name="Lưu").click()
        assert (await sent.value).post_data_json == {
            "title": "Tham luận của Lào Cai",
            "duration_minutes": 15,
        }
        speech_row = row(page, "Tham luận của Lào Cai")
        await expect(speech_row.locator("[data-cell=duration]")).to_have_text("15 phút")
        await expect(speech_row.locator("[data-cell=limit]")).to_have_text("7:00")

        # Reorder by keyboard: Alt+Up on the speech's Edit button.
        await speech_row.get_by_role("button", name="Sửa Tham luận của Lào Cai").focus()
        async with page.expect_request(re.compile(r"/agenda/order$")) as sent:
            await page.keyboard.press("Alt+ArrowUp")
        body = (await sent.value).post_data_json
        assert body == {
            "parent": speech["parent"],
            "order": [speech["id"], items["Báo cáo tổng kết"]["id"]],
        }
        await expect(titles(inside)).to_have_text(["Tham luận của Lào Cai", "Báo cáo tổng kết"])
        await expect(speech_row.locator("[data-cell=number]")).to_have_text("1.1.")
        # The focus stays on the item that moved, and the move is announced.
        await expect(
            speech_row.get_by_role("button", name="Sửa Tham luận của Lào Cai")
        ).to_be_focused()
        await expect(page.locator("#announcer")).to_have_text(
            "Tham luận của Lào Cai nay ở vị trí 1 trên 2."
        )
        # The ↑ button of the first item is disabled; Alt+Down moves it back.
        await expect(
            speech_row.get_by_role("button", name=re.compile("Chuyển .* lên"))
        ).to_be_disabled()
        await page.keyboard.press("Alt+ArrowDown")
        await expect(titles(inside)).to_have_text(["Báo cáo tổng kết", "Tham luận của Lào Cai"])
        await expect(
            speech_row.get_by_role("button", name="Sửa Tham luận của Lào Cai")
        ).to_be_focused()

        # Reorder by drag and drop: the speech onto the top half of the report.
        async with page.expect_request(re.compile(r"/agenda/order$")):
            await speech_row.drag_to(
                report, source_position={"x": 4, "y": 4}, target_position={"x": 20, "y": 4}
            )
        await expect(titles(inside)).to_have_text(["Tham luận của Lào Cai", "Báo cáo tổng kết"])
        items = await agenda(other, hall)
        assert level_order(items, items["Phiên toàn thể"]["id"]) == [
            "Tham luận của Lào Cai",
            "Báo cáo tổng kết",
        ]

        # Another organizer's changes appear without a reload.
        await other.call(
            "POST", hall.api("/agenda"), {"title": "Bế mạc", "kind": "closing"}, status=201
        )
        await expect(titles(page.locator("#agenda-list"))).to_have_text(
            ["Phiên toàn thể", "Bế mạc"]
        )
        await other.call(
            "PATCH", hall.api(f"/agenda/{items['Phiên toàn thể']['id']}"), {"title": "Phiên I"}
        )
        session = row(page, "Phiên I")
        await expect(session).to_be_visible()
        inside = session.locator(":scope > ol")

        # A stale order: the session gains an item this page has not heard of yet.
        socket.holding = True
        await other.call(
            "POST",
            hall.api("/agenda"),
            {"title": "Giải lao", "kind": "break", "parent": items["Phiên toàn thể"]["id"]},
            status=201,
        )
        await speech_row.get_by_role("button", name="Chuyển Tham luận của Lào Cai xuống").click()
        conflict = page.locator("#conflict")
        await expect(conflict).to_be_visible()
        await expect(conflict).to_contain_text("chưa được áp dụng")
        await expect(titles(inside)).to_have_text(
            ["Tham luận của Lào Cai", "Báo cáo tổng kết", "Giải lao"]
        )
        socket.release()
        await expect(titles(inside)).to_have_count(3)
        await page.get_by_role("button", name="Đã hiểu").click()
        await expect(conflict).to_be_hidden()

        # Remove a planned item, after confirming.
        await page.get_by_role("button", name="Xóa Giải lao").click()
        confirm = page.locator("#remove-dialog")
        await expect(confirm).to_contain_text("Xóa “Giải lao” khỏi chương trình?")
        await confirm.get_by_role("button", name="Xóa mục").click()
        await expect(confirm).to_be_hidden()
        await expect(titles(inside)).to_have_text(["Tham luận của Lào Cai", "Báo cáo tổng kết"])
        assert "Giải lao" not in await agenda(other, hall)

        # A started item stays: the server's refusal is shown.
        await other.call(
            "POST", hall.api("/agenda/live"), {"action": "start", "item": speech["id"]}
        )
        await expect(speech_row.locator("[data-cell=status]")).to_have_text("Đang diễn ra")
        await expect(speech_row).to_have_attribute("data-status", "running")
        await page.get_by_role("button", name="Xóa Tham luận của Lào Cai").click()
        await confirm.get_by_role("button", name="Xóa mục").click()
        await expect(confirm.locator("#remove-item-error")).to_contain_text("this item has started")
        await confirm.get_by_role("button", name="Hủy").click()
        await expect(confirm).to_be_hidden()
        assert "Tham luận của Lào Cai" in await agenda(other, hall)

        # The speaking-time settings.
        settings = page.locator("#settings")
        await settings.get_by_label("Thời gian mỗi người phát biểu (giây)").fill("240")
        await settings.get_by_label("Báo cáo", exact=True).fill("600")
        await settings.get_by_label("Ưu tiên điểm cầu phát biểu ít hơn").check()
        await settings.get_by_role("button", name="Lưu").click()
        await expect(settings.locator(".form-status")).to_have_text("Đã lưu.")
        saved = await other.call("GET", hall.api("/agenda/settings"))
        assert saved["default_speaking_seconds"] == 240
        assert saved["kind_limits"] == {"report": 600}
        assert saved["fair_order"] is True
        await expect(report.locator("[data-cell=limit]")).to_have_text("10:00 (theo loại mục)")
        await keep(page, "agenda-1280")

        # On a phone: nothing scrolls sideways and the targets stay large.
        phone = await open_as(browser, "organizer", f"/c/{hall.cid}/agenda")
        await live(phone)
        await expect(phone.locator("li.agenda-item")).to_have_count(4)
        await expect_fits(phone)
        await keep(phone, "agenda-360")
        # The item dialog fits too, and Escape gives the focus back to its button.
        add = phone.get_by_role("button", name="Thêm mục", exact=True)
        await add.click()
        dialog = phone.locator("#item-dialog")
        await expect(dialog).to_be_visible()
        box = await dialog.bounding_box()
        assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 360
        assert await dialog.evaluate("(d) => d.scrollWidth <= d.clientWidth")
        await phone.keyboard.press("Escape")
        await expect(dialog).to_be_hidden()
        await expect(add).to_be_focused()
        assert browser.errors == []
    finally:
        await other.close()


# --- as the server renders it (no browser) ---------------------------------------------------


async def test_the_page_is_for_organizers_only(client: Client, small_hall: Hall) -> None:
    hall = small_hall
    path = f"/c/{hall.cid}/agenda"
    doc = await staff_page(client, path, "organizer")
    data = doc.page_data()
    assert data["conference"]["id"] == hall.cid
    assert data["conference"]["starts_on"] == date.today().isoformat()
    assert data["timezone"] == "Asia/Ho_Chi_Minh"
    assert [s["code"] for s in data["sites"]] == ["HNI", "LCI", "DTP"]
    assert "session" in data["kinds"] and "directive_speech" in data["kinds"]
    assert "js.agenda.conflict" in data["strings"]
    h1 = doc.find("h1")
    assert h1 is not None and h1.text == "Chương trình hội nghị"
    scripts = [s["src"] for s in doc.find_all("script") if s.get("src")]
    assert len(scripts) == 1 and scripts[0].startswith("/static/js/agenda.js?v=")
    for ident in ("live-region", "announcer"):
        region = doc.by_id(ident)
        assert region is not None and region.get("aria-live"), ident
    conflict = doc.by_id("conflict")
    assert conflict is not None and conflict.get("role") == "alert"
    kinds = doc.by_id("item-form-kind")
    assert kinds is not None
    assert len(doc.find_all("option")) >= 11 + 1 + 3  # kinds, "none" and the sites
    presenter = doc.by_id("item-form-presenter")
    assert presenter is not None and presenter.get("list") == "delegate-names"

    _, html = await get_page(client, path + "?lang=en")
    assert "Agenda" in html and "Chương trình hội nghị" not in html

    # The conference page links it for organizers.
    _, html = await get_page(client, f"/conferences/{hall.cid}")
    assert f'href="/c/{hall.cid}/agenda"' in html

    # A chair, like a site operator, gets no access and no link.
    await form_log_in(client, "chair")
    await get_page(client, path, status=403)
    _, html = await get_page(client, f"/conferences/{hall.cid}")
    assert f'href="/c/{hall.cid}/agenda"' not in html
    await form_log_in(client, "op_lci")
    await get_page(client, path, status=403)
    await get_page(client, "/c/nope/agenda", status=404)
