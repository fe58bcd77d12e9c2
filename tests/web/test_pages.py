"""The server-rendered pages through the aiohttp test client (no browser)."""

from __future__ import annotations

import hashlib
import re
from typing import Any
from urllib.parse import urlsplit

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient

from server.keys import db_key
from server.pages_render import STATIC_DIR
from server.pages_static import StaticUrl, file_versions
from tests.conftest import CONFERENCE, PASSWORD, Api, add_account, add_member
from tests.web.htmlcheck import Page

Client = TestClient[Any, Any]
INLINE_HANDLER = re.compile(r"<[^>]+\son[a-z]+\s*=", re.IGNORECASE)
LONG_CACHE = "public, max-age=31536000, immutable"


def versioned(path: str) -> str:
    """/static/<path>?v=<the first 12 hex digits of the file's SHA-256>"""
    digest = hashlib.sha256((STATIC_DIR / path).read_bytes()).hexdigest()
    return f"/static/{path}?v={digest[:12]}"


def check_static_url(url: str) -> None:
    """A static file's URL carries the current version of that file."""
    parts = urlsplit(url)
    assert parts.path.startswith("/static/"), url
    assert url == versioned(parts.path.removeprefix("/static/")), url


def check_page_security(resp: Any, html: str) -> Page:
    """CSP, no inline handlers or scripts, a skip link and the landmarks."""
    csp = resp.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "default-src 'none'" in csp
    assert "unsafe-inline" not in csp
    assert resp.headers["X-Content-Type-Options"] == "nosniff"
    assert resp.headers["Cache-Control"] == "no-store"
    assert not INLINE_HANDLER.search(html)
    page = Page(html)
    for script in page.find_all("script"):
        assert script.get("src") or script.get("type") == "application/json", script.attrs
        if script.get("src"):
            check_static_url(script["src"])
    assert "style=" not in html
    skip = page.find("a", class_="skip-link")
    assert skip is not None and skip["href"] == "#main"
    assert page.find("main", id="main") is not None
    assert page.find("header") is not None and page.find("nav") is not None
    for link in page.find_all("link"):
        check_static_url(link["href"])
    return page


def labelled(page: Page) -> None:
    """Every visible input has a <label for> naming it."""
    targets = {label["for"] for label in page.find_all("label") if label.get("for")}
    for tag in page.tags:
        if tag.name in ("input", "select", "textarea") and tag.get("type") != "hidden":
            assert tag.get("id") in targets, tag.attrs


async def login_form(
    client: Client,
    username: str,
    password: str = PASSWORD,
    headers: dict[str, str] | None = None,
    **extra: str,
) -> Any:
    return await client.post(
        "/login",
        data={"username": username, "password": password, **extra},
        headers=headers,
        allow_redirects=False,
    )


async def test_home_redirects_by_login(client: Client, app: web.Application) -> None:
    resp = await client.get("/", allow_redirects=False)
    assert resp.status == 303 and resp.headers["Location"] == "/login"
    await add_account(app[db_key], "minh")
    await login_form(client, "minh")
    resp = await client.get("/", allow_redirects=False)
    assert resp.status == 303 and resp.headers["Location"] == "/conferences"


async def test_login_page(client: Client) -> None:
    resp = await client.get("/login")
    assert resp.status == 200 and resp.content_type == "text/html"
    html = await resp.text()
    page = check_page_security(resp, html)
    labelled(page)
    assert page.lang == "vi"
    form = page.find("form", id="login-form")
    assert form is not None and form["method"] == "post" and form["action"] == "/login"
    assert page.find("input", name="username") is not None
    assert page.find("input", name="password", type="password") is not None
    assert "Đăng nhập" in html


async def test_login_sets_session_and_redirects(client: Client, app: web.Application) -> None:
    await add_account(app[db_key], "lan", can_create=True)
    resp = await login_form(client, "lan")
    assert resp.status == 303
    assert resp.headers["Location"] == "/conferences"
    cookie = resp.cookies["plenary_session"]
    assert cookie.value and cookie["httponly"] and cookie["samesite"] == "Lax"
    resp = await client.get("/conferences")
    assert resp.status == 200
    html = await resp.text()
    page = check_page_security(resp, html)
    assert "Lan" in html
    meta = page.find("meta", name="csrf-token")
    assert meta is not None and meta["content"]
    status, me = await Api(client).get("/api/v1/me")
    assert status == 200
    assert me["username"] == "lan" and me["csrf_token"] == meta["content"]


