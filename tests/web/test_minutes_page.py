"""The minutes: the secretary's page (who may open it, what it holds) and, in a real
headless Chromium, the facts following the chair's agenda without a reload, autosave,
a conflict between two tabs merged and listed in the history, finalising, and the
public verification of the downloaded PDF; on a phone in English. The verification
pages also without a browser: a file, a hash, a code, an unknown code, too many tries."""

from __future__ import annotations

import hashlib
import re
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from conference.accounts import grant_role
from conference.actors import CLI, Actor
from conference.services import get_conference
from server.keys import db_key, verify_limiter_key
from tests.conftest import Api, add_account, new_conference
from tests.web.browsing import expect_fits, keep, live, open_as
from tests.web.checkin_hall import TITLE, Hall, make_hall
from tests.web.conftest import Browser
from tests.web.htmlcheck import Page as Html
from tests.web.test_chair_page import Http, add_agenda, open_held
from tests.web.test_checkin_render import log_in as form_log_in
from tests.web.test_checkin_render import page as get_page
from tests.web.test_checkin_render import staff_page
from tests.web.test_pages import check_page_security, labelled


@pytest.fixture
def renders_documents() -> bool:
    """These pages make PDFs: the live server renders them in the session's worker."""
    return True


if TYPE_CHECKING:
    from playwright.async_api import FilePayload, Locator, Page

Client = TestClient[Any, Any]


@pytest.fixture
def app(rendering_app: web.Application) -> web.Application:
    return rendering_app


async def minutes_hall(app: web.Application) -> tuple[Hall, list[str]]:
    """The check-in hall with a secretary and the chair's three agenda items."""
    hall = await make_hall(app)
    account = await add_account(app[db_key], "secretary")
    async with app[db_key].transaction() as session:
        conference = await get_conference(session, hall.cid)
        actor = Actor(CLI, conference.id, frozenset({"organizer"}))
        await grant_role(session, account, conference, "secretary", actor=actor)
    return hall, await add_agenda(app, hall.cid)


async def download(client: Http, path: str) -> bytes:
    async with client.session.get(
        client.server.make_url(path), headers={"X-CSRF-Token": client.csrf}
    ) as resp:
        assert resp.status == 200, await resp.text()
        return await resp.read()


def section(page: Page, key: str) -> Locator:
    return page.locator(f'#minutes-doc article[data-section="{key}"]')


# --- in a browser -------------------------------------------------------------------------------


@pytest.fixture
async def minutes(live_server: TestServer) -> tuple[Hall, list[str]]:
    """The minutes hall on the live server."""
    return await minutes_hall(live_server.app)


@pytest.fixture
async def chair(live_server: TestServer, minutes: tuple[Hall, list[str]]) -> AsyncIterator[Http]:
    """The chair, through the API of the live server."""
    client = await Http(live_server).login("chair")
    yield client
    await client.close()


@pytest.fixture
async def secretary(
    live_server: TestServer, minutes: tuple[Hall, list[str]]
) -> AsyncIterator[Http]:
    """The secretary, through the API of the live server."""
    client = await Http(live_server).login("secretary")
    yield client
    await client.close()


