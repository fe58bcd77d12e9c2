"""Who may do what: logins, sessions, CSRF, origins, bearer tokens and role scoping."""

from __future__ import annotations

from http.cookies import SimpleCookie
from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestClient
from sqlalchemy import func
from sqlmodel import select

from conference.models import AuditEntry, BrowserSession, LiveEvent
from server.auth import SESSION_COOKIE
from server.keys import db_key
from tests.conftest import (
    CONFERENCE,
    PASSWORD,
    Api,
    add_account,
    api_token,
    assert_refused,
    bearer,
    conf_url,
)

Client = TestClient[Any, Any]


async def unchanged(app: web.Application) -> tuple[int, int, int]:
    """Audit entries, live events and sessions: a refused request adds none."""
    async with app[db_key].transaction() as session:
        return (
            (await session.exec(select(func.count()).select_from(AuditEntry))).one(),
            (await session.exec(select(func.count()).select_from(LiveEvent))).one(),
            (await session.exec(select(func.count()).select_from(BrowserSession))).one(),
        )


async def refused_edits(chair: Api, conference: dict[str, Any]) -> None:
    """The chair may neither rename the conference nor add a site to it."""
    status, body = await chair.patch(conf_url(conference), {"title": "x"})
    assert_refused(status, body, 403, "forbidden")
    status, body = await chair.post(conf_url(conference, "/sites"), {"code": "A", "name": "A"})
    assert_refused(status, body, 403, "forbidden")


def session_cookie(client: Client) -> str:
    cookies = client.session.cookie_jar.filter_cookies(client.make_url("/"))
    return cookies[SESSION_COOKIE].value


# --- logging in ----------------------------------------------------------------------


async def test_wrong_password_and_unknown_user_look_the_same(
    client: Client, app: web.Application
) -> None:
    await add_account(app[db_key], "hoa")
    answers = []
    for username, password in (("hoa", "wrong password!"), ("nobody", PASSWORD)):
        resp = await client.post(
            "/api/v1/auth/login", json={"username": username, "password": password}
        )
        body = await resp.json()
        assert_refused(resp.status, body, 401, "unauthorized")
        assert "Set-Cookie" not in resp.headers
        answers.append(body)
    assert answers[0] == answers[1]
    assert (await unchanged(app))[2] == 0


async def test_login_refuses_bad_bodies(client: Client, app: web.Application) -> None:
    for body, field in (
        ({"username": "hoa"}, "password"),
        ({"username": "hoa", "password": 123}, "password"),
        ({"username": "", "password": PASSWORD}, "username"),
        ({"username": "hoa", "password": PASSWORD, "remember": True}, "remember"),
    ):
        resp = await client.post("/api/v1/auth/login", json=body)
        answer = await resp.json()
        assert_refused(resp.status, answer, 422, "invalid_format")
        assert answer["error"]["field"] == field


async def test_login_is_rate_limited(client: Client, app: web.Application) -> None:
    await add_account(app[db_key], "hoa")
    await add_account(app[db_key], "lan")
    attempt = {"username": "hoa", "password": "not the password"}
    for _ in range(5):  # the config fixture allows 5 failures a minute
        resp = await client.post("/api/v1/auth/login", json=attempt)
        assert resp.status == 401
    resp = await client.post("/api/v1/auth/login", json=attempt)
    body = await resp.json()
    assert_refused(resp.status, body, 429, "rate_limited")
    assert 1 <= int(resp.headers["Retry-After"]) <= 61
    # Even the right password waits now...
    resp = await client.post("/api/v1/auth/login", json={"username": "hoa", "password": PASSWORD})
    assert resp.status == 429
    assert (await unchanged(app))[2] == 0
    # ...but another account from the same address is not locked out.
    await Api(client).login("lan")


