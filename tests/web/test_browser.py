"""The organizer's pages in a real headless Chromium (Debian's, driven by Playwright)."""

from __future__ import annotations

import json
import re
from datetime import date
from typing import TYPE_CHECKING, Any
from weakref import WeakSet

import pytest
from aiohttp import WSCloseCode, web
from aiohttp.test_utils import TestServer
from sqlalchemy import delete

from conference import services
from conference.accounts import principal_for_account
from conference.actors import CLI, Actor, resolve_actor
from conference.models import BrowserSession
from conference.schemas import ConferenceCreate, ConferenceUpdate, SiteCreate, SiteUpdate
from server.keys import db_key, sockets_key
from tests.conftest import add_account
from tests.web.browsing import expect_fits, log_in, submit_login
from tests.web.conftest import Browser

if TYPE_CHECKING:
    from playwright.async_api import Locator, Page, Request

pytestmark = pytest.mark.browser

TITLE = "Hội nghị toàn quốc Văn phòng cấp ủy lần thứ nhất"


async def create_conference(page: Page) -> str:
    """Through the form on /conferences; returns the new conference's URL."""
    form = page.locator("#create-conference")
    await form.get_by_label("Tên hội nghị").fill(TITLE)
    await form.get_by_label("Ngày bắt đầu").fill("2026-12-10")
    await form.get_by_label("Ngày kết thúc").fill("2026-12-11")
    await form.get_by_label("Địa điểm").fill("Hội trường Trung ương, Hà Nội")
    await form.get_by_role("button", name="Tạo hội nghị").click()
    await page.wait_for_url(re.compile(r"/conferences/[\w-]+$"))
    await page.get_by_role("heading", level=1, name=TITLE).wait_for()
    return page.url


async def add_site(page: Page, code: str, name: str, **more: str) -> None:
    form = page.locator("#add-site")
    await form.get_by_label("Mã").fill(code)
    await form.get_by_label("Tên điểm cầu").fill(name)
    for label, value in more.items():
        field = form.get_by_label(label)
        if label == "Loại":
            await field.select_option(value)
        else:
            await field.fill(value)
    await form.get_by_role("button", name="Thêm điểm cầu").click()


def row(page: Page, text: str) -> Locator:
    return page.locator("#sites-body tr", has_text=text)