@pytest.mark.browser
async def test_the_secretary_writes_merges_finalises_and_anyone_verifies(
    browser: Browser, minutes: tuple[Hall, list[str]], chair: Http, secretary: Http
) -> None:
    from playwright.async_api import expect

    hall, items = minutes
    page = await open_as(browser, "secretary", f"/c/{hall.cid}/minutes", 1280)
    await live(page)
    await expect(page.locator("#minutes-doc > article")).to_have_count(5)
    await expect(page.locator("#minutes-state")).to_have_text("Bản nháp — chưa hoàn tất.")
    first, second = section(page, items[0]), section(page, items[1])
    await expect(first.locator("h2")).to_have_text("1. Khai mạc")

    # The chair runs the first item: its speakers appear with their sites, no reload.
    await chair.call("POST", hall.api("/agenda/live"), {"action": "start"})
    await expect(first.locator('[data-role="status"]')).to_have_text("Đang diễn ra")
    await expect(first).to_have_attribute("aria-current", "step")
    for name, kind in (("Lê Văn Cường", "registered"), ("Nguyễn Văn An", "request")):
        body = {"delegate": hall.delegates[name], "kind": kind}
        await chair.call("POST", hall.api(f"/agenda/{items[0]}/speakers"), body, status=201)
    await chair.call("POST", hall.api(f"/agenda/{items[0]}/speakers/next"))
    spoke = first.locator('[data-role="speakers"] tr')
    await expect(spoke).to_have_count(1)
    await expect(spoke.first).to_contain_text("Lê Văn Cường")
    await expect(spoke.first).to_contain_text("Lào Cai")
    await expect(spoke.first).to_contain_text("Chánh Văn phòng")
    await chair.call("POST", hall.api(f"/agenda/{items[0]}/speakers/next"))
    await expect(spoke).to_have_count(2)
    await expect(spoke.nth(1)).to_contain_text("Nguyễn Văn An")
    await expect(spoke.nth(1)).to_contain_text("Hà Nội")

    # The secretary writes on the running item: saved by itself, revision 1.
    text = first.get_by_label("Nội dung biên bản")
    opening = "Đồng chí Chủ tịch khai mạc hội nghị."
    await text.fill(opening)
    save = first.locator('[data-role="save"]')
    await expect(save).to_contain_text("Đã lưu (bản 1,")
    saved = await secretary.call("GET", hall.api("/minutes"))
    by_key = {s["section"]: s for s in saved["sections"]}
    assert by_key[items[0]]["revision"] == 1 and by_key[items[0]]["text"] == opening

    # The second item starts; its speaker shows there, the first keeps its two.
    await chair.call("POST", hall.api("/agenda/live"), {"action": "start"})
    body = {"delegate": hall.delegates["Đặng Văn Giang"], "kind": "registered"}
    await chair.call("POST", hall.api(f"/agenda/{items[1]}/speakers"), body, status=201)
    await chair.call("POST", hall.api(f"/agenda/{items[1]}/speakers/next"))
    await expect(second.locator('[data-role="speakers"] tr')).to_have_count(1)
    await expect(second.locator('[data-role="speakers"] tr')).to_contain_text("Đồng Tháp")
    await expect(second.locator('[data-role="status"]')).to_have_text("Đang diễn ra")
    await expect(first.locator('[data-role="status"]')).to_have_text("Đã kết thúc")
    await expect(spoke).to_have_count(2)

    # A second tab (the organizer) opens the section at revision 1 and hears nothing more.
    other, socket = await open_held(browser, "organizer", f"/c/{hall.cid}/minutes")
    other_text = section(other, items[0]).get_by_label("Nội dung biên bản")
    await expect(other_text).to_have_value(opening)
    socket.holding = True

    # The first tab saves again (a line and a decision): revision 2.
    added = "- Thông qua chương trình hội nghị."
    await text.press("End")
    await text.press_sequentially("\n" + added)
    await first.get_by_role("button", name="Đánh dấu kết luận/quyết định").click()
    await first.get_by_label("Kết luận/quyết định 1").fill("Thông qua chương trình.")
    await expect(save).to_contain_text("Đã lưu (bản 2,")

    # The second tab edits from revision 1: the merge view shows the first tab's text.
    theirs_line = "Đại biểu Hà Nội đề nghị bổ sung báo cáo."
    await other_text.press("End")
    await other_text.press_sequentially("\n" + theirs_line)
    merge = section(other, items[0]).locator('[data-role="merge"]')
    await expect(merge).to_be_visible()
    await expect(merge).to_contain_text("Secretary đã lưu mục này (bản 2")
    removed = merge.locator('[data-role="theirs"] li[data-op="removed"]')
    await expect(removed).to_have_text(["−chỉ có trong bản đã lưu: " + added])
    only_mine = merge.locator('[data-role="added"] li[data-op="added"]')
    await expect(only_mine).to_have_text(["+chỉ có trong bản của bạn: " + theirs_line])
    # The saved decision joins the second tab's list, not lost by the merge.
    await expect(section(other, items[0]).get_by_label("Kết luận/quyết định 1")).to_have_value(
        "Thông qua chương trình."
    )
    await keep(other, "minutes-merge-1280")
    merged = "\n".join((opening, added, theirs_line))
    await merge.get_by_label("Bản của bạn").fill(merged)
    await merge.get_by_role("button", name="Lưu bản đã gộp").click()
    await expect(merge).to_be_hidden()
    await expect(section(other, items[0]).locator('[data-role="save"]')).to_contain_text(
        "Đã lưu (bản 3,"
    )
    saved = await secretary.call("GET", hall.api("/minutes"))
    by_key = {s["section"]: s for s in saved["sections"]}
    assert by_key[items[0]]["revision"] == 3
    assert by_key[items[0]]["text"] == merged
    assert by_key[items[0]]["decisions"] == ["Thông qua chương trình."]
    # The first tab, with nothing unsaved, takes the merged text silently.
    await expect(text).to_have_value(merged)
    socket.release()

    # Every revision is in the history, and two compare line by line.
    history = first.locator("details.minutes-history")
    await history.locator("summary").click()
    await expect(history.locator('[data-role="revisions"] li')).to_have_count(3)
    await expect(history.locator('[data-role="revisions"] li').nth(2)).to_contain_text(
        "Bản 3 — Organizer"
    )
    await history.get_by_role("button", name="So sánh").click()
    changes = history.locator('[data-role="changes"] li[data-op="added"]')
    await expect(changes).to_have_text(["+đã thêm: " + theirs_line])

    # Finalise (with its confirmation): version 1, read only, with its verification link.
    await page.get_by_role("button", name="Hoàn tất biên bản…").click()
    dialog = page.locator("#finalise-dialog")
    await expect(dialog).to_be_visible()
    await dialog.get_by_role("button", name="Hoàn tất và ký").click()
    await expect(page.locator("#minutes-state")).to_contain_text(
        "Đã hoàn tất — phiên bản 1.", timeout=30_000
    )
    version = page.locator('#versions li[data-version="1"]')
    await expect(version).to_contain_text("Phiên bản 1")
    verify_link = version.get_by_role("link", name=re.compile("^Trang xác minh"))
    href = await verify_link.get_attribute("href")
    assert href is not None and href.startswith("/verify/minutes/")
    await expect(text).to_be_hidden()
    await expect(first.locator(".minutes-prose li")).to_have_text(
        "Thông qua chương trình hội nghị."
    )
    await expect(page.locator("#amend-form")).to_be_visible()
    versions = await secretary.call("GET", hall.api("/minutes/versions"))
    assert [v["version"] for v in versions["versions"]] == [1]
    sha = versions["versions"][0]["sha256"]
    await expect(version.locator(".minutes-sha")).to_have_text(sha)

    # Anyone checks the downloaded PDF, with no account.
    pdf = await download(secretary, hall.api("/minutes/export.pdf"))
    assert hashlib.sha256(pdf).hexdigest() == sha
    anyone = await browser.new_page(390, 844)
    await anyone.goto("/verify/minutes")
    files: FilePayload = {"name": "bien-ban.pdf", "mimeType": "application/pdf", "buffer": pdf}
    await anyone.locator("#verify-file").set_input_files(files)
    await anyone.get_by_role("button", name="Kiểm tra tệp").click()
    result = anyone.locator("#verify-result")
    await expect(result).to_have_attribute("data-result", "match")
    await expect(result).to_contain_text("Đây là biên bản đã hoàn tất (phiên bản 1).")
    await expect(result.locator('[data-field="signature"]')).to_have_text(re.compile("^Hợp lệ"))
    await expect_fits(anyone, 390)
    await keep(anyone, "minutes-verify-390")
    changed: FilePayload = {**files, "buffer": pdf + b"\n%changed\n"}
    await anyone.locator("#verify-file").set_input_files(changed)
    await anyone.get_by_role("button", name="Kiểm tra tệp").click()
    await expect(result).to_have_attribute("data-result", "none")
    await expect(result).to_contain_text("không phải là một phiên bản đã hoàn tất")
    await expect(result.locator(".verify-sha")).to_have_text(
        hashlib.sha256(changed["buffer"]).hexdigest()
    )

    # Signed in, the page of the printed code checks the same file (sent with the token).
    await verify_link.click()
    await expect(page.locator("h1")).to_have_text("Biên bản đã hoàn tất — phiên bản 1")
    await page.locator("#verify-file").set_input_files(files)
    await page.get_by_role("button", name="Kiểm tra tệp").click()
    await expect(page.locator("#verify-result")).to_contain_text(
        "Tệp này đúng là phiên bản 1 của biên bản."
    )
    await keep(page, "minutes-verify-code")
    assert browser.errors == []