async def test_login_goes_back_only_to_local_pages(client: Client, app: web.Application) -> None:
    await add_account(app[db_key], "hoa")
    for target, expected in [
        ("/conferences/abc?x=1", "/conferences/abc?x=1"),
        ("//evil.example/x", "/conferences"),
        ("https://evil.example/", "/conferences"),
        ("/\\evil.example", "/conferences"),
        ("/\t/evil.example", "/conferences"),
        ("/\r\nSet-Cookie: x=1", "/conferences"),
        ("/conferences/ x", "/conferences"),
        ("", "/conferences"),
    ]:
        client.session.cookie_jar.clear()
        resp = await login_form(client, "hoa", next=target)
        assert resp.status == 303 and resp.headers["Location"] == expected, target


async def test_wrong_password_rerenders_with_401(client: Client, app: web.Application) -> None:
    await add_account(app[db_key], "tuan")
    resp = await login_form(client, "tuan", "not the password")
    assert resp.status == 401
    assert "plenary_session" not in resp.cookies
    html = await resp.text()
    page = check_page_security(resp, html)
    error = page.by_id("login-error")
    assert error is not None and error["role"] == "alert"
    assert "Sai tên đăng nhập hoặc mật khẩu" in error.text
    username = page.find("input", name="username")
    assert username is not None and username["value"] == "tuan"
    assert username["aria-invalid"] == "true"
    assert username["aria-describedby"] == "login-error"
    # An unknown user gets the same answer; English pages say it in English.
    resp = await client.post(
        "/login?lang=en", data={"username": "nobody", "password": "x"}, allow_redirects=False
    )
    assert resp.status == 401
    assert "Wrong username or password." in await resp.text()


async def test_login_with_missing_fields(client: Client) -> None:
    resp = await client.post("/login", data={"username": "  "}, allow_redirects=False)
    assert resp.status == 400
    assert "Hãy nhập tên đăng nhập và mật khẩu." in await resp.text()
    assert "plenary_session" not in resp.cookies


async def test_login_rate_limit(client: Client, app: web.Application) -> None:
    await add_account(app[db_key], "quang")
    for _ in range(5):  # the test config allows 5 failures a minute
        resp = await login_form(client, "quang", "wrong password")
        assert resp.status == 401
    resp = await login_form(client, "quang")
    assert resp.status == 429
    assert int(resp.headers["Retry-After"]) > 0
    assert "plenary_session" not in resp.cookies
    assert "Đăng nhập sai quá nhiều lần" in await resp.text()
    # Another username from the same address is not blocked.
    await add_account(app[db_key], "thu")
    resp = await login_form(client, "thu")
    assert resp.status == 303


async def test_login_rotates_the_session(client: Client, app: web.Application) -> None:
    await add_account(app[db_key], "an")
    await login_form(client, "an")
    first = Page(await (await client.get("/conferences")).text())
    meta = first.find("meta", name="csrf-token")
    assert meta is not None
    old_cookie = client.session.cookie_jar.filter_cookies(client.make_url("/"))["plenary_session"]
    # A logged-in browser posting the form again needs its CSRF token.
    resp = await login_form(client, "an")
    assert resp.status == 403
    resp = await login_form(client, "an", csrf_token=meta["content"])
    assert resp.status == 303
    assert resp.cookies["plenary_session"].value != old_cookie.value
    client.session.cookie_jar.clear()
    client.session.cookie_jar.update_cookies({"plenary_session": old_cookie.value})
    resp = await client.get("/conferences", allow_redirects=False)
    assert resp.status == 303 and resp.headers["Location"].startswith("/login")


async def test_logout(client: Client, app: web.Application) -> None:
    await add_account(app[db_key], "binh")
    await login_form(client, "binh")
    page = Page(await (await client.get("/conferences")).text())
    form = page.find("form", action="/logout")
    assert form is not None and form["method"] == "post"
    token = page.find("input", name="csrf_token")
    assert token is not None
    resp = await client.post("/logout", data={}, allow_redirects=False)
    assert resp.status == 403  # no CSRF token: still logged in
    resp = await client.post("/logout", data={"csrf_token": token["value"]}, allow_redirects=False)
    assert resp.status == 303 and resp.headers["Location"] == "/login"
    resp = await client.get("/conferences", allow_redirects=False)
    assert resp.status == 303
    assert resp.headers["Location"] == "/login?next=/conferences"