async def test_organizer_sets_up_a_conference(browser: Browser, live_server: TestServer) -> None:
    from playwright.async_api import expect

    await add_account(live_server.app[db_key], "organizer", can_create=True)
    page = await browser.new_page()

    await page.goto("/conferences")
    await page.wait_for_url(re.compile(r"/login\?next="))
    assert await page.get_attribute("html", "lang") == "vi"
    await page.keyboard.press("Tab")
    assert await page.evaluate("document.activeElement.className") == "skip-link"

    await submit_login(page, "organizer", "not the password")
    await expect(page.get_by_role("alert")).to_have_text("Sai tên đăng nhập hoặc mật khẩu.")
    await log_in(page, "organizer")

    # The API's field errors show next to the field, in Vietnamese.
    form = page.locator("#create-conference")
    await form.get_by_role("button", name="Tạo hội nghị").click()
    title = form.get_by_label("Tên hội nghị")
    await expect(page.locator("#create-conference-title-error")).to_have_text(
        "Không được để trống."
    )
    await expect(title).to_have_attribute("aria-invalid", "true")
    await expect(title).to_be_focused()
    await expect(page.locator("#create-conference-starts_on-error")).to_be_visible()

    url = await create_conference(page)
    await expect(page.locator('[data-conference-field="dates"]')).to_have_text(
        "10/12/2026 – 11/12/2026"
    )

    await add_site(
        page,
        "hni",
        "Hà Nội",
        **{"Số người dự kiến": "40", "Điện thoại": "+84 24 3825 0000", "Email": "vp@hn.example"},
    )
    await expect(row(page, "Hà Nội")).to_contain_text("HNI")
    await expect(page.locator("#sites-summary")).to_have_text("1 điểm cầu · 40 người dự kiến")
    await add_site(page, "hni", "Hà Nội lần hai")
    await expect(page.locator("#add-site-code-error")).to_have_text(
        "Mã này đã được dùng cho một điểm cầu khác."
    )
    await add_site(page, "tw", "Hội trường Trung ương", **{"Loại": "main"})
    await expect(row(page, "Hội trường Trung ương")).to_contain_text("Điểm cầu chính")
    await add_site(page, "hpg", "Hải Phòng", **{"Email": "not an address"})
    await expect(page.locator("#add-site-contact_email-error")).to_have_text(
        "Địa chỉ email không hợp lệ."
    )

    # Edit in a dialog, remove after confirming.
    await page.get_by_role("button", name="Sửa Hà Nội").click()
    dialog = page.get_by_role("dialog", name="Sửa điểm cầu")
    await expect(dialog.get_by_label("Tên điểm cầu")).to_have_value("Hà Nội")
    await dialog.get_by_label("Tên điểm cầu").fill("Thành phố Hà Nội")
    await dialog.get_by_role("button", name="Lưu").click()
    await expect(dialog).to_be_hidden()
    await expect(row(page, "HNI")).to_contain_text("Thành phố Hà Nội")
    await page.get_by_role("button", name="Xóa Hội trường Trung ương").click()
    confirm = page.get_by_role("dialog", name="Xóa điểm cầu?")
    await expect(confirm).to_contain_text("Hội trường Trung ương (TW)")
    await confirm.get_by_role("button", name="Hủy").click()
    await expect(row(page, "TW")).to_have_count(1)
    await page.get_by_role("button", name="Xóa Hội trường Trung ương").click()
    await confirm.get_by_role("button", name="Xóa").click()
    await expect(row(page, "Hội trường Trung ương")).to_have_count(0)

    # The conference's own details.
    await page.get_by_text("Sửa thông tin hội nghị").click()
    edit = page.locator("#edit-conference")
    await edit.get_by_label("Ngày kết thúc").fill("2026-12-09")
    await edit.get_by_role("button", name="Lưu thay đổi").click()
    await expect(page.locator("#edit-conference-ends_on-error")).to_have_text(
        "Ngày kết thúc không được trước ngày bắt đầu."
    )
    await edit.get_by_label("Ngày kết thúc").fill("2026-12-12")
    await edit.get_by_label("Địa điểm").fill("Trung tâm Hội nghị Quốc gia")
    await edit.get_by_role("button", name="Lưu thay đổi").click()
    await expect(page.locator('[data-conference-field="venue"]')).to_have_text(
        "Trung tâm Hội nghị Quốc gia"
    )

    # After a reload the server renders what was saved.
    await page.reload()
    await expect(row(page, "HNI")).to_contain_text("Thành phố Hà Nội")
    await expect(page.locator("#sites-body tr")).to_have_count(1)

    # A phone: 360 px wide, nothing scrolls sideways, every target is big enough.
    await page.set_viewport_size({"width": 360, "height": 740})
    await expect_fits(page)
    await page.goto("/conferences")
    await expect_fits(page)
    phone = await browser.new_page(360, 740)
    await phone.goto("/login")
    assert await phone.get_attribute("html", "lang") == "vi"
    await expect_fits(phone)
    await phone.get_by_role("link", name="English").click()
    await expect(phone.locator("html")).to_have_attribute("lang", "en")
    await expect(phone.get_by_role("heading", level=1)).to_have_text("Log in")
    await expect_fits(phone)
    await phone.goto(url)
    assert "/login" in phone.url

    assert browser.errors == []


