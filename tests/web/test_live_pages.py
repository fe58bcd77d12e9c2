"""The live pages in a real headless Chromium: a site's screen, the delegate's phone and the
operator's panel, following what the chair does through the API, without a reload."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any

import aiohttp
import pytest
from aiohttp.test_utils import TestServer

from conference.actors import CLI, Actor
from conference.admin import issue_token
from conference.services import get_conference
from server.keys import db_key, sockets_key
from server.runtime import presence_key
from tests.web.browsing import expect_fits, keep, live, open_as
from tests.web.checkin_hall import TITLE, Hall
from tests.web.conftest import Browser, wait_until
from tests.web.htmlcheck import Page as HtmlPage
from tests.web.test_pages import check_page_security

if TYPE_CHECKING:
    from playwright.async_api import Page

pytestmark = pytest.mark.browser

ITEMS = (
    ("Khai mạc hội nghị", "opening"),
    ("Thảo luận: kiến nghị của các điểm cầu", "discussion"),
    ("Bế mạc", "closing"),
)
# Records whether the connection banner was ever shown (it may come and go quickly).
WATCH_BANNER = """() => {
  window.sawBanner = false;
  new MutationObserver(() => {
    if (document.querySelector('#live-region .banner')) window.sawBanner = true;
  }).observe(document.getElementById('live-region'), { childList: true, subtree: true });
}"""


class Chair:
    """The chair's (and organizer's) side, through the HTTP API with a bearer token."""

    def __init__(self, http: aiohttp.ClientSession, hall: Hall, token: str) -> None:
        self.http = http
        self.hall = hall
        self.headers = {"Authorization": f"Bearer {token}"}

    async def call(self, method: str, tail: str, body: Any = None, status: int = 200) -> Any:
        async with self.http.request(
            method, self.hall.api(tail), json=body, headers=self.headers
        ) as response:
            data = await response.json()
            assert response.status == status, data
            return data


@pytest.fixture
async def chair(live_server: TestServer, hall: Hall) -> AsyncIterator[Chair]:
    app = live_server.app
    async with app[db_key].transaction() as session:
        conference = await get_conference(session, hall.cid)
        actor = Actor(CLI, conference.id, frozenset({"organizer"}))
        token, _, _ = await issue_token(
            session, conference, "chair desk", "organizer", None, actor=actor
        )
    async with aiohttp.ClientSession(str(live_server.make_url("/"))) as http:
        yield Chair(http, hall, token)


async def seconds_shown(page: Page) -> int:
    text = (await page.locator("#countdown").inner_text()).strip()
    match = re.fullmatch(r"(-?)(\d+):(\d\d)", text)
    assert match, text
    value = int(match[2]) * 60 + int(match[3])
    return -value if match[1] else value


async def banner_comes_and_goes(pages: list[Page], app: Any) -> None:
    """The server drops every socket: each page shows the banner, then clears it."""
    from playwright.async_api import expect

    for page in pages:
        await page.evaluate(WATCH_BANNER)
    for ws in list(app[sockets_key]):
        await ws.close(code=aiohttp.WSCloseCode.GOING_AWAY, message=b"test")
    for page in pages:
        await wait_until(page, "window.sawBanner === true")
        await live(page)
        await expect(page.locator("#live-region .banner")).to_have_count(0)


async def test_screen_phone_and_operator_follow_the_chair(
    browser: Browser, hall: Hall, chair: Chair, live_server: TestServer
) -> None:
    from playwright.async_api import expect

    app = live_server.app
    app[presence_key].flush_seconds = 0.3
    items = [
        (await chair.call("POST", "/agenda", {"title": title, "kind": kind}, status=201))["id"]
        for title, kind in ITEMS
    ]
    issued = await chair.call(
        "POST", "/tokens", {"name": "Màn hình Lào Cai", "role": "screen", "site": "LCI"}, 201
    )

    # The screen: the token leaves the address bar at once and is kept for a reload.
    screen = await browser.new_page(1920, 1080)
    await screen.goto(f"/c/{hall.cid}/screen?token={issued['token']}")
    await live(screen)
    assert "token" not in screen.url
    assert await screen.evaluate(f"sessionStorage.getItem('plenary.screen-token.{hall.cid}')")
    await expect(screen.locator("#stage-heading")).to_have_text(TITLE)
    await expect(screen.locator("#now-item")).to_have_text("Sắp tới: Khai mạc hội nghị")
    await expect(screen.locator("#agenda li")).to_have_count(3)
    await expect(screen.locator("#stage-site")).to_have_text("Điểm cầu Lào Cai")

    phone = await browser.new_page(360, 780)
    await phone.goto(f"/d/{hall.links['Lê Văn Cường']}?lang=en")
    await live(phone)
    await expect(phone.locator("#live-item")).to_have_text("Coming up: Khai mạc hội nghị")

    operator = await open_as(browser, "op_lci", f"/c/{hall.cid}/checkin")
    await live(operator)
    await expect(operator.locator("#speakers-item")).to_have_text(
        "Chưa có nội dung nào đang diễn ra."
    )

    # The chair starts the discussion and calls a speaker from Hà Nội.
    await chair.call("POST", "/agenda/live", {"action": "start", "item": items[1]})
    await expect(screen.locator("#now-item")).to_have_text(ITEMS[1][0])
    running = screen.locator('#agenda li[aria-current="step"]')
    await expect(running).to_contain_text(ITEMS[1][0])
    await expect(screen.locator(f'#agenda li[data-item="{items[0]}"]')).to_have_attribute(
        "data-status", "planned"
    )
    await expect(phone.locator("#live-item")).to_have_text(f"Now: {ITEMS[1][0]}")
    await expect(phone.locator(f'#agenda li[data-item="{items[1]}"]')).to_have_attribute(
        "aria-current", "step"
    )
    await chair.call(
        "POST", f"/agenda/{items[1]}/speakers", {"delegate": hall.delegates["Nguyễn Văn An"]}, 201
    )
    await chair.call("POST", f"/agenda/{items[1]}/speakers/next")
    await expect(screen.locator("#speaker-name")).to_have_text("Nguyễn Văn An")
    await expect(screen.locator("#speaker-site")).to_have_text("Điểm cầu Hà Nội")
    await expect(screen.locator("#speaker-line")).to_have_text(
        "Chánh Văn phòng · Văn phòng Thành ủy Hà Nội"
    )
    await expect(screen.locator("#countdown")).to_have_text(re.compile(r"^[45]:\d\d$"))
    # The countdown ticks: after a second and more it shows less, by about the time that
    # passed (measured here, so a slow machine does not fail it).
    started = asyncio.get_running_loop().time()
    first = await seconds_shown(screen)
    await screen.wait_for_timeout(1300)
    later = await seconds_shown(screen)
    elapsed = asyncio.get_running_loop().time() - started
    assert 0 < first - later <= elapsed + 1.5, (first, later, elapsed)
    await expect(phone.locator("#live-speaker")).to_have_text("Speaking: Nguyễn Văn An (Hà Nội)")

    # The delegate asks to speak; the chair approves: their place shows.
    status = phone.locator("#speak-status")
    await expect(status).to_have_text("You have not asked to speak on this item.")
    await phone.get_by_label("Topic (optional)").fill("Kiến nghị về hạ tầng")
    await phone.get_by_role("button", name="Ask to speak").click()
    await expect(status).to_have_text("Waiting for approval by the chair.")
    await expect(phone.get_by_role("button", name="Withdraw")).to_be_visible()
    waiting = await chair.call("GET", f"/agenda/{items[1]}/speakers")
    [asked] = [s for s in waiting["speakers"] if s["status"] == "requested"]
    assert asked["delegate"] == hall.delegates["Lê Văn Cường"]
    assert asked["topic"] == "Kiến nghị về hạ tầng"
    await chair.call("POST", f"/speakers/{asked['id']}", {"action": "approve"})
    await expect(status).to_have_text("You are number 1 in the queue.")
    queued = screen.locator("#queue li")
    await expect(queued).to_have_count(1)
    await expect(queued).to_contain_text("Lê Văn Cường")
    await expect(queued).to_contain_text("Lào Cai")

    # The operator: a roll call to answer, and a delegate of the site to put on the list.
    await expect(operator.locator("#speakers-item")).to_contain_text(ITEMS[1][0])
    await expect(operator.locator("#site-speakers")).to_contain_text("Lê Văn Cường")
    await chair.call("POST", "/roll-call", status=201)
    ready = operator.get_by_role("button", name="Sẵn sàng")
    await ready.click()
    await expect(operator.locator("#roll-call-text")).to_contain_text("Đã báo sẵn sàng lúc")
    await expect(ready).to_be_hidden()
    roll = await chair.call("GET", "/roll-call")
    assert "LCI" in roll["answered"]
    await operator.get_by_label("Đại biểu phát biểu").select_option(label="Phạm Thị Dung")
    await operator.get_by_role("button", name="Đăng ký phát biểu").click()
    dung = operator.locator("#site-speakers li", has_text="Phạm Thị Dung")
    await expect(dung).to_contain_text("chờ chủ tọa duyệt")

    # The screen's heartbeat: the chair sees Lào Cai connected.
    # Heartbeats are flushed in batches: wait for the flush (the deadline only ends a wait
    # that has already failed).
    deadline = asyncio.get_running_loop().time() + 60
    while True:
        snapshot = await chair.call("GET", "/live")
        presence = {entry["site"]: entry for entry in snapshot.get("presence", [])}
        if presence.get("LCI", {}).get("connected"):
            break
        assert asyncio.get_running_loop().time() < deadline, presence
        await asyncio.sleep(0.2)

    # The server drops the sockets: a banner on each page, gone once they are back.
    await banner_comes_and_goes([screen, phone], app)
    await expect(screen.locator("#speaker-name")).to_have_text("Nguyễn Văn An")
    await expect(status).to_have_text("You are number 1 in the queue.")

    # Withdrawn, the place is given up; a point of order waits for the chair again.
    await phone.get_by_role("button", name="Withdraw").click()
    await expect(status).to_have_text("You have not asked to speak on this item.")
    await expect(queued).to_have_count(0)
    await phone.get_by_role("button", name="Point of order").click()
    await expect(status).to_have_text("Waiting for approval by the chair.")
    listed = await chair.call("GET", f"/agenda/{items[1]}/speakers")
    kinds = {(s["name"], s["kind"], s["status"]) for s in listed["speakers"]}
    assert ("Lê Văn Cường", "point_of_order", "requested") in kinds
    assert ("Lê Văn Cường", "request", "withdrawn") in kinds

    await keep(screen, "live-screen-1920")
    await keep(phone, "live-delegate-360")
    await keep(operator, "live-operator-360")
    await expect_fits(phone)
    await expect_fits(operator)
    # A reload in English: the token kept by the tab still works.
    await screen.goto(f"/c/{hall.cid}/screen?lang=en")
    await live(screen)
    await expect(screen.locator("#now-label")).to_have_text("Now")
    await expect(screen.locator("#speaker-site")).to_have_text("From Hà Nội")
    await screen.set_viewport_size({"width": 360, "height": 780})
    await expect_fits(screen)
    await keep(screen, "live-screen-360")
    assert browser.errors == []


async def test_the_screen_page_html(live_server: TestServer, hall: Hall, chair: Chair) -> None:
    """No token in any link, no referrer; the title only for a public conference."""
    issued = await chair.call(
        "POST", "/tokens", {"name": "Màn hình Hà Nội", "role": "screen", "site": "HNI"}, 201
    )
    async with aiohttp.ClientSession(str(live_server.make_url("/"))) as http:
        async with http.get(f"/c/{hall.cid}/screen?token={issued['token']}&lang=en") as resp:
            assert resp.status == 200
            assert resp.headers["Referrer-Policy"] == "no-referrer"
            html = await resp.text()
        page = check_page_security(resp, html)
        assert issued["token"] not in html
        assert page.lang == "en"
        assert page.find("meta", name="referrer", content="no-referrer") is not None
        assert page.page_data()["conference"] == {"id": hall.cid, "title": ""}
        assert TITLE not in html
        assert page.by_id("now") is not None and page.by_id("now")["aria-live"] == "polite"
        assert page.by_id("awards") is not None
        # Any id gets the same bare page: it does not tell which conferences exist.
        async with http.get("/c/nosuchconference/screen") as resp:
            assert resp.status == 200
            assert HtmlPage(await resp.text()).page_data()["conference"]["title"] == ""
        await chair.call("PATCH", "", {"public": True})
        async with http.get(f"/c/{hall.cid}/screen") as resp:
            shown = HtmlPage(await resp.text())
        assert shown.page_data()["conference"] == {"id": hall.cid, "title": TITLE}
        assert (shown.by_id("stage-heading") or shown.tags[0]).text == TITLE
        # The delegate's page carries what its live part needs.
        async with http.get(f"/d/{hall.links['Lê Văn Cường']}") as resp:
            mine = check_page_security(resp, await resp.text())
        data = mine.page_data()
        assert data["me"] == hall.delegates["Lê Văn Cường"]
        assert data["conference"]["id"] == hall.cid
        assert mine.by_id("speak-form") is not None


async def test_the_chair_page_drives_the_screen_and_the_phone(
    browser: Browser, hall: Hall, chair: Chair, live_server: TestServer
) -> None:
    """Three browser contexts: what the chair does on their page shows on a site's screen
    and on a delegate's phone; the delegate's request reaches the chair's page."""
    from playwright.async_api import expect

    for title, kind in ITEMS:
        await chair.call("POST", "/agenda", {"title": title, "kind": kind}, status=201)
    issued = await chair.call(
        "POST", "/tokens", {"name": "Màn hình Đồng Tháp", "role": "screen", "site": "DTP"}, 201
    )
    room = await open_as(browser, "chair", f"/c/{hall.cid}/chair", 1280)
    await live(room)
    screen = await browser.new_page(1920, 1080)
    await screen.goto(f"/c/{hall.cid}/screen?token={issued['token']}")
    await live(screen)
    phone = await browser.new_page(360, 740)
    await phone.goto(f"/d/{hall.links['Lê Văn Cường']}?lang=en")
    await live(phone)

    # The chair starts the first item on their page.
    await room.get_by_role("button", name="Bắt đầu mục tiếp theo").click()
    await expect(room.locator("#now-title")).to_have_text(ITEMS[0][0])
    await expect(screen.locator("#now-item")).to_have_text(ITEMS[0][0])
    await expect(phone.locator("#live-item")).to_have_text(f"Now: {ITEMS[0][0]}")

    # The delegate asks on their phone; the request arrives on the chair's page.
    await phone.get_by_role("button", name="Ask to speak").click()
    await expect(phone.locator("#speak-status")).to_have_text("Waiting for approval by the chair.")
    request = room.locator("#requests li", has_text="Lê Văn Cường")
    await expect(request).to_contain_text("Lào Cai")
    await room.get_by_role("button", name="Duyệt Lê Văn Cường").click()
    await expect(phone.locator("#speak-status")).to_have_text("You are number 1 in the queue.")

    # The chair calls the next speaker: the screen and the phone show who speaks.
    await room.get_by_role("button", name="Mời người tiếp theo").click()
    await expect(room.locator("#speaking-name")).to_have_text("Lê Văn Cường")
    await expect(screen.locator("#speaker-name")).to_have_text("Lê Văn Cường")
    await expect(screen.locator("#countdown")).to_have_text(re.compile(r"^[45]:\d\d$"))
    await expect(phone.locator("#live-speaker")).to_contain_text("Lê Văn Cường")