async def test_a_refused_form_gets_the_error_page_but_the_api_stays_json(
    client: Client, app: web.Application
) -> None:
    await add_account(app[db_key], "cuong")
    await login_form(client, "cuong")
    current = Page(await (await client.get("/conferences")).text()).find("input", name="csrf_token")
    assert current is not None
    # A logout button in a tab older than the session carries a stale token.
    resp = await client.post("/logout", data={"csrf_token": "stale"}, allow_redirects=False)
    assert resp.status == 403 and resp.content_type == "text/html"
    html = await resp.text()
    page = check_page_security(resp, html)
    assert page.lang == "vi"
    assert "Không có quyền" in html and "Biểu mẫu này đã cũ" in html
    # Nothing happened: still logged in, and this page's logout form carries the current token.
    token = page.find("input", name="csrf_token")
    assert token is not None and token["value"] == current["value"]
    resp = await client.get("/conferences", allow_redirects=False)
    assert resp.status == 200
    # In the page language the browser chose.
    client.session.cookie_jar.update_cookies({"plenary_lang": "en"})
    resp = await client.post("/logout", data={"csrf_token": "stale"}, allow_redirects=False)
    assert resp.status == 403 and resp.content_type == "text/html"
    html = await resp.text()
    assert Page(html).lang == "en" and "This form was out of date" in html
    # A form posted from another site gets the page too, logged in or not.
    for jar in ("logged in", "anonymous"):
        if jar == "anonymous":
            client.session.cookie_jar.clear()
        resp = await login_form(client, "cuong", headers={"Origin": "https://evil.example"})
        assert resp.status == 403 and resp.content_type == "text/html", jar
        check_page_security(resp, await resp.text())
    assert "plenary_session" not in resp.cookies
    # The API answers the same refusals in JSON.
    await login_form(client, "cuong")
    for headers in ({"X-CSRF-Token": "stale"}, {"Origin": "https://evil.example"}):
        resp = await client.post("/api/v1/auth/logout", headers=headers)
        assert resp.status == 403 and resp.content_type == "application/json", headers
        assert (await resp.json())["error"]["code"] == "csrf_failed"
        assert "Content-Security-Policy" not in resp.headers
    status, _ = await Api(client).get("/api/v1/me")
    assert status == 200


async def test_conferences_list_and_create_form(
    client: Client, organizer: Api, conference: dict[str, Any]
) -> None:
    resp = await client.get("/conferences")
    html = await resp.text()
    page = check_page_security(resp, html)
    labelled(page)
    link = page.find("a", href=f"/conferences/{conference['id']}")
    assert link is not None and link.text == CONFERENCE["title"]
    assert "10/12/2026 – 11/12/2026" in html
    assert CONFERENCE["venue"] in html
    form = page.find("form", id="create-conference")
    assert form is not None
    for name in ("title", "starts_on", "ends_on", "timezone", "venue"):
        assert page.find("input", name=name) is not None, name
    assert page.find("script", src=versioned("js/conferences.js")) is not None
    english = await (await client.get("/conferences?lang=en")).text()
    assert "2026-12-10 – 2026-12-11" in english


async def test_no_create_form_without_permission(client: Client, app: web.Application) -> None:
    await add_account(app[db_key], "khanh")
    await login_form(client, "khanh")
    html = await (await client.get("/conferences")).text()
    page = Page(html)
    assert page.find("form", id="create-conference") is None
    assert "Bạn chưa tham gia hội nghị nào." in html


async def add_site(api: Api, cid: str, **fields: Any) -> dict[str, Any]:
    status, body = await api.post(f"/api/v1/conferences/{cid}/sites", fields)
    assert status == 201, body
    created: dict[str, Any] = body
    return created


async def test_conference_page_for_organizer(
    client: Client, organizer: Api, conference: dict[str, Any]
) -> None:
    cid = conference["id"]
    site = await add_site(
        organizer,
        cid,
        code="hni",
        name="Hà Nội",
        region="Hà Nội",
        expected_attendance=40,
        contact_name="Nguyễn Văn An",
        contact_phone="+84 24 3825 0000",
        contact_email="vp@hanoi.example",
    )
    await add_site(organizer, cid, code="tw", name="Hội trường Trung ương", kind="main")
    resp = await client.get(f"/conferences/{cid}")
    assert resp.status == 200
    html = await resp.text()
    page = check_page_security(resp, html)
    labelled(page)
    h1 = page.find("h1")
    assert h1 is not None and h1.text.strip() == CONFERENCE["title"]
    rows = page.find_all("tr", data_site_id=site["id"])
    assert len(rows) == 1
    header = page.find("th", scope="row", data_field="code")
    assert header is not None
    assert {th.text for th in page.find_all("th", scope="col")} >= {"Mã", "Tên điểm cầu"}
    assert "Nguyễn Văn An" in html and 'href="tel:+842438250000"' in html
    assert 'href="mailto:vp@hanoi.example"' in html
    assert "Điểm cầu chính" in html and "2 điểm cầu · 40 người dự kiến" in html
    assert page.find("form", id="add-site") is not None
    assert page.find("form", id="edit-conference") is not None
    assert page.find("dialog", id="site-dialog") is not None
    assert len(page.find_all("button", data_action="edit")) == 3  # 2 rows and the template
    data = page.page_data()
    assert data["lang"] == "vi" and data["canEdit"] is True
    assert [s["code"] for s in data["sites"]] == ["HNI", "TW"]
    assert data["conference"]["id"] == cid
    assert data["strings"]["js.live.lost"] == "Mất kết nối — đang kết nối lại…"
    assert all(key.startswith("js.") for key in data["strings"])
    assert page.find("script", src=versioned("js/conference.js")) is not None
    live = page.by_id("live-region")
    assert live is not None and live["aria-live"] in ("polite", "assertive")