async def test_a_second_browser_follows_live(browser: Browser, live_server: TestServer) -> None:
    from playwright.async_api import expect

    app = live_server.app
    await add_account(app[db_key], "organizer", can_create=True)
    await add_account(app[db_key], "deputy", can_create=True)
    first = await browser.new_page()
    await log_in(first, "organizer")
    url = await create_conference(first)
    cid = url.rsplit("/", 1)[1]

    # Another organizer, on a phone, opens the same conference.
    second = await browser.new_page(360, 740)
    await log_in(second, "deputy")
    # The deputy is not an organizer yet: the page does not exist for them.
    response = await second.goto(url)
    assert response is not None and response.status == 404
    await grant(app, cid, "deputy", "organizer")
    sent: list[dict[str, Any]] = []
    second.on(
        "websocket",
        lambda socket: socket.on("framesent", lambda payload: sent.append(json.loads(payload))),
    )
    await second.goto(url)
    assert await second.get_attribute("html", "lang") == "vi"
    await expect(second.locator("html")).to_have_attribute("data-live", "live")
    await second.evaluate("window.notReloaded = true")

    # A chair follows too, read-only.
    await add_account(app[db_key], "chair")
    await grant(app, cid, "chair", "chair")
    third = await browser.new_page()
    await log_in(third, "chair")
    await third.goto(url)
    await expect(third.locator("html")).to_have_attribute("data-live", "live")

    await add_site(first, "hni", "Hà Nội", **{"Số người dự kiến": "40"})
    await expect(row(second, "Hà Nội")).to_contain_text("HNI")
    await expect(row(third, "Hà Nội")).to_contain_text("HNI")
    assert await third.locator("#sites-body button").count() == 0
    await expect(second.locator("#sites-summary")).to_have_text("1 điểm cầu · 40 người dự kiến")

    await first.get_by_role("button", name="Sửa Hà Nội").click()
    dialog = first.get_by_role("dialog", name="Sửa điểm cầu")
    await dialog.get_by_label("Tên điểm cầu").fill("Thành phố Hà Nội")
    await dialog.get_by_role("button", name="Lưu").click()
    await expect(row(second, "HNI")).to_contain_text("Thành phố Hà Nội")

    await first.get_by_text("Sửa thông tin hội nghị").click()
    await first.locator("#edit-conference").get_by_label("Tên hội nghị").fill(TITLE + " (sửa)")
    await first.get_by_role("button", name="Lưu thay đổi").click()
    await expect(second.get_by_role("heading", level=1)).to_have_text(TITLE + " (sửa)")

    await add_site(first, "dng", "Đà Nẵng")
    await expect(row(second, "Đà Nẵng")).to_have_count(1)
    await first.get_by_role("button", name="Xóa Đà Nẵng").click()
    await first.get_by_role("dialog").get_by_role("button", name="Xóa").click()
    await expect(row(second, "Đà Nẵng")).to_have_count(0)
    assert await second.evaluate("window.notReloaded") is True

    # The server drops every socket; a change lands while they are away.
    await second.evaluate(BANNER_WATCH)
    sockets: WeakSet[web.WebSocketResponse] = app[sockets_key]
    for socket in list(sockets):
        await socket.close(code=WSCloseCode.GOING_AWAY, message=b"test")
    await rename_site(app, cid, "HNI", "Hà Nội (đổi khi mất kết nối)")
    await expect(row(second, "HNI")).to_contain_text("Hà Nội (đổi khi mất kết nối)")
    await expect(second.locator("html")).to_have_attribute("data-live", "live")
    await expect(second.locator("#live-region")).to_be_empty()
    seen = await second.evaluate("window.bannerTexts")
    assert "Mất kết nối — đang kết nối lại…" in seen
    subscribes = [m for m in sent if m.get("type") == "live/subscribe"]
    assert subscribes[0] == {"id": 1, "type": "live/subscribe", "conference": cid}
    resumed = subscribes[-1]
    assert resumed["id"] == 1 and resumed["since"] >= 1 and resumed["epoch"]
    assert await second.evaluate("window.notReloaded") is True
    await expect(row(third, "HNI")).to_contain_text("Hà Nội (đổi khi mất kết nối)")
    await expect_fits(second)
    assert browser.errors == []


# Records every banner text shown, however briefly.
BANNER_WATCH = """() => {
  window.bannerTexts = [];
  const region = document.getElementById('live-region');
  new MutationObserver(() => {
    if (region.textContent) window.bannerTexts.push(region.textContent);
  }).observe(region, {childList: true, subtree: true, characterData: true});
}"""


async def grant(app: web.Application, cid: str, username: str, role: str) -> None:
    from conference.accounts import get_account_by_username, grant_role

    db = app[db_key]
    async with db.transaction() as session:
        conference = await services.get_conference(session, cid)
        account = await get_account_by_username(session, username)
        assert account is not None
        actor = await resolve_actor(session, CLI, conference)
        await grant_role(session, account, conference, role, actor=actor)