@pytest.mark.browser
async def test_the_minutes_on_a_phone_in_english(
    browser: Browser, minutes: tuple[Hall, list[str]], chair: Http
) -> None:
    from playwright.async_api import expect

    hall, items = minutes
    await chair.call("POST", hall.api("/agenda/live"), {"action": "start"})
    body = {"delegate": hall.delegates["Phạm Thị Dung"], "kind": "registered"}
    await chair.call("POST", hall.api(f"/agenda/{items[0]}/speakers"), body, status=201)
    await chair.call("POST", hall.api(f"/agenda/{items[0]}/speakers/next"))
    page = await open_as(browser, "secretary", f"/c/{hall.cid}/minutes?lang=en")
    await live(page)
    first = section(page, items[0])
    await expect(first.locator('[data-role="status"]')).to_have_text("Now")
    await expect(first.locator('[data-role="speakers"] tr')).to_contain_text("Lào Cai")
    await expect(page.locator("h1")).to_have_text("Minutes of the conference")
    # Typed, and the page reloads before the autosave: the text comes back and saves.
    typed = "A very long line: " + "Ủy-ban-nhân-dân-tỉnh-Lào-Cai-" * 8 + "\n- **bold** item"
    await first.get_by_label("Minutes text").fill(typed)
    await page.reload()
    await live(page)
    await expect(page.locator("#minutes-restored")).to_contain_text("1 section(s) was restored")
    await expect(first.get_by_label("Minutes text")).to_have_value(typed)
    await expect(first.locator('[data-role="save"]')).to_contain_text("Saved (revision 1,")
    assert await page.evaluate("Object.keys(localStorage).length") == 0
    await first.get_by_role("button", name="Mark a conclusion or decision").click()
    await first.locator("details.minutes-history summary").click()
    await expect(first.locator('[data-role="revisions"] li')).to_have_count(1)
    html = await page.content()
    for vietnamese in ("Nội dung biên bản", "Đang diễn ra", "Lịch sử", "Hoàn tất"):
        assert vietnamese not in html, vietnamese
    width = await page.evaluate("document.documentElement.scrollWidth")
    assert width <= 360, width
    await expect_fits(page)
    await keep(page, "minutes-360-en")
    assert browser.errors == []