async def read_only_page(client: Client, cid: str) -> tuple[str, Page]:
    """The conference page as someone who may not change it: no edit buttons."""
    resp = await client.get(f"/conferences/{cid}")
    assert resp.status == 200
    html = await resp.text()
    page = Page(html)
    assert page.find("button", data_action="edit") is None
    return html, page


async def test_conference_page_is_read_only_for_a_chair(
    client: Client, app: web.Application, organizer: Api, conference: dict[str, Any]
) -> None:
    cid = conference["id"]
    await add_site(organizer, cid, code="hpg", name="Hải Phòng")
    await add_member(app[db_key], cid, "chair", "chair")
    await Api(client).login("chair")
    html, page = await read_only_page(client, cid)
    assert "Hải Phòng" in html and "Chủ trì" in html
    assert page.find("button", data_action="remove") is None
    assert page.find("form", id="add-site") is None
    assert page.find("form", id="edit-conference") is None
    assert page.find("dialog") is None
    assert page.find("th", scope="col") is not None
    assert page.page_data()["canEdit"] is False


async def test_unknown_or_invisible_conference_is_a_404_page(
    client: Client, app: web.Application, organizer: Api, conference: dict[str, Any]
) -> None:
    resp = await client.get("/conferences/doesnotexist")
    assert resp.status == 404 and resp.content_type == "text/html"
    html = await resp.text()
    check_page_security(resp, html)
    assert "Không tìm thấy trang" in html
    # Another account without a role in it sees the same 404.
    await add_account(app[db_key], "stranger")
    await Api(client).login("stranger")
    resp = await client.get(f"/conferences/{conference['id']}")
    assert resp.status == 404
    assert "Không tìm thấy trang" in await resp.text()
    # Anyone else is asked to log in, whether the conference exists or not.
    client.session.cookie_jar.clear()
    for cid in (conference["id"], "doesnotexist"):
        resp = await client.get(f"/conferences/{cid}", allow_redirects=False)
        assert resp.status == 303
        assert resp.headers["Location"] == f"/login?next=/conferences/{cid}"


async def test_unknown_path_is_an_html_404_but_the_api_stays_json(client: Client) -> None:
    resp = await client.get("/no/such/page?lang=en")
    assert resp.status == 404 and resp.content_type == "text/html"
    assert "Page not found" in await resp.text()
    resp = await client.get("/api/v1/no/such/thing")
    assert resp.status == 404 and resp.content_type == "application/json"
    assert "Content-Security-Policy" not in resp.headers


async def test_public_conference_is_readable_anonymously(
    client: Client, organizer: Api, conference: dict[str, Any]
) -> None:
    cid = conference["id"]
    status, body = await organizer.patch(f"/api/v1/conferences/{cid}", {"public": True})
    assert status == 200, body
    await add_site(organizer, cid, code="dng", name="Đà Nẵng")
    client.session.cookie_jar.clear()
    html, page = await read_only_page(client, cid)
    assert "Đà Nẵng" in html and "Người xem" in html
    assert page.find("meta", name="csrf-token") is None


async def test_language_switch(client: Client) -> None:
    resp = await client.get("/login")
    assert Page(await resp.text()).lang == "vi"
    resp = await client.get("/login?lang=en")
    page = Page(await resp.text())
    assert page.lang == "en" and "Log in" in page.find_all("h1")[0].text
    cookie = resp.cookies["plenary_lang"]
    assert cookie.value == "en" and cookie["samesite"] == "Lax"
    # The cookie keeps the choice on the next pages.
    page = Page(await (await client.get("/login")).text())
    assert page.lang == "en"
    current = page.find("a", hreflang="en")
    other = page.find("a", hreflang="vi")
    assert current is not None and current.get("aria-current") == "true"
    assert other is not None and other["href"] == "/login?lang=vi" and other["lang"] == "vi"
    # An unknown language changes nothing.
    resp = await client.get("/login?lang=fr")
    assert Page(await resp.text()).lang == "en" and "plenary_lang" not in resp.cookies
    resp = await client.get("/login?lang=vi")
    assert Page(await resp.text()).lang == "vi"
    assert Page(await (await client.get("/login")).text()).lang == "vi"