async def rename_site(app: web.Application, cid: str, code: str, name: str) -> None:
    db = app[db_key]
    async with db.transaction() as session:
        conference = await services.get_conference(session, cid)
        actor = await resolve_actor(session, CLI, conference)
        assert conference.id is not None
        site = await services.get_site_by_code(session, conference.id, code)
        assert site is not None
        await services.update_site(session, conference, site, SiteUpdate(name=name), actor=actor)


async def test_anonymous_viewer_and_an_ended_session(
    browser: Browser, live_server: TestServer
) -> None:
    from playwright.async_api import expect

    app = live_server.app
    db = app[db_key]
    account = await add_account(db, "organizer", can_create=True)
    async with db.transaction() as session:
        created = await services.create_conference(
            session,
            ConferenceCreate(
                title=TITLE, starts_on=date(2026, 12, 10), ends_on=date(2026, 12, 11), public=True
            ),
            actor=Actor(principal_for_account(account)),
        )
        cid = created.public_id
        actor = await resolve_actor(session, CLI, created)
        await services.create_site(
            session, created, SiteCreate(code="cbg", name="Cao Bằng"), actor=actor
        )

    # Nobody logged in: the socket asks for auth, the page goes on anonymously.
    viewer = await browser.new_page(360, 740)
    await viewer.goto(f"/conferences/{cid}")
    await expect(viewer.locator("html")).to_have_attribute("data-live", "live")
    await rename_site(app, cid, "CBG", "Tỉnh Cao Bằng")
    await expect(row(viewer, "CBG")).to_contain_text("Tỉnh Cao Bằng")
    assert await viewer.locator("#sites-body button").count() == 0

    organizer = await browser.new_page()
    await log_in(organizer, "organizer")
    await organizer.goto(f"/conferences/{cid}")
    await expect(organizer.locator("html")).to_have_attribute("data-live", "live")

    # The conference turns private and the organizer's session ends: neither page may
    # follow any longer, and both say so instead of retrying for ever.
    async with db.transaction() as session:
        found = await services.get_conference(session, cid)
        actor = await resolve_actor(session, CLI, found)
        await services.update_conference(
            session, found, ConferenceUpdate(public=False), actor=actor
        )
        await session.exec(delete(BrowserSession))
    sockets: WeakSet[web.WebSocketResponse] = app[sockets_key]
    for socket in list(sockets):
        await socket.close(code=WSCloseCode.GOING_AWAY, message=b"test")
    for page in (viewer, organizer):
        await expect(page.locator("html")).to_have_attribute("data-live", "failed")
        await expect(page.locator("#live-region")).to_contain_text(
            "Không còn theo dõi trực tiếp được"
        )
    assert browser.errors == []


# Shows an API error on the add-site form, as conference.js would, and reads each field's text.
SHOW_ERRORS = """async (details) => {
  const { showErrors } = await import("/static/js/forms.js");
  const form = document.getElementById("add-site");
  showErrors(form, { code: "invalid_format", message: "invalid", details }, 422);
  return Object.fromEntries(details.map(({ field }) => [
    field, document.getElementById(`add-site-${field}-error`).textContent,
  ]));
}"""