@pytest.mark.browser
async def test_a_delegate_reads_the_minutes_only_when_allowed(
    browser: Browser, minutes: tuple[Hall, list[str]], chair: Http, secretary: Http
) -> None:
    from playwright.async_api import expect

    hall, items = minutes
    await chair.call("POST", hall.api("/agenda/live"), {"action": "start"})
    body = {"text": "Hội nghị **thống nhất** chương trình.", "revision": 0}
    await secretary.call("POST", hall.api(f"/minutes/sections/{items[0]}"), body)
    phone = await browser.new_page(360, 780)
    await phone.goto(f"/d/{hall.links['Lê Văn Cường']}")
    await live(phone)
    panel = phone.locator("#minutes-panel")
    await expect(panel).to_be_hidden()
    # The organizers let delegates read: the phone shows them without a reload.
    await secretary.call("PATCH", hall.api("/minutes/settings"), {"readers": "delegates"})
    body = {"text": "Hội nghị **thống nhất** chương trình.\n\n- Giao Văn phòng", "revision": 1}
    await secretary.call("POST", hall.api(f"/minutes/sections/{items[0]}"), body)
    await expect(panel).to_be_visible()
    await expect(panel.locator("h3").first).to_have_text("1. Khai mạc")
    await expect(panel.locator("strong").first).to_have_text("thống nhất")
    await expect(panel.locator("li")).to_contain_text(["Giao Văn phòng"])
    await secretary.call("PATCH", hall.api("/minutes/settings"), {"readers": "staff"})
    await phone.reload()
    await live(phone)
    await expect(panel).to_be_hidden()
    assert browser.errors == []