async def test_everything_is_escaped(
    client: Client, organizer: Api, conference: dict[str, Any]
) -> None:
    evil = '<script>alert("x")</script></script><img src=x>'
    cid = conference["id"]
    status, body = await organizer.patch(f"/api/v1/conferences/{cid}", {"title": evil})
    assert status == 200, body
    await add_site(organizer, cid, code="x1", name=evil, contact_email="a@b.example")
    for path in ("/conferences", f"/conferences/{cid}"):
        html = await (await client.get(path)).text()
        assert evil not in html
        assert "<img src=x>" not in html
        assert "&lt;script&gt;" in html
    page = Page(await (await client.get(f"/conferences/{cid}")).text())
    assert page.page_data()["conference"]["title"] == evil


async def test_static_files(client: Client) -> None:
    for path, kind in [
        ("/static/js/live.js", "javascript"),
        ("/static/js/conference.js", "javascript"),
        ("/static/css/plenary.css", "text/css"),
    ]:
        resp = await client.get(path)
        assert resp.status == 200, path
        assert kind in resp.content_type, resp.content_type
    resp = await client.get("/static/../server/app.py")
    assert resp.status in (403, 404)
    resp = await client.get("/static/%2e%2e/server/app.py")
    assert resp.status in (403, 404)


async def test_static_files_are_cached_long_only_under_their_version(
    client: Client, organizer: Api, conference: dict[str, Any]
) -> None:
    urls = set()
    for path in ("/login", "/conferences", f"/conferences/{conference['id']}"):
        page = Page(await (await client.get(path)).text())
        urls |= {tag["src"] for tag in page.find_all("script") if tag.get("src")}
        urls |= {tag["href"] for tag in page.find_all("link", rel="stylesheet")}
    assert urls == {
        versioned(p)
        for p in ("css/plenary.css", "js/conferences.js", "js/import.js", "js/conference.js")
    }
    for url in urls:
        resp = await client.get(url)
        assert resp.status == 200, url
        assert resp.headers["Cache-Control"] == LONG_CACHE, url
        # A conditional request answered 304 says the same.
        etag = resp.headers["ETag"]
        resp = await client.get(url, headers={"If-None-Match": etag})
        assert resp.status == 304 and resp.headers["Cache-Control"] == LONG_CACHE, url
    # The CSP (script-src 'self') blocks an inline import map, so the modules the entry
    # modules import go out without a version: they, and any URL without the file's
    # current version (an old page after a deploy), must be revalidated every time.
    imported = {
        name
        for js in STATIC_DIR.glob("js/*.js")
        for name in re.findall(r'from\s+"\./([\w.-]+\.js)"', js.read_text(encoding="utf-8"))
    }
    assert imported >= {"live.js", "page.js", "forms.js"}
    for name in imported:
        resp = await client.get(f"/static/js/{name}")
        assert resp.status == 200 and resp.headers["Cache-Control"] == "no-cache", name
    current = versioned("js/live.js")
    stale = current[:-12] + "000000000000"
    other = "/static/js/live.js?" + urlsplit(versioned("js/page.js")).query
    for url in ("/static/js/live.js", stale, other, "/static/js/live.js?v="):
        resp = await client.get(url)
        assert resp.status == 200 and resp.headers["Cache-Control"] == "no-cache", url
    resp = await client.get(current)
    assert resp.headers["Cache-Control"] == LONG_CACHE
    resp = await client.get("/static/js/missing.js?v=000000000000")
    assert resp.status == 404


def test_static_url_refuses_unknown_files() -> None:
    urls = StaticUrl(file_versions(STATIC_DIR))
    assert urls("js/live.js") == versioned("js/live.js")
    with pytest.raises(LookupError, match="no static file"):
        urls("js/no-such-module.js")


async def test_login_page_in_english_has_no_vietnamese_strings(client: Client) -> None:
    html = await (await client.get("/login?lang=en")).text()
    assert "Đăng nhập" not in html.replace('lang="vi" hreflang="vi">Tiếng Việt', "")
    assert "Bỏ qua" not in html and "Skip to main content" in html