async def test_field_errors_are_translated_by_their_type(
    browser: Browser, live_server: TestServer
) -> None:
    from playwright.async_api import expect

    db = live_server.app[db_key]
    account = await add_account(db, "organizer", can_create=True)
    async with db.transaction() as session:
        created = await services.create_conference(
            session,
            ConferenceCreate(title=TITLE, starts_on=date(2026, 12, 10), ends_on=date(2026, 12, 11)),
            actor=Actor(principal_for_account(account)),
        )
    page = await browser.new_page()
    await log_in(page, "organizer")
    await page.goto(f"/conferences/{created.public_id}")

    # Through the API: less_than_equal, then greater_than_equal.
    await add_site(page, "hue", "Huế", **{"Số người dự kiến": "20000000"})
    error = page.locator("#add-site-expected_attendance-error")
    await expect(error).to_have_text("Số quá lớn.")
    await add_site(page, "hue", "Huế", **{"Số người dự kiến": "-1"})
    await expect(error).to_have_text("Hãy nhập một số nguyên không âm.")

    # The type decides, whatever the wording; value_error and unknown types fall back to
    # the message, and a message nothing matches is shown as it is.
    details = [
        {"field": "name", "message": "wording never seen", "type": "string_too_long"},
        {"field": "code", "message": "wording never seen", "type": "missing"},
        {"field": "kind", "message": "wording never seen", "type": "literal_error"},
        {"field": "region", "message": "wording never seen", "type": "extra_forbidden"},
        {"field": "contact_email", "message": "not an email address", "type": "value_error"},
        {"field": "contact_phone", "message": "phone?", "type": "a_future_type"},
        {"field": "contact_name", "message": "wording never seen", "type": "value_error"},
    ]
    shown = await page.evaluate(SHOW_ERRORS, details)
    assert shown == {
        "name": "Quá dài.",
        "code": "Không được để trống.",
        "kind": "Hãy chọn một giá trị trong danh sách.",
        "region": "Máy chủ không nhận ô này.",
        "contact_email": "Địa chỉ email không hợp lệ.",
        "contact_phone": "Số điện thoại chỉ gồm chữ số, dấu cách và + . ( ) -.",
        "contact_name": "Giá trị không hợp lệ (wording never seen).",
    }
    assert browser.errors == []


# --- two organizers editing the same records ------------------------------------------------


async def two_organizers(browser: Browser, live_server: TestServer) -> tuple[Page, Page, str]:
    """Organizer A and organizer B on one conference with site HNI, both following live."""
    from playwright.async_api import expect

    app = live_server.app
    db = app[db_key]
    account = await add_account(db, "organizer", can_create=True)
    await add_account(db, "deputy")
    async with db.transaction() as session:
        created = await services.create_conference(
            session,
            ConferenceCreate(
                title=TITLE,
                starts_on=date(2026, 12, 10),
                ends_on=date(2026, 12, 11),
                venue="Hội trường Trung ương",
            ),
            actor=Actor(principal_for_account(account)),
        )
        cid = created.public_id
        actor = await resolve_actor(session, CLI, created)
        await services.create_site(
            session,
            created,
            SiteCreate(
                code="hni", name="Hà Nội", contact_name="Chị Lan", contact_phone="024 3825 0000"
            ),
            actor=actor,
        )
    await grant(app, cid, "deputy", "organizer")
    pages = []
    for username in ("organizer", "deputy"):
        page = await browser.new_page()
        await log_in(page, username)
        await page.goto(f"/conferences/{cid}")
        await expect(page.locator("html")).to_have_attribute("data-live", "live")
        pages.append(page)
    return pages[0], pages[1], cid


def patches(page: Page) -> list[Any]:
    """The bodies of every PATCH the page sends from now on."""
    sent: list[Any] = []

    def seen(request: Request) -> None:
        if request.method == "PATCH":
            sent.append(request.post_data_json)

    page.on("request", seen)
    return sent


async def read_json(page: Page, url: str) -> Any:
    """GET url of the JSON API with the page's session."""
    response = await page.request.get(url)
    assert response.ok, (url, response.status)
    return await response.json()


async def edit_site(page: Page, name: str, **fields: str) -> None:
    """Open the site's dialog, fill fields (by label), save, wait for it to close."""
    from playwright.async_api import expect

    await page.get_by_role("button", name=f"Sửa {name}").click()
    dialog = page.get_by_role("dialog", name="Sửa điểm cầu")
    for label, value in fields.items():
        await dialog.get_by_label(label).fill(value)
    await dialog.get_by_role("button", name="Lưu").click()
    await expect(dialog).to_be_hidden()


