"""The organizer's delegates page in a real headless Chromium."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from tests.web.browsing import api_get, check_import, keep, open_as
from tests.web.checkin_hall import Hall
from tests.web.conftest import Browser

if TYPE_CHECKING:
    from playwright.async_api import Page

pytestmark = pytest.mark.browser

BAD_CSV = (
    "STT,Họ và tên,Điểm cầu,Chức vụ,Email,Ghi chú\n"
    "1,Võ Thị Hạnh,HNI,Chuyên viên,hanh@example.vn,\n"
    "2,Bùi Văn Khoa,Sao Hỏa,Chuyên viên,,sai điểm cầu\n"
    "3,Hoàng Minh Long,LCI,Chuyên viên,long@example.vn,\n"
)


async def delegates_page(browser: Browser, hall: Hall, width: int = 1280) -> Page:
    from playwright.async_api import expect

    page = await open_as(browser, "organizer", f"/c/{hall.cid}/delegates", width=width)
    await expect(page.locator("#delegates-summary")).to_contain_text("5")
    return page


async def test_search_ignores_diacritics(browser: Browser, hall: Hall) -> None:
    from playwright.async_api import expect

    page = await delegates_page(browser, hall)
    await page.get_by_label("Tìm theo tên").fill("nguyen van")
    rows = page.locator("#delegates-body tr")
    await expect(rows).to_have_count(1)
    await expect(rows.first.locator('[data-field="name"]')).to_have_text("Nguyễn Văn An")
    await expect(rows.first.locator('[data-field="checked_in"]')).to_have_text("Chưa")
    await page.get_by_label("Tìm theo tên").fill("")
    await expect(rows).to_have_count(5)
    await page.locator("#delegate-search-site").select_option("LCI")
    await expect(rows).to_have_count(2)
    assert browser.errors == []


async def test_adding_shows_the_field_error_then_the_row(browser: Browser, hall: Hall) -> None:
    from playwright.async_api import expect

    page = await delegates_page(browser, hall)
    form = page.locator("#add-delegate")
    await form.get_by_label("Họ và tên").fill("Ngô Thị Mai")
    await form.get_by_label("Điểm cầu").select_option("DTP")
    await form.get_by_label("Email").fill("not-an-email")
    await form.get_by_role("button", name="Thêm đại biểu").click()
    email = page.locator("#add-delegate-email")
    await expect(page.locator("#add-delegate-email-error")).to_be_visible()
    await expect(email).to_have_attribute("aria-invalid", "true")
    await expect(email).to_be_focused()
    await email.fill("mai@example.vn")
    await form.get_by_role("button", name="Thêm đại biểu").click()
    await expect(page.locator("#add-delegate-email-error")).to_be_hidden()
    row = page.locator("#delegates-body tr", has_text="Ngô Thị Mai")
    await expect(row).to_have_count(1)
    await expect(row.locator('[data-field="site"]')).to_contain_text("DTP")
    listed = await api_get(page, hall.api("/delegates?q=ngo thi mai"))
    assert listed["items"][0]["email"] == "mai@example.vn"
    assert browser.errors == []


async def test_import_checks_then_imports_the_valid_rows(
    browser: Browser, hall: Hall, tmp_path: Path
) -> None:
    from playwright.async_api import expect

    path = tmp_path / "danh-sach.csv"
    path.write_text(BAD_CSV, encoding="utf-8")
    page = await delegates_page(browser, hall)
    form = page.locator("#import-delegates")
    status = await check_import(page, "import-delegates", path)
    listed = await api_get(page, hall.api("/delegates"))
    assert listed["total"] == 5

    await form.get_by_role("button", name="Chỉ nhập các dòng hợp lệ").click()
    await expect(status).to_contain_text("Đã nhập 2 đại biểu")
    await expect(page.locator("#delegates-summary")).to_contain_text("7")
    await expect(page.locator("#delegates-body tr", has_text="Hoàng Minh Long")).to_have_count(1)
    listed = await api_get(page, hall.api("/delegates"))
    assert listed["total"] == 7
    assert browser.errors == []


async def test_the_page_fits_a_phone(browser: Browser, hall: Hall) -> None:
    from playwright.async_api import expect

    page = await delegates_page(browser, hall, width=360)
    scroll = await page.evaluate("document.documentElement.scrollWidth")
    assert scroll <= 360, scroll
    await expect(page.locator("#delegates-body tr").first).to_be_visible()
    await keep(page, "delegates-360")
    assert browser.errors == []


async def test_edit_reissue_and_remove(browser: Browser, hall: Hall) -> None:
    from playwright.async_api import expect

    page = await delegates_page(browser, hall)
    row = page.locator("#delegates-body tr", has_text="Trần Thị Bình")
    await row.get_by_role("button", name="Sửa: Trần Thị Bình").click()
    dialog = page.locator("#edit-dialog")
    await expect(dialog.get_by_label("Họ và tên")).to_be_focused()
    await dialog.get_by_label("Chức vụ").fill("Chánh Văn phòng")
    await dialog.get_by_role("button", name="Lưu").click()
    await expect(dialog).to_be_hidden()
    await expect(row.locator('[data-field="title"]')).to_have_text("Chánh Văn phòng")
    await expect(row.get_by_role("button", name="Sửa: Trần Thị Bình")).to_be_focused()

    old = hall.links["Trần Thị Bình"]
    await row.get_by_role("button", name="Cấp lại đường dẫn: Trần Thị Bình").click()
    confirm = page.locator("#confirm-dialog")
    await confirm.get_by_role("button", name="Cấp lại", exact=True).click()
    link = page.locator("#confirm-dialog-link-value")
    await expect(link).to_be_focused()
    value = await link.input_value()
    assert "/d/" in value and old not in value
    await confirm.get_by_role("button", name="Hủy").click()

    await row.get_by_role("button", name="Xóa: Trần Thị Bình").click()
    await confirm.get_by_role("button", name="Xóa", exact=True).click()
    await expect(page.locator("#delegates-body tr", has_text="Trần Thị Bình")).to_have_count(0)
    await expect(page.locator("#delegates-summary")).to_contain_text("4 đại biểu")
    assert browser.errors == []