async def test_cookie_is_httponly_and_samesite_lax(client: Client, app: web.Application) -> None:
    await add_account(app[db_key], "hoa")
    resp = await client.post("/api/v1/auth/login", json={"username": "hoa", "password": PASSWORD})
    assert resp.status == 200
    headers = resp.headers.getall("Set-Cookie")
    assert len(headers) == 1
    cookie = SimpleCookie(headers[0])[SESSION_COOKIE]
    assert cookie["httponly"] is True
    assert cookie["samesite"] == "Lax"
    assert cookie["path"] == "/"
    assert len(cookie.value) >= 32
    # Plain http in tests: not Secure (the Secure flag follows TLS or the setting).
    assert not cookie["secure"]


async def test_login_rotates_the_session(
    organizer: Api, client: Client, other: Client, app: web.Application
) -> None:
    first = session_cookie(client)
    await organizer.login("organizer")
    second = session_cookie(client)
    assert second != first
    for cookie, authenticated in ((first, False), (second, True)):
        resp = await other.get("/api/v1/me", headers={"Cookie": f"{SESSION_COOKIE}={cookie}"})
        assert (await resp.json())["authenticated"] is authenticated
    assert (await unchanged(app))[2] == 1


async def test_logout_removes_the_session(
    organizer: Api, client: Client, other: Client, app: web.Application
) -> None:
    cookie = session_cookie(client)
    status, _ = await organizer.post("/api/v1/auth/logout")
    assert status == 200
    assert (await unchanged(app))[2] == 0
    resp = await other.get("/api/v1/me", headers={"Cookie": f"{SESSION_COOKIE}={cookie}"})
    assert (await resp.json())["authenticated"] is False
    resp = await other.post(
        "/api/v1/conferences",
        json={**CONFERENCE},
        headers={"Cookie": f"{SESSION_COOKIE}={cookie}", "X-CSRF-Token": organizer.csrf},
    )
    assert_refused(resp.status, await resp.json(), 401, "unauthorized")


# --- CSRF and origins ------------------------------------------------------------------


async def test_cookie_mutation_needs_the_csrf_token(
    organizer: Api, conference: dict[str, Any], client: Client, app: web.Application
) -> None:
    before = await unchanged(app)
    for headers in ({}, {"X-CSRF-Token": "forged"}, {"X-CSRF-Token": ""}):
        resp = await client.patch(conf_url(conference), json={"title": "x"}, headers=headers)
        assert_refused(resp.status, await resp.json(), 403, "csrf_failed")
        resp = await client.post(
            conf_url(conference, "/sites"), json={"code": "A", "name": "A"}, headers=headers
        )
        assert_refused(resp.status, await resp.json(), 403, "csrf_failed")
    _, now = await organizer.get(conf_url(conference))
    assert now == conference
    _, sites = await organizer.get(conf_url(conference, "/sites"))
    assert sites["items"] == []
    assert await unchanged(app) == before


async def test_foreign_origin_is_refused(
    organizer: Api, conference: dict[str, Any], client: Client, app: web.Application
) -> None:
    before = await unchanged(app)
    for origin in ("https://evil.example", "http://127.0.0.1.evil.example", "null"):
        status, body = await organizer.patch(
            conf_url(conference), {"title": "x"}, headers={"Origin": origin}
        )
        assert_refused(status, body, 403, "csrf_failed")
    resp = await client.post(
        "/api/v1/auth/login",
        json={"username": "organizer", "password": PASSWORD},
        headers={"Origin": "https://evil.example"},
    )
    assert_refused(resp.status, await resp.json(), 403, "csrf_failed")
    assert await unchanged(app) == before
    status, now = await organizer.get(conf_url(conference))
    assert now == conference
    # The page's own origin is fine.
    own = f"http://{client.host}:{client.port}"
    status, body = await organizer.patch(
        conf_url(conference), {"title": "Đổi tên"}, headers={"Origin": own}
    )
    assert status == 200 and body["title"] == "Đổi tên"