async def test_an_open_site_dialog_saves_only_what_was_changed(
    browser: Browser, live_server: TestServer
) -> None:
    from playwright.async_api import expect

    first, second, cid = await two_organizers(browser, live_server)
    sid = await row(first, "HNI").get_attribute("data-site-id")
    site_url = f"/api/v1/conferences/{cid}/sites/{sid}"
    sent = patches(first)

    # A opens the dialog; B changes the phone meanwhile.
    await first.get_by_role("button", name="Sửa Hà Nội").click()
    dialog = first.get_by_role("dialog", name="Sửa điểm cầu")
    phone = dialog.get_by_label("Điện thoại")
    await expect(phone).to_have_value("024 3825 0000")
    await edit_site(second, "Hà Nội", **{"Điện thoại": "024 3825 1111"})
    # A has not touched the phone: it follows B's change in place, with no notice.
    await expect(phone).to_have_value("024 3825 1111")
    await expect(first.locator("#edit-site-contact_phone-notice")).to_be_empty()

    # A changes only the name: only the name is sent, and B's phone survives.
    await dialog.get_by_label("Tên điểm cầu").fill("Thành phố Hà Nội")
    await dialog.get_by_role("button", name="Lưu").click()
    await expect(dialog).to_be_hidden()
    assert sent == [{"name": "Thành phố Hà Nội"}]
    site = await read_json(first, site_url)
    assert (site["name"], site["contact_phone"]) == ("Thành phố Hà Nội", "024 3825 1111")
    await expect(row(second, "HNI")).to_contain_text("Thành phố Hà Nội")
    audit = await read_json(first, f"/api/v1/conferences/{cid}/audit")
    updates = [e for e in audit["items"] if e["action"] == "site.update"]
    assert [set(e["changes"]) for e in updates] == [{"name"}, {"contact_phone"}]

    # Saving an unchanged dialog sends nothing and closes it.
    await first.get_by_role("button", name="Sửa Thành phố Hà Nội").click()
    await dialog.get_by_role("button", name="Lưu").click()
    await expect(dialog).to_be_hidden()
    assert len(sent) == 1
    assert browser.errors == []


async def test_a_field_both_changed_gets_a_notice(
    browser: Browser, live_server: TestServer
) -> None:
    from playwright.async_api import expect

    first, second, cid = await two_organizers(browser, live_server)
    sid = await row(first, "HNI").get_attribute("data-site-id")
    sent = patches(first)

    await first.get_by_role("button", name="Sửa Hà Nội").click()
    dialog = first.get_by_role("dialog", name="Sửa điểm cầu")
    phone = dialog.get_by_label("Điện thoại")
    await phone.fill("024 3825 2222")
    # B changes the same phone, and the contact's name, which A has not touched.
    await edit_site(
        second, "Hà Nội", **{"Điện thoại": "024 3825 3333", "Người liên hệ": "Anh Minh"}
    )
    notice = first.locator("#edit-site-contact_phone-notice")
    await expect(notice).to_have_text(
        "Người khác vừa đổi ô này thành “024 3825 3333”. "
        "Ô vẫn giữ giá trị của bạn; hãy xem lại trước khi lưu."
    )
    assert await notice.get_attribute("aria-live") == "polite"
    await expect(phone).to_have_value("024 3825 2222")
    await expect(phone).to_have_accessible_description(re.compile("024 3825 3333"))
    await expect(dialog.get_by_label("Người liên hệ")).to_have_value("Anh Minh")

    # A keeps their own value, knowingly: it is saved, B's contact name too.
    await dialog.get_by_role("button", name="Lưu").click()
    await expect(dialog).to_be_hidden()
    assert sent == [{"contact_phone": "024 3825 2222"}]
    site = await read_json(first, f"/api/v1/conferences/{cid}/sites/{sid}")
    assert (site["contact_phone"], site["contact_name"]) == ("024 3825 2222", "Anh Minh")

    # The notice goes when the value is set back to the other person's.
    await first.get_by_role("button", name="Sửa Hà Nội").click()
    await expect(notice).to_be_empty()
    await phone.fill("024 3825 4444")
    await edit_site(second, "Hà Nội", **{"Điện thoại": "024 3825 5555"})
    await expect(notice).to_contain_text("024 3825 5555")
    await phone.fill("024 3825 5555")
    await expect(notice).to_be_empty()
    await dialog.get_by_role("button", name="Hủy").click()

    # A site removed by someone else while its dialog is open: the dialog closes, saying so.
    await first.get_by_role("button", name="Sửa Hà Nội").click()
    await second.get_by_role("button", name="Xóa Hà Nội").click()
    await second.get_by_role("dialog").get_by_role("button", name="Xóa").click()
    await expect(dialog).to_be_hidden()
    await expect(first.locator("#sites-notice")).to_have_text(
        "Người khác vừa xóa điểm cầu Hà Nội (HNI), nên hộp thoại đã đóng; "
        "những gì bạn đang sửa chưa được lưu."
    )
    await expect(first.locator("#sites-heading")).to_be_focused()
    # B's own removal is no news to B.
    await expect(second.locator("#sites-notice")).to_be_empty()
    assert len(sent) == 1
    assert browser.errors == []


