"""The check-in pages as the server renders them: who may open which, and what they hold."""

from __future__ import annotations

import re
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient

from tests.conftest import PASSWORD
from tests.web.checkin_hall import Hall, make_hall
from tests.web.htmlcheck import Page
from tests.web.test_pages import check_page_security, check_static_url, labelled

Client = TestClient[Any, Any]


@pytest.fixture
async def hall(client: Client, app: web.Application) -> Hall:
    return await make_hall(app)


async def log_in(client: Client, username: str) -> None:
    """As username, and no one else (the form refuses a session without its CSRF token)."""
    client.session.cookie_jar.clear()
    resp = await client.post(
        "/login", data={"username": username, "password": PASSWORD}, allow_redirects=False
    )
    assert resp.status == 303, await resp.text()


async def page(client: Client, path: str, status: int = 200) -> tuple[Any, str]:
    resp = await client.get(path, allow_redirects=False)
    html = await resp.text()
    assert resp.status == status, html[:2000]
    return resp, html


async def staff_page(client: Client, path: str, username: str) -> Page:
    """A page that sends a stranger to the login form, as username: secure, labelled, in
    Vietnamese."""
    resp = await client.get(path, allow_redirects=False)
    assert resp.status == 303 and resp.headers["Location"].startswith("/login?next=")

    await log_in(client, username)
    resp, html = await page(client, path)
    doc = check_page_security(resp, html)
    labelled(doc)
    assert doc.lang == "vi"
    return doc


async def test_the_operator_page_is_their_own_site(client: Client, hall: Hall) -> None:
    await log_in(client, "op_lci")
    # Another site named in the URL changes nothing: an operator works at their own.
    resp, html = await page(client, f"/c/{hall.cid}/checkin?site=HNI")
    doc = check_page_security(resp, html)
    labelled(doc)
    assert doc.lang == "vi"
    data = doc.page_data()
    assert data["site"] == {
        "id": hall.sites["LCI"],
        "code": "LCI",
        "name": "Lào Cai",
        "expected": 2,
    }
    assert data["conference"]["id"] == hall.cid
    assert data["timezone"] == "Asia/Ho_Chi_Minh"
    check_static_url(data["jsqr"])
    assert data["jsqr"].startswith("/static/vendor/jsqr/jsQR.js?v=")
    assert "js.checkin.refused.credential_forged" in data["strings"]
    h1 = doc.find("h1")
    assert h1 is not None and "Lào Cai" in h1.text
    assert doc.by_id("site-code") is None  # no site picker
    for ident in ("scan-result", "search-status", "queue-text"):
        region = doc.by_id(ident)
        assert region is not None and region.get("aria-live"), ident
    scripts = [s["src"] for s in doc.find_all("script") if s.get("src")]
    assert len(scripts) == 1 and scripts[0].startswith("/static/js/checkin.js?v=")
    screen = f"/c/{hall.cid}/sites/{hall.sites['LCI']}/checkin-screen"
    assert any(a.get("href") == screen for a in doc.find_all("a"))


async def test_an_organizer_picks_a_site_by_code(client: Client, hall: Hall) -> None:
    await log_in(client, "organizer")
    resp, html = await page(client, f"/c/{hall.cid}/checkin")
    doc = check_page_security(resp, html)
    labelled(doc)
    assert "site" not in doc.page_data()
    assert doc.find("script", type="module") is None
    options = [o["value"] for o in doc.find_all("option")]
    assert options == ["HNI", "LCI", "DTP"]
    _, html = await page(client, f"/c/{hall.cid}/checkin?site=nope")
    doc = Page(html)
    assert "Không có điểm cầu nào mã NOPE." in html
    field = doc.by_id("site-code")
    assert field is not None and field.get("aria-invalid") == "true"
    _, html = await page(client, f"/c/{hall.cid}/checkin?site=dtp&lang=en")
    doc = Page(html)
    assert doc.lang == "en"
    assert doc.page_data()["site"]["code"] == "DTP"
    assert "Scan badges" in html


async def test_who_may_open_which_page(client: Client, hall: Hall) -> None:
    cid = hall.cid
    lci_screen = f"/c/{cid}/sites/{hall.sites['LCI']}/checkin-screen"
    # Nobody logged in: to the login form, coming back afterwards.
    for path in (f"/c/{cid}/checkin", f"/c/{cid}/attendance", lci_screen):
        resp, _ = await page(client, path, 303)
        assert resp.headers["Location"].startswith("/login?next=/c/"), path
    await page(client, "/c/no-such-conference/checkin", 303)

    await log_in(client, "chair")
    await page(client, f"/c/{cid}/checkin", 403)
    await page(client, lci_screen, 403)
    resp, html = await page(client, f"/c/{cid}/attendance")
    doc = check_page_security(resp, html)
    labelled(doc)
    exports = {a["href"] for a in doc.find_all("a") if "/export." in (a.get("href") or "")}
    assert exports == {
        f"/api/v1/conferences/{cid}/attendance/export.{ext}" for ext in ("csv", "xlsx", "pdf")
    }
    for sort in ("site", "checked_in", "expected", "percent"):
        header = doc.find("th", **{"data-sort": sort})
        assert header is not None and header["aria-sort"] == "none", sort
    await page(client, "/c/no-such-conference/attendance", 404)

    await log_in(client, "op_hni")
    await page(client, f"/c/{cid}/attendance", 403)
    await page(client, lci_screen, 404)
    resp, html = await page(client, f"/c/{cid}/sites/{hall.sites['HNI']}/checkin-screen")
    doc = check_page_security(resp, html)
    assert doc.page_data()["site"]["code"] == "HNI"
    h1 = doc.find("h1")
    assert h1 is not None and h1.text == "Hà Nội"
    svg = doc.by_id("screen-qr")
    assert svg is not None and svg.get("role") == "img" and svg.get("aria-labelledby")

    await log_in(client, "organizer")
    await page(client, lci_screen)
    await page(client, f"/c/{cid}/sites/not-a-site/checkin-screen", 404)