# --- bearer tokens ---------------------------------------------------------------------------


async def test_bearer_token_needs_no_csrf_until_revoked(
    organizer: Api, conference: dict[str, Any], other: Client, app: web.Application
) -> None:
    token = await api_token(organizer, conference, "organizer")
    device = bearer(other, token)
    status, body = await device.patch(conf_url(conference), {"venue": "Nhà Quốc hội"})
    assert status == 200, body
    assert body["venue"] == "Nhà Quốc hội"
    status, listing = await organizer.get(conf_url(conference, "/tokens"))
    (row,) = listing["items"]
    status, _ = await organizer.post(conf_url(conference, f"/tokens/{row['id']}/revoke"))
    assert status == 200
    before = await unchanged(app)
    for method, body in (("GET", None), ("PATCH", {"venue": "x"})):
        status, answer = await device.call(method, conf_url(conference), body)
        assert_refused(status, answer, 401, "unauthorized")
    assert await unchanged(app) == before
    status, now = await organizer.get(conf_url(conference))
    assert now["venue"] == "Nhà Quốc hội"


async def test_malformed_authorization_is_401(organizer: Api, other: Client) -> None:
    for header in ("Bearer plnr_not-a-real-token", "Bearer ", "Basic b3JnOnB3", "plnr_x"):
        resp = await other.get("/api/v1/conferences", headers={"Authorization": header})
        assert_refused(resp.status, await resp.json(), 401, "unauthorized")


async def test_chair_token_cannot_change_the_conference(
    organizer: Api, conference: dict[str, Any], other: Client, app: web.Application
) -> None:
    chair = bearer(other, await api_token(organizer, conference, "chair"))
    status, body = await chair.get(conf_url(conference))
    assert status == 200 and body["title"] == CONFERENCE["title"]
    before = await unchanged(app)
    await refused_edits(chair, conference)
    assert await unchanged(app) == before
    status, now = await organizer.get(conf_url(conference))
    assert now == conference


async def test_token_of_one_conference_sees_no_other(
    organizer: Api, conference: dict[str, Any], other: Client
) -> None:
    status, second = await organizer.post("/api/v1/conferences", {**CONFERENCE, "title": "B"})
    assert status == 201
    device = bearer(other, await api_token(organizer, conference, "organizer"))
    status, body = await device.get(conf_url(second))
    assert_refused(status, body, 404, "not_found")
    status, body = await device.patch(conf_url(second), {"title": "x"})
    assert_refused(status, body, 404, "not_found")
    status, listing = await device.get("/api/v1/conferences")
    assert [c["id"] for c in listing["items"]] == [conference["id"]]


async def test_site_operator_token_sees_only_its_site(
    organizer: Api, conference: dict[str, Any], other: Client, app: web.Application
) -> None:
    ids = {}
    for code in ("HNI", "HCM"):
        status, site = await organizer.post(
            conf_url(conference, "/sites"), {"code": code, "name": code}
        )
        assert status == 201
        ids[code] = site["id"]
    operator = bearer(other, await api_token(organizer, conference, "site_operator", "hni"))
    status, listing = await operator.get(conf_url(conference, "/sites"))
    assert [s["code"] for s in listing["items"]] == ["HNI"]
    status, body = await operator.get(conf_url(conference, f"/sites/{ids['HNI']}"))
    assert status == 200 and body["code"] == "HNI"
    status, body = await operator.get(conf_url(conference, f"/sites/{ids['HCM']}"))
    assert_refused(status, body, 404, "not_found")
    status, snap = await operator.get(conf_url(conference, "/live"))
    assert [s["code"] for s in snap["sites"]] == ["HNI"]
    before = await unchanged(app)
    status, body = await operator.patch(conf_url(conference, f"/sites/{ids['HCM']}"), {"name": "x"})
    assert_refused(status, body, 404, "not_found")
    status, body = await operator.patch(conf_url(conference, f"/sites/{ids['HNI']}"), {"name": "x"})
    assert_refused(status, body, 403, "forbidden")
    assert await unchanged(app) == before