# --- as the server renders it (no browser) ----------------------------------------------------


@pytest.fixture
async def hall(client: Client, app: web.Application) -> tuple[Hall, list[str]]:
    return await minutes_hall(app)


async def test_who_may_open_the_minutes_page_and_where_it_is_linked(
    client: Client, hall: tuple[Hall, list[str]]
) -> None:
    cid = hall[0].cid
    path = f"/c/{cid}/minutes"
    doc = await staff_page(client, path, "secretary")
    data = doc.page_data()
    assert data["conference"]["id"] == cid and data["timezone"] == "Asia/Ho_Chi_Minh"
    assert data["canEdit"] is True and data["staff"] is True
    assert "js.minutes.merge.intro" in data["strings"]
    scripts = [s["src"] for s in doc.find_all("script") if s.get("src")]
    assert len(scripts) == 1 and scripts[0].startswith("/static/js/minutes.js?v=")
    assert doc.find("form", id="minutes-settings") is not None
    for ident in ("live-region", "announcer", "minutes-error"):
        region = doc.by_id(ident)
        assert region is not None and (region.get("aria-live") or region.get("role")), ident
    _, english = await get_page(client, path + "?lang=en")
    assert "Minutes of the conference" in english and "Biên bản hội nghị" not in english

    await form_log_in(client, "chair")
    _, html = await get_page(client, path)
    doc = Html(html)
    assert doc.page_data()["canEdit"] is False and doc.page_data()["staff"] is True
    assert doc.find("form", id="minutes-settings") is None
    assert f'href="/c/{cid}/minutes"' in (await get_page(client, f"/c/{cid}/chair"))[1]

    # A site's operator reads them only when the book says so.
    await form_log_in(client, "op_lci")
    await get_page(client, path, status=403)
    organizer = Api(client)
    client.session.cookie_jar.clear()
    await organizer.login("organizer")
    status, book = await organizer.patch(
        f"/api/v1/conferences/{cid}/minutes/settings", {"readers": "sites"}
    )
    assert status == 200 and book["readers"] == "sites"
    await form_log_in(client, "op_lci")
    _, html = await get_page(client, path)
    data = Html(html).page_data()
    assert data["canEdit"] is False and data["staff"] is False
    await get_page(client, "/c/nope/minutes", status=404)

    # The conference page links the minutes for the staff only.
    for username, shown in (("secretary", True), ("chair", True), ("op_lci", False)):
        await form_log_in(client, username)
        _, html = await get_page(client, f"/conferences/{cid}")
        assert (f'href="/c/{cid}/minutes"' in html) is shown, username


class Answer:
    """A verification page as the server sent it."""

    def __init__(self, html: str) -> None:
        self.text = html
        self.doc = Html(html)

    @property
    def result(self) -> str:
        found = self.doc.by_id("verify-result")
        assert found is not None
        return found["data-result"]


async def verify(client: Client, path: str, data: Any, status: int = 200) -> Answer:
    resp = await client.post(path, data=data, allow_redirects=False)
    html = await resp.text()
    assert resp.status == status, html[:2000]
    check_page_security(resp, html)
    return Answer(html)


def pdf_form(body: bytes, name: str = "minutes.pdf") -> aiohttp.FormData:
    form = aiohttp.FormData()
    form.add_field("file", body, filename=name, content_type="application/pdf")
    return form


@pytest.fixture
async def small(client: Client, app: web.Application) -> str:
    """A conference with one site and its secretary (no hall: fewer accounts to hash)."""
    db = app[db_key]
    account = await add_account(db, "secretary")
    conference, actor, _ = await new_conference(db, title=TITLE)
    async with db.transaction() as session:
        await grant_role(session, account, conference, "secretary", actor=actor)
    return conference.public_id


