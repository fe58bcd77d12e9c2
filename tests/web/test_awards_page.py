"""The organizer's awards page in a real headless Chromium: a decision and its recipients
(by the form and from a CSV checked first), the place printed, the decision's documents
rendered with a progress bar and downloaded as a ZIP, a revocation with its reason; the
settings (kinds, templates, emblem); English; only organizers."""

from __future__ import annotations

import io
import re
import zipfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient
from PIL import Image

from server.keys import config_key, db_key
from tests.conftest import Api, add_member
from tests.web.browsing import (
    WATCH_PROGRESS,
    api_get,
    check_import,
    expect_fits,
    keep,
    live,
    open_as,
)
from tests.web.checkin_hall import Hall
from tests.web.conftest import Browser, wait_until
from tests.web.test_pages import check_page_security, labelled, versioned


@pytest.fixture
def renders_documents() -> bool:
    """These pages make PDFs: the live server renders them in the session's worker."""
    return True


if TYPE_CHECKING:
    from playwright.async_api import Page

NUMBER = "125-QĐ/VPTW"
CSV = (
    "STT,Loại,Tên tập thể / cá nhân,Chức vụ,Đơn vị công tác,Điểm cầu,Thành tích,Ghi chú\n"
    "1,Cá nhân,Đặng Thị Hồng Nhung,Phó Chánh Văn phòng,Thành ủy Hà Nội,HNI,"
    "Hoàn thành xuất sắc nhiệm vụ,\n"
    "2,Tập thể,Văn phòng Tỉnh ủy Sao Hỏa,,,Sao Hỏa,Sai điểm cầu,xem lại\n"
    "3,Tập thể,Văn phòng Tỉnh ủy Đồng Tháp,,,DTP,Đã có thành tích xuất sắc năm 2026,\n"
)


async def add_decision(page: Page, kind: str = "") -> None:
    from playwright.async_api import expect

    form = page.locator("#add-decision")
    await form.get_by_label("Số quyết định").fill(NUMBER)
    await form.get_by_label("Ngày ký").fill("2026-12-15")
    await expect(form.get_by_label("Hình thức khen thưởng")).to_have_value("certificate_of_merit")
    if kind:
        await form.get_by_label("Hình thức khen thưởng").select_option(kind)
    await form.get_by_label("Cơ quan ban hành").fill("Văn phòng Trung ương Đảng")
    await form.get_by_label("Họ tên người ký").fill("Nguyễn Văn Thắng")
    await form.get_by_label("Chức vụ người ký").fill("Chánh Văn phòng Trung ương Đảng")
    await form.get_by_role("button", name="Thêm quyết định").click()
    await expect(form.locator(".form-status")).to_have_text(f"Đã thêm quyết định số {NUMBER}.")


