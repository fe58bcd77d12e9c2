"""The chair's control room: who may open it, what it holds, and in a real headless
Chromium the agenda, the speaker list (requests from phones, approval, the countdown,
keyboard reordering, a stale reorder), the roll call, and 3,300 sites at once."""

from __future__ import annotations

import re
import time
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock_time
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

import pytest
from aiohttp import ClientSession, CookieJar, web
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import insert
from sqlmodel import col, select

from agenda.models import SitePresence
from agenda.presence import Beat, flush_presence
from agenda.schemas import AgendaItemCreate
from agenda.services import create_agenda_item
from conference.accounts import grant_role
from conference.actors import CLI, Actor
from conference.models import Site
from conference.schemas import ConferenceCreate
from conference.services import create_conference, get_conference
from server.keys import db_key
from tests.conftest import PASSWORD, add_account
from tests.web.browsing import expect_fits, keep, live, log_in, open_as
from tests.web.checkin_hall import Hall, insert_sites
from tests.web.conftest import Browser
from tests.web.test_checkin_render import log_in as form_log_in
from tests.web.test_checkin_render import page as get_page
from tests.web.test_checkin_render import staff_page
from tests.web.test_pages import check_page_security, check_static_url

if TYPE_CHECKING:
    from playwright.async_api import Page, WebSocketRoute

Client = TestClient[Any, Any]
ZONE = ZoneInfo("Asia/Ho_Chi_Minh")
ITEMS = (
    # title, kind, minutes from 08:00, duration, speaking limit (s)
    ("Khai mạc", "opening", 0, 15, 2),
    ("Tham luận của các điểm cầu", "discussion", 15, 60, 0),
    ("Bế mạc", "closing", 75, 10, 0),
)


async def add_agenda(app: web.Application, cid: str) -> list[str]:
    """The items of ITEMS, planned for today from 08:00 in Hanoi; their public ids."""
    start = datetime.combine(date.today(), clock_time(8, 0), tzinfo=ZONE)
    async with app[db_key].transaction() as session:
        conference = await get_conference(session, cid)
        actor = Actor(CLI, conference.id, frozenset({"organizer"}))
        ids = []
        for title, kind, offset, minutes, limit in ITEMS:
            item = await create_agenda_item(
                session,
                conference,
                AgendaItemCreate(
                    title=title,
                    kind=kind,  # type: ignore[arg-type]
                    planned_start=start + timedelta(minutes=offset),
                    duration_minutes=minutes,
                    speaking_limit_seconds=limit,
                ),
                actor=actor,
            )
            ids.append(item.public_id)
    return ids


class Http:
    """A JSON client of the live server: logged in as someone, or anonymous."""

    def __init__(self, server: TestServer) -> None:
        self.server = server
        self.session = ClientSession(cookie_jar=CookieJar(unsafe=True))
        self.csrf = ""

    async def login(self, username: str) -> Http:
        body = await self.call(
            "POST", "/api/v1/auth/login", {"username": username, "password": PASSWORD}
        )
        self.csrf = body["csrf_token"]
        return self

    async def call(self, method: str, path: str, json: Any = None, status: int = 0) -> Any:
        headers = {"X-CSRF-Token": self.csrf} if self.csrf else {}
        async with self.session.request(
            method, self.server.make_url(path), json=json, headers=headers
        ) as resp:
            body = await resp.json()
            if status:
                assert resp.status == status, body
            else:
                assert resp.status < 300, body
            return body

    async def close(self) -> None:
        await self.session.close()


class HeldSocket:
    """The page's live socket through Playwright: what the server sends can be held back."""

    def __init__(self) -> None:
        self.page_side: WebSocketRoute | None = None
        self.holding = False
        self.held: list[str | bytes] = []

    def route(self, ws: WebSocketRoute) -> None:
        self.page_side = ws
        server = ws.connect_to_server()
        server.on_message(self.from_server)

    def from_server(self, message: str | bytes) -> None:
        if self.holding:
            self.held.append(message)
        elif self.page_side is not None:
            self.page_side.send(message)

    def release(self) -> None:
        self.holding = False
        assert self.page_side is not None
        for message in self.held:
            self.page_side.send(message)
        self.held.clear()


async def open_held(pages: Browser, username: str, path: str) -> tuple[Page, HeldSocket]:
    """A wide page as username at path, live, its socket through a HeldSocket."""
    socket = HeldSocket()
    page = await pages.new_page(1280, 900)
    await page.route_web_socket(re.compile(r"/api/v1/ws$"), socket.route)
    await log_in(page, username)
    await page.goto(path)
    await live(page)
    return page, socket


def queue_names(page: Page) -> Any:
    return page.locator("#queue li .chair-speaker-name")