async def test_the_verification_pages(client: Client, app: web.Application, small: str) -> None:
    cid = small
    secretary = Api(client)
    await secretary.login("secretary")
    status, _ = await secretary.post(
        f"/api/v1/conferences/{cid}/minutes/sections/opening", {"text": "Khai mạc.", "revision": 0}
    )
    assert status == 200
    status, made = await secretary.post(f"/api/v1/conferences/{cid}/minutes/finalise", {})
    assert status == 201, made
    resp = await client.get(f"/api/v1/conferences/{cid}/minutes/export.pdf")
    pdf = await resp.read()
    assert hashlib.sha256(pdf).hexdigest() == made["sha256"]
    amendment = {"text": "Sửa lỗi chính tả ở mục 1."}
    status, amended = await secretary.post(
        f"/api/v1/conferences/{cid}/minutes/amendments", amendment
    )
    assert status == 201 and amended["version"] == 2
    client.session.cookie_jar.clear()

    # The form, for anyone: no session, no token, labelled, usable without JavaScript.
    resp, html = await get_page(client, "/verify/minutes")
    doc = check_page_security(resp, html)
    labelled(doc)
    assert doc.find("meta", name="csrf-token") is None
    form = doc.find("form", id="verify-file-form")
    assert form is not None and form["enctype"] == "multipart/form-data"

    answer = await verify(client, "/verify/minutes", pdf_form(pdf))
    assert answer.result == "match"
    assert "Đây là biên bản đã hoàn tất (phiên bản 1)." in answer.text
    assert made["sha256"] in answer.text and "Hợp lệ" in answer.text
    superseded = answer.doc.by_id("verify-superseded")
    assert superseded is not None
    assert "Phiên bản mới nhất là phiên bản 2." in answer.text
    answer = await verify(client, "/verify/minutes", {"sha256": made["sha256"].upper()})
    assert answer.result == "match"
    other = hashlib.sha256(b"%PDF-1.7 something else").hexdigest()
    answer = await verify(client, "/verify/minutes", {"sha256": other})
    assert answer.result == "none" and other in answer.text

    # Refused input: the form again with the reason, nothing else.
    answer = await verify(client, "/verify/minutes", pdf_form(b"not a pdf"), status=422)
    assert "không phải tệp PDF" in answer.text
    answer = await verify(client, "/verify/minutes", {"sha256": "abc"}, status=422)
    assert "64 ký tự" in answer.text
    answer = await verify(client, "/verify/minutes", {"sha256": ""}, status=422)
    assert "Hãy chọn tệp PDF" in answer.text

    # By the printed code: the version's details, and a file checked against it.
    path = f"/verify/minutes/{made['code']}"
    resp, html = await get_page(client, path)
    doc = check_page_security(resp, html)
    labelled(doc)
    assert made["sha256"] in html and "phiên bản 1" in html
    answer = await verify(client, path, pdf_form(pdf))
    assert answer.result == "match" and "Tệp này đúng là phiên bản 1" in answer.text
    answer = await verify(client, path, pdf_form(pdf + b"\n"))
    assert answer.result == "none"
    _, html = await get_page(client, "/verify/minutes/NoSuchCode123", status=404)
    assert "Không có biên bản đã hoàn tất nào mang mã xác minh này." in html
    assert made["sha256"] not in html

    # A form from another site is refused; a signed-in user's form carries its token.
    resp = await client.post(
        "/verify/minutes", data={"sha256": other}, headers={"Origin": "https://evil.example"}
    )
    assert resp.status == 403
    await form_log_in(client, "secretary")
    _, html = await get_page(client, "/verify/minutes")
    token = Html(html).find("input", name="csrf_token")
    assert token is not None
    answer = await verify(
        client, "/verify/minutes", {"sha256": made["sha256"], "csrf_token": token["value"]}
    )
    assert answer.result == "match"
    client.session.cookie_jar.clear()

    # Too many tries from one address: a 429 page saying when to try again.
    limiter = app[verify_limiter_key]
    for _ in range(app[verify_limiter_key].limit + 1):
        limiter.hit("verify:127.0.0.1")
    resp, html = await get_page(client, path, status=429)
    assert int(resp.headers["Retry-After"]) >= 1 and "Quá nhiều lượt xác minh" in html
    answer = await verify(client, "/verify/minutes", pdf_form(pdf), status=429)
    assert answer.result == "busy"