@pytest.mark.browser
async def test_an_organizer_records_renders_and_revokes_on_a_phone(
    browser: Browser, hall: Hall, tmp_path: Path
) -> None:
    from playwright.async_api import expect

    page = await open_as(browser, "organizer", f"/conferences/{hall.cid}", width=360)
    await page.get_by_role("link", name="Khen thưởng").click()
    await page.wait_for_url(f"**/c/{hall.cid}/awards")
    await expect(page.get_by_role("heading", level=1)).to_have_text("Khen thưởng")
    await live(page)
    summary = page.locator("#decisions-summary")
    await expect(summary).to_contain_text("Chưa có quyết định nào")

    # A decision, then a recipient through the form.
    await add_decision(page)
    decision = page.locator("article.decision")
    await expect(decision.get_by_role("heading", level=3)).to_have_text(f"Quyết định số {NUMBER}")
    await expect(decision).to_contain_text("Bằng khen")
    await expect(decision.locator(".empty")).to_be_visible()
    await decision.get_by_role("button", name=f"Thêm người nhận: Quyết định số {NUMBER}").click()
    form = page.locator("#add-award")
    await expect(form.get_by_label("Đối tượng")).to_be_focused()
    await expect(form.get_by_label("Quyết định")).to_have_value(re.compile(r"\S+"))
    await form.get_by_role("button", name="Thêm người nhận").click()
    await expect(page.locator("#add-award-name-error")).to_be_visible()
    await expect(form.get_by_label("Tên tập thể / cá nhân")).to_be_focused()
    await form.get_by_label("Tên tập thể / cá nhân").fill("Văn phòng Tỉnh ủy Lào Cai")
    await form.get_by_label("Điểm cầu").select_option("LCI")
    await form.get_by_label("Thành tích").fill("Đã có thành tích xuất sắc năm 2026")
    await form.get_by_role("button", name="Thêm người nhận").click()
    recipients = decision.locator("li.recipient")
    await expect(recipients).to_have_count(1)
    first = recipients.first
    await expect(first).to_contain_text("Văn phòng Tỉnh ủy Lào Cai")
    await expect(first).to_contain_text("Lào Cai (LCI)")
    await expect(first).to_contain_text("Chưa in")
    code = (await first.locator(".code-link").text_content() or "").strip()
    assert re.fullmatch(r"[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}", code), code
    await expect(first.locator(".code-link")).to_have_attribute("href", f"/verify/{code}")
    await expect(form.get_by_label("Tên tập thể / cá nhân")).to_be_focused()

    # Two more from a CSV: checked first (one bad row), then only the valid rows.
    path = tmp_path / "khen-thuong.csv"
    path.write_text(CSV, encoding="utf-8")
    await decision.get_by_role("button", name=f"Nhập từ tệp: Quyết định số {NUMBER}").click()
    file_input = page.locator("#import-awards-file")
    await expect(file_input).to_be_focused()
    importing = page.locator("#import-awards")
    status = await check_import(page, "import-awards", path)
    await expect(recipients).to_have_count(1)
    await importing.get_by_role("button", name="Chỉ nhập các dòng hợp lệ").click()
    await expect(status).to_contain_text("Đã nhập 2 người nhận")
    await expect(recipients).to_have_count(3)
    await expect(recipients.nth(1)).to_contain_text("Đặng Thị Hồng Nhung")
    await expect(recipients.nth(1)).to_contain_text("Phó Chánh Văn phòng, Thành ủy Hà Nội")
    await expect(recipients.nth(2)).to_contain_text("Văn phòng Tỉnh ủy Đồng Tháp")

    # The place printed before the date.
    settings = page.locator("#document-settings")
    await settings.get_by_label("Địa danh").fill("Hà Nội")
    await settings.get_by_label("Tiêu đề").fill("ĐẢNG CỘNG SẢN VIỆT NAM\nVĂN PHÒNG TRUNG ƯƠNG")
    await settings.get_by_role("button", name="Lưu").click()
    await expect(settings.locator(".form-status")).to_have_text("Đã lưu địa danh và tiêu đề.")
    saved = await api_get(page, hall.api("/awards/settings"))
    assert saved["place"] == "Hà Nội"
    assert saved["heading"] == "ĐẢNG CỘNG SẢN VIỆT NAM\nVĂN PHÒNG TRUNG ƯƠNG"

    # The decision's documents: the bar reaches 100 %, then the ZIP.
    await page.evaluate(WATCH_PROGRESS)
    await decision.get_by_role("button", name=f"Tạo tệp in (3): Quyết định số {NUMBER}").click()
    bar = page.get_by_role("progressbar", name=f"Quyết định số {NUMBER}")
    await expect(page.locator("#jobs .job-what strong")).to_be_focused()
    await expect(bar).to_have_attribute("aria-valuenow", "100", timeout=45_000)
    await expect(page.locator("#jobs .job-status")).to_have_text("Xong: 3 bằng")
    await expect(page.locator("#announcer")).to_have_text(
        f"Đã xong 3 bằng cho Quyết định số {NUMBER}. Có thể tải tệp ZIP."
    )
    seen = [int(v) for v in await page.evaluate("window.progressSeen")]
    assert seen == sorted(seen) and seen[-1] == 100, seen
    link = page.get_by_role("link", name=re.compile(r"Tải tệp ZIP \(awards-.+\.zip\)"))
    async with page.expect_download() as info:
        await link.click()
    download = await info.value
    target = tmp_path / "awards.zip"
    await download.save_as(target)
    archive = zipfile.ZipFile(io.BytesIO(target.read_bytes()))
    names = archive.namelist()
    assert len(names) == 4 and names[-1] == "tat-ca-de-in.pdf", names
    assert all(name.endswith(".pdf") for name in names)
    assert all(archive.read(name).startswith(b"%PDF") for name in names)
    # Each award now says when it was rendered.
    await expect(recipients.filter(has_text="Đã in lúc")).to_have_count(3)
    pdf = first.get_by_role("link", name="Xem bằng (PDF): Văn phòng Tỉnh ủy Lào Cai")
    await expect(pdf).to_have_attribute("href", re.compile(r"/awards/[^/]+/document\.pdf$"))
    await expect(first.locator('[data-part="flag-pdf"]')).to_be_hidden()

    # A correction keeps the code; the focus comes back to the button.
    second = recipients.nth(1)
    code = (await second.locator(".code-link").text_content() or "").strip()
    edit = second.get_by_role("button", name="Đính chính: Đặng Thị Hồng Nhung")
    await edit.click()
    editing = page.locator("#edit-award-dialog")
    await expect(editing.get_by_label("Tên tập thể / cá nhân")).to_be_focused()
    await expect(editing.get_by_label("Đối tượng")).to_have_value("person")
    await editing.get_by_label("Chức vụ").fill("Chánh Văn phòng")
    await editing.get_by_role("button", name="Lưu").click()
    await expect(editing).to_be_hidden()
    await expect(second).to_contain_text("Chánh Văn phòng, Thành ủy Hà Nội")
    await expect(second.locator(".code-link")).to_have_text(code)
    await expect(
        second.get_by_role("button", name="Đính chính: Đặng Thị Hồng Nhung")
    ).to_be_focused()

    # English on a large screen, open while the phone revokes: it follows live.
    wide = await open_as(browser, "organizer", f"/c/{hall.cid}/awards?lang=en", width=1280)
    await expect(wide.get_by_role("heading", level=1)).to_have_text("Awards")
    await expect(wide.locator("#decisions-summary")).to_have_text("1 decision(s) · 3 award(s)")
    await live(wide)
    wide_decision = wide.locator("article.decision")
    await expect(wide_decision.get_by_role("heading", level=3)).to_have_text(f"Decision {NUMBER}")
    await expect(wide.locator("#add-decision").get_by_label("Decision number")).to_be_visible()
    await expect(wide.get_by_role("button", name="Add the decision")).to_be_visible()
    await expect(wide.locator("#jobs .job-status")).to_have_text("Done: 3 documents")
    await expect(wide_decision.locator(".is-revoked")).to_have_count(0)

    # Revoked with a reason, which is required.
    third = recipients.nth(2)
    await third.get_by_role("button", name="Thu hồi: Văn phòng Tỉnh ủy Đồng Tháp").click()
    dialog = page.locator("#revoke-dialog")
    reason = dialog.get_by_label("Lý do thu hồi")
    await expect(reason).to_be_focused()
    await dialog.get_by_role("button", name="Thu hồi", exact=True).click()
    await expect(page.locator("#revoke-award-reason-error")).to_have_text("Hãy ghi lý do thu hồi.")
    await expect(reason).to_be_focused()
    await reason.fill("Cấp nhầm đối tượng")
    await dialog.get_by_role("button", name="Thu hồi", exact=True).click()
    await expect(dialog).to_be_hidden()
    await expect(third).to_have_class(re.compile(r"\bis-revoked\b"))
    await expect(third.locator(".recipient-revoked")).to_contain_text("ĐÃ THU HỒI")
    await expect(third.locator(".recipient-revoked")).to_contain_text("Cấp nhầm đối tượng")
    await expect(third.get_by_role("button")).to_have_count(0)
    await expect(third.get_by_role("heading", level=4)).to_be_focused()
    await expect(
        decision.get_by_role("button", name=re.compile("Tạo tệp in \\(2\\)"))
    ).to_be_visible()
    listed = await api_get(page, hall.api("/awards"))
    revoked = [a for a in listed["decisions"][0]["awards"] if a["revoked"]]
    assert [a["name"] for a in revoked] == ["Văn phòng Tỉnh ủy Đồng Tháp"]
    assert revoked[0]["revoked_reason"] == "Cấp nhầm đối tượng"
    await expect_fits(page)
    await keep(page, "awards-360")

    await expect(wide_decision.locator(".is-revoked .recipient-revoked")).to_contain_text(
        re.compile(r"^REVOKED on \d{4}-\d{2}-\d{2} at \d{2}:\d{2}\. Reason: Cấp nhầm")
    )
    await expect(wide_decision.locator(".recipient").nth(1)).to_contain_text("Chánh Văn phòng")
    await keep(wide, "awards-1280")
    assert browser.errors == []