# --- people and their roles --------------------------------------------------------------------


async def test_anonymous_sees_only_public_conferences(
    organizer: Api, conference: dict[str, Any], other: Client, app: web.Application
) -> None:
    anonymous = Api(other)
    for path in ("", "/sites", "/live"):
        status, body = await anonymous.get(conf_url(conference, path))
        assert_refused(status, body, 404, "not_found")
    status, listing = await anonymous.get("/api/v1/conferences")
    assert listing["items"] == []
    status, body = await anonymous.patch(conf_url(conference), {"title": "x"})
    assert_refused(status, body, 404, "not_found")

    status, _ = await organizer.patch(conf_url(conference), {"public": True})
    assert status == 200
    status, body = await anonymous.get(conf_url(conference))
    assert status == 200 and body["title"] == CONFERENCE["title"]
    status, body = await anonymous.get(conf_url(conference, "/sites"))
    assert status == 200 and body["items"] == []
    status, listing = await anonymous.get("/api/v1/conferences")
    assert [c["id"] for c in listing["items"]] == [conference["id"]]
    before = await unchanged(app)
    status, body = await anonymous.patch(conf_url(conference), {"title": "x"})
    assert_refused(status, body, 403, "forbidden")
    status, body = await anonymous.get(conf_url(conference, "/tokens"))
    assert_refused(status, body, 403, "forbidden")
    assert await unchanged(app) == before


async def test_account_without_a_role_gets_404(
    organizer: Api, conference: dict[str, Any], other: Client, app: web.Application
) -> None:
    await add_account(app[db_key], "stranger")
    stranger = Api(other)
    await stranger.login("stranger")
    before = await unchanged(app)
    for path in ("", "/sites", "/live", "/tokens", "/members", "/audit"):
        status, body = await stranger.get(conf_url(conference, path))
        assert_refused(status, body, 404, "not_found")
        # The answer is the one for a conference that does not exist: nothing is revealed.
        status, missing = await stranger.get(f"/api/v1/conferences/nope{path}")
        assert missing == body
    status, body = await stranger.patch(conf_url(conference), {"title": "x"})
    assert_refused(status, body, 404, "not_found")
    status, body = await stranger.post(conf_url(conference, "/sites"), {"code": "A", "name": "A"})
    assert_refused(status, body, 404, "not_found")
    assert await unchanged(app) == before
    status, listing = await stranger.get("/api/v1/conferences")
    assert listing["items"] == []


async def test_chair_reads_but_does_not_modify(
    organizer: Api, conference: dict[str, Any], other: Client, app: web.Application
) -> None:
    await add_account(app[db_key], "chair")
    status, body = await organizer.post(
        conf_url(conference, "/members"), {"username": "chair", "role": "chair"}
    )
    assert status == 201, body
    chair = Api(other)
    me = await chair.login("chair")
    assert me["username"] == "chair"
    status, body = await chair.get(conf_url(conference))
    assert status == 200 and body["title"] == CONFERENCE["title"]
    status, body = await chair.get(conf_url(conference, "/sites"))
    assert status == 200
    before = await unchanged(app)
    await refused_edits(chair, conference)
    for path in ("/tokens", "/members", "/audit"):
        status, body = await chair.get(conf_url(conference, path))
        assert_refused(status, body, 403, "forbidden")
    status, body = await chair.post(conf_url(conference, "/tokens"), {"name": "x", "role": "chair"})
    assert_refused(status, body, 403, "forbidden")
    assert await unchanged(app) == before
    status, now = await organizer.get(conf_url(conference))
    assert now == conference
    status, whoami = await chair.get("/api/v1/me")
    assert [(r["conference"], r["role"]) for r in whoami["roles"]] == [(conference["id"], "chair")]