@pytest.mark.browser
async def test_the_chair_runs_the_agenda_the_speaker_list_and_the_roll_call(
    browser: Browser, hall: Hall, live_server: TestServer
) -> None:
    from playwright.async_api import expect

    app = live_server.app
    items = await add_agenda(app, hall.cid)
    organizer = await Http(live_server).login("organizer")
    operator = await Http(live_server).login("op_lci")
    phones = Http(live_server)
    try:
        page, socket = await open_held(browser, "chair", f"/c/{hall.cid}/chair")
        await expect(page.locator("#steps li")).to_have_count(3)
        await expect(page.locator("#next-title")).to_have_text("Khai mạc")
        await expect(page.locator("#steps li").first).to_contain_text("Dự kiến 08:00–08:15")

        # Start: the first item runs.
        await page.get_by_role("button", name="Bắt đầu mục tiếp theo").click()
        running = page.locator('#steps li[data-status="running"]')
        await expect(running).to_contain_text("Khai mạc")
        await expect(running).to_have_attribute("aria-current", "step")
        await expect(page.locator("#now-title")).to_have_text("Khai mạc")
        await expect(page.locator("#list-item")).to_have_text("Khai mạc")
        await expect(page.locator("#next-title")).to_have_text("Tham luận của các điểm cầu")

        # Delegates ask from their phones: the requests appear without a reload.
        for name in ("Lê Văn Cường", "Nguyễn Văn An", "Đặng Văn Giang"):
            await phones.call(
                "POST", f"/api/v1/delegate/{hall.links[name]}/speakers", {}, status=201
            )
        requests = page.locator("#requests li")
        await expect(requests).to_have_count(3)
        await expect(requests.first).to_contain_text("Lê Văn Cường")
        await expect(requests.first).to_contain_text("Lào Cai")
        await expect(page.locator("#requests-count")).to_have_text("3")

        for name in ("Lê Văn Cường", "Nguyễn Văn An", "Đặng Văn Giang"):
            await page.get_by_role("button", name=f"Duyệt {name}").click()
            await expect(queue_names(page).last).to_have_text(name)
        await expect(requests).to_have_count(0)
        await expect(queue_names(page)).to_have_text(
            ["Lê Văn Cường", "Nguyễn Văn An", "Đặng Văn Giang"]
        )

        # Call the next: the countdown runs (2 s on this item), then shows the overtime.
        await page.get_by_role("button", name="Mời người tiếp theo").click()
        await expect(page.locator("#speaking-name")).to_have_text("Lê Văn Cường")
        countdown = page.locator("#countdown")
        await expect(countdown).to_have_attribute("data-state", "over", timeout=6000)
        await expect(page.locator("#countdown-value")).to_have_text(re.compile(r"^\+0:0\d$"))
        await expect(page.locator("#countdown-note")).to_contain_text("Quá giờ")
        await page.get_by_role("button", name="Tạm dừng đồng hồ").click()
        await expect(page.get_by_role("button", name="Chạy đồng hồ")).to_be_visible()
        await expect(queue_names(page)).to_have_text(["Nguyễn Văn An", "Đặng Văn Giang"])

        # Reorder by keyboard: Alt+Up on Giang's entry sends the new order.
        giang = page.locator("#queue li", has_text="Đặng Văn Giang")
        await giang.get_by_role("button", name="Mời phát biểu Đặng Văn Giang").focus()
        async with page.expect_request(re.compile(r"/speakers/order$")) as sent:
            await page.keyboard.press("Alt+ArrowUp")
        order = (await sent.value).post_data_json
        listed = await organizer.call("GET", hall.api(f"/agenda/{items[0]}/speakers"))
        by_name = {s["name"]: s["id"] for s in listed["speakers"]}
        assert order["order"] == [by_name["Đặng Văn Giang"], by_name["Nguyễn Văn An"]]
        await expect(queue_names(page)).to_have_text(["Đặng Văn Giang", "Nguyễn Văn An"])
        # The focus stays on the entry that moved.
        focused = await page.evaluate("document.activeElement.closest('li')?.dataset.id")
        assert focused == by_name["Đặng Văn Giang"]

        # A stale reorder: the list changes elsewhere while this page has not heard yet.
        socket.holding = True
        listed = await organizer.call("GET", hall.api(f"/agenda/{items[0]}/speakers"))
        await organizer.call(
            "POST",
            hall.api(f"/agenda/{items[0]}/speakers/order"),
            {
                "order": [by_name["Nguyễn Văn An"], by_name["Đặng Văn Giang"]],
                "version": listed["version"],
            },
        )
        an = page.locator("#queue li", has_text="Nguyễn Văn An")
        await an.get_by_role("button", name="Chuyển Nguyễn Văn An lên").click()
        conflict = page.locator("#conflict")
        await expect(conflict).to_be_visible()
        await expect(conflict).to_contain_text("Danh sách vừa được thay đổi")
        await expect(page.locator("#conflict-list li")).to_have_text(
            ["Nguyễn Văn An (Hà Nội)", "Đặng Văn Giang (Đồng Tháp)"]
        )
        # Nothing was applied: the page still shows its (old) list until the stream says.
        await expect(queue_names(page)).to_have_text(["Đặng Văn Giang", "Nguyễn Văn An"])
        socket.release()
        await expect(queue_names(page)).to_have_text(["Nguyễn Văn An", "Đặng Văn Giang"])
        await page.get_by_role("button", name="Đã hiểu").click()
        await expect(conflict).to_be_hidden()

        # Statistics follow: one site has spoken.
        await expect(page.locator("#stats-sites tr")).to_have_count(1)
        await expect(page.locator("#stats-sites tr")).to_contain_text("Lào Cai")

        # Sites: attendance from the API, presence and the roll call from the stream.
        lci = page.locator('#sites-body tr[data-site="LCI"]')
        await expect(lci.locator('[data-cell="present"]')).to_have_text("0 / 2")
        await expect(page.locator('[data-count="never"]')).to_have_text("3")
        async with app[db_key].transaction() as session:
            conference = await get_conference(session, hall.cid)
            assert conference.id is not None
            site = (
                await session.exec(
                    select(Site).where(Site.conference_id == conference.id, Site.code == "LCI")
                )
            ).one()
            assert site.id is not None
            await flush_presence(session, {(conference.id, site.id): Beat(datetime.now(UTC), 85)})
        await expect(lci.locator('[data-cell="state"]')).to_have_text("Đã kết nối")
        await expect(lci.locator('[data-cell="latency"]')).to_have_text("85 ms")
        await expect(page.locator('[data-count="connected"]')).to_have_text("1")
        await expect(page.locator('[data-count="never"]')).to_have_text("2")

        await page.get_by_role("button", name="Bắt đầu điểm danh điểm cầu").click()
        status = page.locator("#roll-status")
        await expect(status).to_contain_text("0/3")
        await expect(lci.locator('[data-cell="roll"]')).to_have_text("Chưa trả lời")
        await operator.call("POST", hall.api("/roll-call/answer"), {})
        await expect(lci.locator('[data-cell="roll"]')).to_have_attribute("data-roll", "answered")
        await expect(lci.locator('[data-cell="roll"]')).to_contain_text("Sẵn sàng")
        await expect(status).to_contain_text("1/3")
        await page.get_by_role("button", name="Xem điểm cầu chưa trả lời").click()
        await expect(page.locator("#sites-body tr:not([hidden])")).to_have_count(2)
        await expect(lci).to_be_hidden()
        await expect(page.locator("#sites-summary")).to_have_text("Đang hiện 2 trên 3 điểm cầu")

        # End the item: it is done, nothing runs.
        await page.get_by_role("button", name="Kết thúc mục").click()
        await expect(page.locator("#now-title")).to_have_text("Không có mục nào đang diễn ra.")
        await expect(page.locator("#steps li").first).to_have_attribute("data-status", "done")
        await keep(page, "chair-1280")

        # On a phone: everything stacks, nothing scrolls sideways, targets stay large.
        phone = await open_as(browser, "chair", f"/c/{hall.cid}/chair")
        await live(phone)
        await expect(phone.locator("#steps li")).to_have_count(3)
        await expect(phone.locator("#sites-body tr")).to_have_count(3)
        await expect_fits(phone)
        await keep(phone, "chair-360")
        assert browser.errors == []
    finally:
        for client in (organizer, operator, phones):
            await client.close()