def png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (64, 64), (200, 20, 20)).save(out, format="PNG")
    return out.getvalue()


@pytest.mark.browser
async def test_kinds_templates_and_the_emblem(browser: Browser, hall: Hall, tmp_path: Path) -> None:
    from playwright.async_api import expect

    page = await open_as(browser, "organizer", f"/c/{hall.cid}/awards", width=1280)
    await expect(page.locator("#decisions-summary")).to_contain_text("Chưa có quyết định nào")

    # An emulation flag: its recipient's flag proof, as PDF and SVG.
    await add_decision(page, "emulation_flag")
    await page.locator("#add-award").get_by_label("Tên tập thể / cá nhân").fill("Tỉnh ủy Lào Cai")
    await page.locator("#add-award").get_by_role("button", name="Thêm người nhận").click()
    flag = page.locator("li.recipient", has_text="Tỉnh ủy Lào Cai")
    await expect(page.locator("article.decision")).to_contain_text("Cờ thi đua")
    svg = flag.get_by_role("link", name="Bản in cờ (SVG): Tỉnh ủy Lào Cai")
    await expect(svg).to_have_attribute("href", re.compile(r"/awards/[^/]+/flag\.svg$"))
    await expect(svg).to_have_attribute("download", "")
    proof = flag.get_by_role("link", name="Bản in cờ (PDF): Tỉnh ủy Lào Cai")
    response = await page.request.get(await proof.get_attribute("href") or "")
    assert response.ok and (await response.body()).startswith(b"%PDF")

    # A kind of the conference's own: listed, offered to decisions, renamed, removed.
    await page.locator("#add-kind-details summary").click()
    adding = page.locator("#add-kind")
    await adding.get_by_label("Tên").fill("Kỷ niệm chương")
    await adding.get_by_label("Mã").fill("Kỷ niệm")
    await adding.get_by_role("button", name="Thêm hình thức").click()
    await expect(page.locator("#add-kind-key-error")).to_contain_text("chữ thường không dấu")
    await adding.get_by_label("Mã").fill("ky_niem_chuong")
    await adding.get_by_role("button", name="Thêm hình thức").click()
    await expect(adding.locator(".form-status")).to_have_text("Đã thêm hình thức Kỷ niệm chương.")
    row = page.locator("#kinds-body tr", has_text="ky_niem_chuong")
    await expect(row).to_contain_text("KỶ NIỆM CHƯƠNG")
    kind = page.locator("#add-decision-award_kind")
    await expect(kind.locator("option", has_text="Kỷ niệm chương")).to_have_count(1)
    await row.get_by_role("button", name="Sửa: Kỷ niệm chương").click()
    editing = page.locator("#edit-kind-dialog")
    await expect(editing.get_by_label("Tên")).to_be_focused()
    await editing.get_by_label("Tên").fill("Huy hiệu kỷ niệm")
    await editing.get_by_role("button", name="Lưu").click()
    await expect(editing).to_be_hidden()
    await expect(row.get_by_role("button", name="Sửa: Huy hiệu kỷ niệm")).to_be_focused()
    await expect(kind.locator("option", has_text="Huy hiệu kỷ niệm")).to_have_count(1)
    await row.get_by_role("button", name="Xóa: Huy hiệu kỷ niệm").click()
    await page.locator("#confirm-dialog").get_by_role("button", name="Xóa").click()
    await expect(page.locator("#kinds-body tr", has_text="ky_niem_chuong")).to_have_count(0)
    await expect(page.locator("#kinds-heading")).to_be_focused()

    # A broken template is refused with its reason; a good one is kept, then reset.
    item = page.locator("#templates li", has_text="certificate.html")
    await expect(item).to_contain_text("Bản gốc")
    source = await (await page.request.get(hall.api("/awards/templates/certificate.html"))).text()
    broken = tmp_path / "certificate.html"
    broken.write_text(source + "{% if %}\n", encoding="utf-8")
    await item.locator('input[type="file"]').set_input_files(str(broken))
    await expect(page.locator("#templates-error")).to_contain_text("Không nhận certificate.html")
    mine = tmp_path / "mine.html"
    mine.write_text(source + "{# mẫu riêng của hội nghị #}\n", encoding="utf-8")
    await item.locator('input[type="file"]').set_input_files(str(mine))
    settled = "!document.getElementById('templates-status').textContent.startsWith('Đang')"
    await wait_until(page, settled, seconds=30)
    error = await page.locator("#templates-error").text_content()
    assert await page.locator("#templates-error").is_hidden(), error
    await expect(page.locator("#templates-status")).to_have_text("Đã thay certificate.html.")
    await expect(item).to_contain_text("Đã thay bởi")
    replaced = await (await page.request.get(hall.api("/awards/templates/certificate.html"))).text()
    assert replaced.endswith("{# mẫu riêng của hội nghị #}\n")
    download = item.get_by_role("link", name="Tải bản hiện tại: certificate.html")
    await expect(download).to_have_attribute("download", "certificate.html")
    await item.get_by_role("button", name="Về bản gốc: certificate.html").click()
    await page.locator("#confirm-dialog").get_by_role("button", name="Về bản gốc").click()
    await expect(item).to_contain_text("Bản gốc")
    await expect(item.locator('input[type="file"]')).to_be_focused()
    sample = page.get_by_role("link", name="Xem mẫu bằng khen (PDF)")
    await expect(sample).to_have_attribute("href", hall.api("/awards/sample.pdf"))

    # The emblem: uploaded with a preview, then removed.
    await expect(page.locator("#emblem-none")).to_be_visible()
    image = tmp_path / "huy-hieu.png"
    image.write_bytes(png())
    await page.locator("#emblem-form-emblem").set_input_files(str(image))
    await page.get_by_role("button", name="Tải huy hiệu lên").click()
    preview = page.get_by_role("img", name="Huy hiệu đang dùng")
    await expect(preview).to_be_visible()
    await wait_until(page, "document.getElementById('emblem-preview').naturalWidth > 0")
    await page.get_by_role("button", name="Gỡ huy hiệu").click()
    await page.locator("#confirm-dialog").get_by_role("button", name="Gỡ huy hiệu").click()
    await expect(page.locator("#emblem-none")).to_be_visible()
    await expect(preview).to_be_hidden()
    assert (await api_get(page, hall.api("/awards/settings")))["emblem"] is False
    assert browser.errors == []