async def test_every_screen_shows_who_is_honoured_at_the_ceremony(
    browser: Browser, hall: Hall, chair: Chair
) -> None:
    from playwright.async_api import expect

    decision = await chair.call(
        "POST",
        "/awards/decisions",
        {
            "number": "15-QĐ/VPTW",
            "issued_on": "2026-12-15",
            "issuing_body": "Văn phòng Trung ương Đảng",
            "signer_name": "Nguyễn Văn Thắng",
            "signer_title": "Chánh Văn phòng",
            "award_kind": "emulation_flag",
        },
        201,
    )
    for name, site in (("Văn phòng Tỉnh ủy Lào Cai", "LCI"), ("Văn phòng Thành ủy Hà Nội", "HNI")):
        await chair.call(
            "POST",
            f"/awards/decisions/{decision['id']}/awards",
            {"name": name, "site": site, "citation": "Dẫn đầu phong trào thi đua năm 2026"},
            201,
        )
    ceremony = await chair.call(
        "POST", "/agenda", {"title": "Trao tặng Cờ thi đua", "kind": "awards"}, 201
    )
    issued = await chair.call(
        "POST", "/tokens", {"name": "Màn hình Lào Cai", "role": "screen", "site": "LCI"}, 201
    )
    screen = await browser.new_page(1920, 1080)
    await screen.goto(f"/c/{hall.cid}/screen?token={issued['token']}")
    await live(screen)
    awards = screen.locator("#awards")
    await expect(awards).to_be_hidden()
    await chair.call("POST", "/agenda/live", {"action": "start", "item": ceremony["id"]})
    await chair.call("POST", "/awards/announce", {})
    await expect(awards).to_be_visible()
    await expect(screen.locator("#award-kind")).to_have_text("Cờ thi đua")
    await expect(screen.locator("#award-name")).to_have_text("Văn phòng Tỉnh ủy Lào Cai")
    await expect(screen.locator("#award-decision")).to_contain_text("15-QĐ/VPTW")
    await expect(screen.locator("#award-decision")).to_contain_text("15/12/2026")
    # The chair's page calls the next one and shows who is being presented.
    room = await open_as(browser, "chair", f"/c/{hall.cid}/chair", 1280)
    await live(room)
    await expect(room.locator("#ceremony")).to_be_visible()
    await expect(room.locator("#ceremony-award")).to_contain_text("Văn phòng Tỉnh ủy Lào Cai")
    await expect(room.locator("#ceremony-remaining")).to_have_text("Còn lại: 1")
    await room.get_by_role("button", name="Mời người nhận tiếp theo").click()
    await expect(screen.locator("#award-name")).to_have_text("Văn phòng Thành ủy Hà Nội")
    await expect(room.locator("#ceremony-award")).to_contain_text("Văn phòng Thành ủy Hà Nội")
    await expect(room.locator("#ceremony-remaining")).to_have_text("Còn lại: 0")
    await expect(room.locator("#ceremony-next")).to_be_disabled()
    # A screen opened now starts from the snapshot with the same award.
    late = await browser.new_page(1280, 720)
    await late.goto(f"/c/{hall.cid}/screen?token={issued['token']}")
    await live(late)
    await expect(late.locator("#award-name")).to_have_text("Văn phòng Thành ủy Hà Nội")
    await keep(screen, "screen-ceremony-1920")
    # The ceremony ends with its item.
    await chair.call("POST", "/agenda/live", {"action": "end"})
    await expect(awards).to_be_hidden()
    await expect(late.locator("#awards")).to_be_hidden()
    assert browser.errors == []