SITES = 3300


async def big_conference(app: web.Application) -> str:
    """3,300 communes: 1,000 connected, 300 disconnected, the rest never seen."""
    db = app[db_key]
    chair = await add_account(db, "chair")
    now = datetime.now(UTC)
    async with db.transaction() as session:
        conference = await create_conference(
            session,
            ConferenceCreate(
                title="Hội nghị 3.300 xã", starts_on=date.today(), ends_on=date.today()
            ),
            actor=Actor(CLI),
        )
        assert conference.id is not None
        actor = Actor(CLI, conference.id, frozenset({"organizer"}))
        await grant_role(session, chair, conference, "chair", actor=actor)
        await insert_sites(
            session,
            conference.id,
            (
                {
                    "code": f"X{n:04d}",
                    "name": f"Xã Phước {n}",
                    "position": n,
                    "expected_attendance": 20,
                }
                for n in range(SITES)
            ),
        )
        site_ids = await session.exec(
            select(Site.id).where(Site.conference_id == conference.id).order_by(col(Site.position))
        )
        presence = [
            {
                "site_id": site_id,
                "conference_id": conference.id,
                "connected": n < 1000,
                "since": now,
                "last_seen_at": now,
                "latency_ms": 40 + n % 200 if n < 1000 else None,
            }
            for n, site_id in enumerate(list(site_ids)[:1300])
        ]
        await session.exec(insert(SitePresence), params=presence)
        return conference.public_id