@pytest.mark.browser
async def test_only_organizers_use_the_page(browser: Browser, hall: Hall) -> None:
    from playwright.async_api import expect

    page = await browser.new_page()
    await page.goto(f"/c/{hall.cid}/awards")
    await page.wait_for_url(re.compile(r"/login\?next="))
    for username in ("chair", "op_lci"):
        other = await open_as(browser, username, f"/conferences/{hall.cid}", width=1280)
        await expect(other.get_by_role("heading", level=1)).to_be_visible()
        await expect(other.locator(f'a[href="/c/{hall.cid}/awards"]')).to_have_count(0)
        response = await other.goto(f"/c/{hall.cid}/awards")
        assert response is not None and response.status == 403, username
    assert browser.errors == []


async def test_the_page_is_served_to_organizers_only(
    client: TestClient[Any, Any], app: web.Application, organizer: Api, conference: dict[str, Any]
) -> None:
    """Through the test client: the strict page rules, every field labelled, the data."""
    cid = conference["id"]
    resp = await client.get(f"/c/{cid}/awards")
    assert resp.status == 200
    html = await resp.text()
    page = check_page_security(resp, html)
    labelled(page)
    h1 = page.find("h1")
    assert h1 is not None and h1.text.strip() == "Khen thưởng"
    assert page.find("script", src=versioned("js/awards.js")) is not None
    for form in ("add-decision", "add-award", "import-awards", "document-settings", "add-kind"):
        assert page.find("form", id=form) is not None, form
    data = page.page_data()
    assert data["conference"]["id"] == cid and data["jobs"] == [] and data["emblem"] is False
    assert [k["key"] for k in data["kinds"]][:2] == ["emulation_flag", "certificate_of_merit"]
    assert all(key.startswith("js.") for key in data["strings"])
    # Where the QR codes point (the configured address, never the request's Host), and a
    # warning that no public address is set.
    assert page.by_id("qr-address") is not None and page.by_id("qr-unset") is not None
    assert f"<code>{app[config_key].public_base}/verify/…</code>" in html
    conference_page = await (await client.get(f"/conferences/{cid}")).text()
    assert f'href="/c/{cid}/awards"' in conference_page

    await add_member(app[db_key], cid, "chair", "chair")
    await Api(client).login("chair")
    resp = await client.get(f"/c/{cid}/awards")
    assert resp.status == 403 and "text/html" in resp.headers["Content-Type"]
    assert f'href="/c/{cid}/awards"' not in await (await client.get(f"/conferences/{cid}")).text()