async def test_the_conference_form_saves_only_what_was_changed(
    browser: Browser, live_server: TestServer
) -> None:
    from playwright.async_api import expect

    first, second, cid = await two_organizers(browser, live_server)
    sent = patches(first)
    mine = first.locator("#edit-conference")
    theirs = second.locator("#edit-conference")
    await first.get_by_text("Sửa thông tin hội nghị").click()
    await second.get_by_text("Sửa thông tin hội nghị").click()

    # A changes the title; B changes the venue and saves first.
    await mine.get_by_label("Tên hội nghị").fill(TITLE + " (A)")
    await theirs.get_by_label("Địa điểm").fill("Trung tâm Hội nghị Quốc gia")
    await theirs.get_by_role("button", name="Lưu thay đổi").click()
    await expect(theirs.locator(".form-status")).to_have_text("Đã lưu thông tin hội nghị.")
    await expect(mine.get_by_label("Địa điểm")).to_have_value("Trung tâm Hội nghị Quốc gia")
    await expect(mine.get_by_label("Tên hội nghị")).to_have_value(TITLE + " (A)")
    await mine.get_by_role("button", name="Lưu thay đổi").click()
    await expect(mine.locator(".form-status")).to_have_text("Đã lưu thông tin hội nghị.")
    assert sent == [{"title": TITLE + " (A)"}]
    conference = await read_json(first, f"/api/v1/conferences/{cid}")
    assert (conference["title"], conference["venue"]) == (
        TITLE + " (A)",
        "Trung tâm Hội nghị Quốc gia",
    )
    await expect(second.get_by_role("heading", level=1)).to_have_text(TITLE + " (A)")
    await expect(theirs.get_by_label("Tên hội nghị")).to_have_value(TITLE + " (A)")

    # Nothing changed: nothing is sent.
    await mine.get_by_role("button", name="Lưu thay đổi").click()
    await expect(mine.locator(".form-status")).to_have_text("Không có thay đổi nào để lưu.")
    assert len(sent) == 1

    # Both change the venue: A is told, next to the field, and keeps their value.
    await mine.get_by_label("Địa điểm").fill("Nhà Quốc hội")
    await theirs.get_by_label("Địa điểm").fill("")
    await theirs.get_by_role("button", name="Lưu thay đổi").click()
    notice = first.locator("#edit-conference-venue-notice")
    await expect(notice).to_have_text(
        "Người khác vừa xóa trống ô này. Ô vẫn giữ giá trị của bạn; hãy xem lại trước khi lưu."
    )
    await expect(mine.get_by_label("Địa điểm")).to_have_value("Nhà Quốc hội")
    await theirs.get_by_label("Công khai: ai có đường dẫn đều xem được").check()
    await theirs.get_by_role("button", name="Lưu thay đổi").click()
    await expect(first.locator('[data-conference-field="public"]')).to_have_text("Công khai")
    # A never touched the checkbox: it follows B's change while A's venue is still unsaved.
    await expect(mine.get_by_label("Công khai: ai có đường dẫn đều xem được")).to_be_checked()
    await mine.get_by_role("button", name="Lưu thay đổi").click()
    await expect(notice).to_be_empty()
    assert sent[1:] == [{"venue": "Nhà Quốc hội"}]
    conference = await read_json(first, f"/api/v1/conferences/{cid}")
    assert (conference["venue"], conference["public"]) == ("Nhà Quốc hội", True)
    assert browser.errors == []