@pytest.mark.browser
async def test_thousands_of_sites_load_count_and_filter(
    browser: Browser, live_server: TestServer
) -> None:
    from playwright.async_api import expect

    cid = await big_conference(live_server.app)
    page = await browser.new_page(1280, 900)
    await log_in(page, "chair")
    started = time.monotonic()
    await page.goto(f"/c/{cid}/chair")
    summary = page.locator("#sites-summary")
    await expect(summary).to_have_text("Đang hiện 3.300 trên 3.300 điểm cầu")
    await expect(
        page.locator('#sites-body tr[data-site="X3299"] [data-cell="present"]')
    ).to_have_text("0 / 20")
    loaded = time.monotonic() - started
    # About 2 s on a quiet machine; the bound leaves room for a busy CI runner.
    assert loaded < 15, f"3,300 sites took {loaded:.1f} s"
    await expect(page.locator('[data-count="connected"]')).to_have_text("1.000")
    await expect(page.locator('[data-count="disconnected"]')).to_have_text("300")
    await expect(page.locator('[data-count="never"]')).to_have_text("2.000")

    started = time.monotonic()
    await page.get_by_label("Lọc theo tên hoặc mã").fill("phuoc 329")
    # "Phước 329" and "Phước 3290" to "Phước 3299".
    await expect(summary).to_have_text("Đang hiện 11 trên 3.300 điểm cầu")
    await page.get_by_label("Lọc theo tên hoặc mã").fill("")
    await page.get_by_label("Trạng thái", exact=True).select_option("disconnected")
    await expect(summary).to_have_text("Đang hiện 300 trên 3.300 điểm cầu")
    await page.get_by_label("Trạng thái", exact=True).select_option("offline")
    await expect(summary).to_have_text("Đang hiện 2.300 trên 3.300 điểm cầu")
    await page.get_by_label("Sắp xếp", exact=True).select_option("latency")
    first = page.locator("#sites-body tr:not([hidden])").first
    await expect(first).to_have_attribute("data-state", re.compile("disconnected|never"))
    await page.get_by_label("Trạng thái", exact=True).select_option("")
    await expect(page.locator("#sites-body tr").first).to_have_attribute("data-site", "X0199")
    assert time.monotonic() - started < 10
    assert browser.errors == []


# --- as the server renders it (no browser) ---------------------------------------------------


async def test_the_page_for_the_chair_and_who_else_may_open_it(
    client: Client, small_hall: Hall
) -> None:
    hall = small_hall
    path = f"/c/{hall.cid}/chair"
    doc = await staff_page(client, path, "chair")
    data = doc.page_data()
    assert data["conference"]["id"] == hall.cid
    assert data["organizer"] is False
    assert "js.chair.conflict" in data["strings"]
    h1 = doc.find("h1")
    assert h1 is not None and h1.text == "Phòng điều hành"
    scripts = [s["src"] for s in doc.find_all("script") if s.get("src")]
    assert len(scripts) == 1 and scripts[0].startswith("/static/js/chair.js?v=")
    check_static_url(scripts[0])
    for ident in ("live-region", "sites-summary", "roll-status", "announcer"):
        region = doc.by_id(ident)
        assert region is not None and (region.get("aria-live") or region.get("role")), ident
    timer = doc.by_id("countdown")
    assert timer is not None and timer.get("role") == "timer"

    _, html = await get_page(client, path + "?lang=en")
    assert "Control room" in html and "Phòng điều hành" not in html

    await form_log_in(client, "organizer")
    resp, html = await get_page(client, path)
    doc = check_page_security(resp, html)
    assert doc.page_data()["organizer"] is True

    await form_log_in(client, "op_lci")
    await get_page(client, path, status=403)
    await get_page(client, "/c/nope/chair", status=404)


async def test_the_conference_page_links_the_control_room(client: Client, small_hall: Hall) -> None:
    await form_log_in(client, "chair")
    _, html = await get_page(client, f"/conferences/{small_hall.cid}")
    assert f'href="/c/{small_hall.cid}/chair"' in html
    await form_log_in(client, "op_lci")
    _, html = await get_page(client, f"/conferences/{small_hall.cid}")
    assert f'href="/c/{small_hall.cid}/chair"' not in html