async def test_the_conference_page_links_to_check_in_by_role(client: Client, hall: Hall) -> None:
    checkin, board = f"/c/{hall.cid}/checkin", f"/c/{hall.cid}/attendance"
    for username, wanted in (
        ("organizer", {checkin, board}),
        ("chair", {board}),
        ("op_lci", {checkin}),
    ):
        await log_in(client, username)
        _, html = await page(client, f"/conferences/{hall.cid}")
        links = {a["href"] for a in Page(html).find_all("a")}
        assert links & {checkin, board} == wanted, username


async def test_the_delegate_page_needs_only_its_link(client: Client, hall: Hall) -> None:
    secret = hall.links["Lê Văn Cường"]
    resp, html = await page(client, f"/d/{secret}")
    doc = check_page_security(resp, html)
    assert resp.headers["X-Robots-Tag"] == "noindex, nofollow"
    assert resp.headers["Referrer-Policy"] == "no-referrer"
    h1 = doc.find("h1")
    assert h1 is not None and h1.text == "Lê Văn Cường"
    img = doc.find("img")
    assert img is not None and img["src"] == f"/api/v1/delegate/{secret}/qr.svg"
    assert img["alt"] == "Mã QR trên thẻ đại biểu của Lê Văn Cường"
    assert "Lào Cai" in html and "Bạn chưa điểm danh." in html
    data = doc.page_data()
    assert data["secret"] == secret and data["siteNames"] == {"LCI": "Lào Cai"}
    check_static_url(data["jsqr"])
    # The badge's image is the delegate's QR.
    qr = await client.get(img["src"])
    assert qr.status == 200 and qr.content_type == "image/svg+xml"

    # No login, no delegate: a link that is not one is a plain 404.
    for bad in ("x" * 32, secret[:-1], secret + "x", secret[:-1] + "."):
        resp = await client.get(f"/d/{bad}")
        assert resp.status == 404, bad
        assert "Lê Văn Cường" not in await resp.text()


async def test_the_delegate_page_shows_the_agenda_and_the_check_in(
    client: Client, hall: Hall, app: web.Application
) -> None:
    from datetime import UTC, datetime, time

    from sqlmodel import select

    from agenda.models import AgendaItem
    from attendance.models import Delegate
    from conference.models import Conference, Site
    from server.keys import db_key

    db = app[db_key]
    async with db.transaction() as session:
        conference = (
            await session.exec(select(Conference).where(Conference.public_id == hall.cid))
        ).one()
        assert conference.id is not None
        day = conference.starts_on
        opening = AgendaItem(
            conference_id=conference.id,
            title="Khai mạc hội nghị",
            planned_start=datetime.combine(day, time(1, 30), tzinfo=UTC),
            duration_minutes=15,
            presenter_name="Đồng chí Chánh Văn phòng Trung ương",
        )
        session.add(opening)
        await session.flush()
        session.add(
            AgendaItem(
                conference_id=conference.id,
                parent_id=opening.id,
                title="Phát biểu chào mừng <b>",
                position=1,
            )
        )
        delegate = (
            await session.exec(
                select(Delegate).where(Delegate.public_id == hall.delegates["Lê Văn Cường"])
            )
        ).one()
        site = (await session.exec(select(Site).where(Site.code == "HNI"))).one()
        delegate.checked_in_at = datetime.combine(day, time(1, 5), tzinfo=UTC)
        delegate.checkin_site_id = site.id
        session.add(delegate)
    _, html = await page(client, f"/d/{hall.links['Lê Văn Cường']}")
    doc = Page(html)
    # Times in the conference's zone (Asia/Ho_Chi_Minh, UTC+7), with the day (it lasts two).
    day_text = day.strftime("%d/%m/%Y")
    assert re.search(rf"{day_text} 08:30</span> <span[^>]*>Khai mạc hội nghị", html), html
    # Text is escaped.
    assert "Phát biểu chào mừng &lt;b&gt;" in html
    assert "Đồng chí Chánh Văn phòng Trung ương" in html
    state = doc.by_id("checkin-state")
    assert state is not None and state.get("data-checked-in") == "true"
    assert "Đã điểm danh tại Hà Nội lúc 08:05." in html
    assert doc.page_data()["siteNames"] == {"LCI": "Lào Cai", "HNI": "Hà Nội"}
