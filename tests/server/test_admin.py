"""Administration endpoints: API tokens, members, the audit log and accounts."""

from __future__ import annotations

from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient
from sqlalchemy import func, text
from sqlalchemy.exc import DBAPIError
from sqlmodel import select

from conference.actors import CLI, Actor
from conference.db import Database
from conference.models import ApiToken, AuditEntry, Conference
from conference.schemas import ConferenceCreate
from conference.services import create_conference
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


async def audit_count(app: web.Application) -> int:
    async with app[db_key].transaction() as session:
        return (await session.exec(select(func.count()).select_from(AuditEntry))).one()


async def add_site(organizer: Api, conference: dict[str, Any], code: str) -> dict[str, Any]:
    status, site = await organizer.post(
        conf_url(conference, "/sites"), {"code": code, "name": code}
    )
    assert status == 201, site
    created: dict[str, Any] = site
    return created


# --- API tokens ---------------------------------------------------------------------------


async def test_token_secret_is_shown_once(
    organizer: Api, conference: dict[str, Any], app: web.Application
) -> None:
    await add_site(organizer, conference, "HNI")
    status, issued = await organizer.post(
        conf_url(conference, "/tokens"),
        {"name": "Máy quét cửa 1", "role": "site_operator", "site": "hni"},
    )
    assert status == 201, issued
    secret = issued["token"]
    assert secret.startswith("plnr_") and len(secret) > 40
    assert issued["site"] == "HNI" and issued["role"] == "site_operator"
    assert issued["active"] is True and issued["revoked_at"] is None
    resp = await organizer.client.get(conf_url(conference, "/tokens"))
    raw = await resp.text()
    assert secret not in raw and secret[5:] not in raw
    listing = await resp.json()
    (row,) = listing["items"]
    assert "token" not in row
    assert row["id"] == issued["id"] and row["name"] == "Máy quét cửa 1" and row["site"] == "HNI"
    async with app[db_key].transaction() as session:
        stored = (await session.exec(select(ApiToken))).one()
    # Only a hash is kept.
    assert secret not in stored.token_hash and stored.token_hash != secret


async def test_token_issue_refuses_bad_input(
    organizer: Api, conference: dict[str, Any], app: web.Application
) -> None:
    await add_site(organizer, conference, "HNI")
    status, other_conf = await organizer.post("/api/v1/conferences", {**CONFERENCE, "title": "B"})
    await add_site(organizer, other_conf, "HCM")
    cases: list[tuple[Any, int, str, str]] = [
        ({"role": "chair"}, 422, "invalid_format", "name"),
        ({"name": "", "role": "chair"}, 422, "invalid_format", "name"),
        ({"name": "x"}, 422, "invalid_format", "role"),
        ({"name": "x", "role": "boss"}, 422, "invalid_format", "role"),
        ({"name": "x", "role": "viewer"}, 422, "invalid_format", "role"),
        ({"name": "x", "role": "site_operator"}, 422, "invalid_format", "site"),
        ({"name": "x", "role": "chair", "site": "HNI"}, 422, "invalid_format", "site"),
        ({"name": "x", "role": "site_operator", "site": "a b"}, 422, "invalid_format", "site"),
        ({"name": "x", "role": "site_operator", "site": "DNG"}, 404, "not_found", "site"),
        # A site of another conference is no site of this one.
        ({"name": "x", "role": "site_operator", "site": "HCM"}, 404, "not_found", "site"),
        ({"name": "x", "role": "chair", "expires": "never"}, 422, "invalid_format", "expires"),
        ({"name": 5, "role": "chair"}, 422, "invalid_format", "name"),
    ]
    before = await audit_count(app)
    for body, want_status, code, field in cases:
        status, answer = await organizer.post(conf_url(conference, "/tokens"), body)
        assert status == want_status, (body, answer)
        assert answer["error"]["code"] == code, (body, answer)
        assert answer["error"]["field"] == field, (body, answer)
    status, listing = await organizer.get(conf_url(conference, "/tokens"))
    assert listing["items"] == []
    assert await audit_count(app) == before


async def test_revoke_token(
    organizer: Api, conference: dict[str, Any], app: web.Application
) -> None:
    status, issued = await organizer.post(
        conf_url(conference, "/tokens"), {"name": "máy chủ trình chiếu", "role": "chair"}
    )
    assert status == 201
    url = conf_url(conference, f"/tokens/{issued['id']}/revoke")
    status, body = await organizer.post(url)
    assert status == 200, body
    assert body["active"] is False and body["revoked_at"] is not None
    before = await audit_count(app)
    status, again = await organizer.post(url)
    assert status == 200 and again["revoked_at"] == body["revoked_at"]
    assert await audit_count(app) == before  # revoking twice records nothing new
    status, listing = await organizer.get(conf_url(conference, "/tokens"))
    assert [t["active"] for t in listing["items"]] == [False]


async def test_token_of_another_conference_is_404(
    organizer: Api, conference: dict[str, Any], app: web.Application
) -> None:
    status, other_conf = await organizer.post("/api/v1/conferences", {**CONFERENCE, "title": "B"})
    status, theirs = await organizer.post(
        conf_url(other_conf, "/tokens"), {"name": "B", "role": "chair"}
    )
    assert status == 201
    before = await audit_count(app)
    for tid in (theirs["id"], "nope", "A" * 16):
        status, body = await organizer.post(conf_url(conference, f"/tokens/{tid}/revoke"))
        assert_refused(status, body, 404, "not_found", "token")
    assert await audit_count(app) == before
    status, listing = await organizer.get(conf_url(other_conf, "/tokens"))
    assert [t["active"] for t in listing["items"]] == [True]
    status, listing = await organizer.get(conf_url(conference, "/tokens"))
    assert listing["items"] == []


async def test_revoke_and_list_are_for_organizers(
    organizer: Api, conference: dict[str, Any], other: Client, app: web.Application
) -> None:
    status, issued = await organizer.post(
        conf_url(conference, "/tokens"), {"name": "chair", "role": "chair"}
    )
    chair = Api(other)
    chair.bearer = issued["token"]
    before = await audit_count(app)
    status, body = await chair.post(conf_url(conference, f"/tokens/{issued['id']}/revoke"))
    assert_refused(status, body, 403, "forbidden", None)
    status, body = await chair.get(conf_url(conference, "/tokens"))
    assert_refused(status, body, 403, "forbidden", None)
    assert await audit_count(app) == before
    status, listing = await organizer.get(conf_url(conference, "/tokens"))
    assert listing["items"][0]["active"] is True


# --- members ------------------------------------------------------------------------------


async def test_grant_list_and_revoke_roles(
    organizer: Api, conference: dict[str, Any], app: web.Application
) -> None:
    db = app[db_key]
    await add_account(db, "chair")
    await add_account(db, "operator")
    await add_site(organizer, conference, "HNI")
    url = conf_url(conference, "/members")
    status, body = await organizer.post(url, {"username": "Chair", "role": "chair"})
    assert status == 201, body
    assert body == {"username": "chair", "display_name": "Chair", "role": "chair", "site": None}
    status, body = await organizer.post(
        url, {"username": "operator", "role": "site_operator", "site": "hni"}
    )
    assert status == 201 and body["site"] == "HNI"
    status, listing = await organizer.get(url)
    assert status == 200
    assert [(m["username"], m["role"], m["site"]) for m in listing["items"]] == [
        ("chair", "chair", None),
        ("operator", "site_operator", "HNI"),
        ("organizer", "organizer", None),
    ]
    status, _ = await organizer.post(url + "/revoke", {"username": "chair", "role": "chair"})
    assert status == 204
    status, listing = await organizer.get(url)
    assert [m["username"] for m in listing["items"]] == ["operator", "organizer"]


async def test_member_changes_refuse_bad_input(
    organizer: Api, conference: dict[str, Any], app: web.Application
) -> None:
    await add_account(app[db_key], "chair")
    url = conf_url(conference, "/members")
    cases: list[tuple[str, Any, int, str, str]] = [
        ("", {"username": "ghost", "role": "chair"}, 404, "not_found", "username"),
        ("", {"username": "chair", "role": "king"}, 422, "invalid_format", "role"),
        ("", {"username": "chair", "role": "viewer"}, 422, "invalid_format", "role"),
        ("", {"username": "chair"}, 422, "invalid_format", "role"),
        ("", {"role": "chair"}, 422, "invalid_format", "username"),
        ("", {"username": "chair", "role": "site_operator"}, 422, "invalid_format", "site"),
        ("", {"username": "chair", "role": "chair", "site": "X"}, 404, "not_found", "site"),
        ("", {"username": "chair", "role": "chair", "admin": True}, 422, "invalid_format", "admin"),
        ("/revoke", {"username": "ghost", "role": "chair"}, 404, "not_found", "username"),
        ("/revoke", {"username": "chair", "role": "chair"}, 404, "not_found", "role"),
        ("/revoke", {"username": "chair", "role": "chief"}, 422, "invalid_format", "role"),
        # The last organizer stays: someone must be able to run the conference.
        ("/revoke", {"username": "organizer", "role": "organizer"}, 409, "conflict", "role"),
    ]
    status, before_list = await organizer.get(url)
    before = await audit_count(app)
    for path, body, want_status, code, field in cases:
        status, answer = await organizer.post(url + path, body)
        assert status == want_status, (path, body, answer)
        assert answer["error"]["code"] == code, (path, body, answer)
        assert answer["error"]["field"] == field, (path, body, answer)
    assert await audit_count(app) == before
    status, after_list = await organizer.get(url)
    assert after_list == before_list


async def test_second_organizer_may_remove_the_first(
    organizer: Api, conference: dict[str, Any], app: web.Application
) -> None:
    await add_account(app[db_key], "deputy")
    url = conf_url(conference, "/members")
    status, _ = await organizer.post(url, {"username": "deputy", "role": "organizer"})
    assert status == 201
    status, _ = await organizer.post(
        url + "/revoke", {"username": "organizer", "role": "organizer"}
    )
    assert status == 204
    # The caller no longer holds a role: the conference disappears for them.
    status, body = await organizer.get(url)
    assert_refused(status, body, 404, "not_found", "conference")


# --- audit log ---------------------------------------------------------------------------------


async def test_every_change_is_in_the_audit_log(
    organizer: Api, conference: dict[str, Any], app: web.Application
) -> None:
    await add_account(app[db_key], "chair")
    site = await add_site(organizer, conference, "HNI")
    site_url = conf_url(conference, f"/sites/{site['id']}")
    steps = [
        ("PATCH", conf_url(conference), {"venue": "Hội trường Bà Triệu"}),
        ("PATCH", site_url, {"expected_attendance": 70}),
        ("POST", conf_url(conference, "/members"), {"username": "chair", "role": "chair"}),
        ("POST", conf_url(conference, "/tokens"), {"name": "loa", "role": "chair"}),
    ]
    token_id = ""
    for method, url, body in steps:
        status, answer = await organizer.call(method, url, body)
        assert status in (200, 201), answer
        token_id = answer.get("id", "") if url.endswith("/tokens") else token_id
    status, _ = await organizer.post(conf_url(conference, f"/tokens/{token_id}/revoke"))
    assert status == 200
    status, _ = await organizer.post(
        conf_url(conference, "/members/revoke"), {"username": "chair", "role": "chair"}
    )
    assert status == 204
    status, _ = await organizer.delete(site_url)
    assert status == 204

    status, page = await organizer.get(conf_url(conference, "/audit"))
    assert status == 200, page
    entries = list(reversed(page["items"]))
    assert [e["action"] for e in entries] == [
        "role.grant",  # the creator becomes organizer
        "conference.create",
        "site.create",
        "conference.update",
        "site.update",
        "role.grant",
        "token.issue",
        "token.revoke",
        "role.revoke",
        "site.delete",
    ]
    assert page["next_before"] is None
    for entry in entries:
        assert entry["actor"] == "Organizer"
        assert entry["role"] == "organizer"
        assert entry["via"] == "account"
        assert entry["at"].endswith("Z")  # UTC
    assert entries[3]["changes"] == {
        "venue": ["Hội trường Trung ương, Hà Nội", "Hội trường Bà Triệu"]
    }
    assert entries[4]["target_type"] == "site" and entries[4]["target_id"] == site["id"]
    assert entries[4]["changes"] == {"expected_attendance": [0, 70]}
    assert entries[5]["changes"] == {"role": "chair", "site": None}
    assert entries[6]["changes"] == {"name": "loa", "role": "chair", "site": None}
    ids = [e["id"] for e in page["items"]]
    assert ids == sorted(ids, reverse=True)


async def test_audit_log_pages(
    organizer: Api, conference: dict[str, Any], app: web.Application
) -> None:
    for n in range(3):
        status, _ = await organizer.patch(conf_url(conference), {"venue": f"Phòng {n}"})
        assert status == 200
    url = conf_url(conference, "/audit")
    status, everything = await organizer.get(url)
    assert len(everything["items"]) == 5
    seen = []
    before = ""
    while True:
        status, page = await organizer.get(f"{url}?limit=2{before}")
        assert status == 200 and len(page["items"]) <= 2
        seen += page["items"]
        if page["next_before"] is None:
            break
        before = f"&before={page['next_before']}"
    assert seen == everything["items"]
    for query, field in (
        ("limit=0", "limit"),
        ("limit=501", "limit"),
        ("limit=abc", "limit"),
        ("before=-1", "before"),
        ("before=x", "before"),
        ("page=2", "page"),
    ):
        status, body = await organizer.get(f"{url}?{query}")
        assert_refused(status, body, 422, "invalid_format", field)


async def test_audit_log_is_per_conference(organizer: Api, conference: dict[str, Any]) -> None:
    status, other_conf = await organizer.post("/api/v1/conferences", {**CONFERENCE, "title": "B"})
    status, _ = await organizer.patch(conf_url(other_conf), {"venue": "B"})
    assert status == 200
    status, page = await organizer.get(conf_url(conference, "/audit"))
    assert {e["target_id"] for e in page["items"] if e["target_type"] == "conference"} == {
        conference["id"]
    }
    assert len(page["items"]) == 2


async def test_audit_table_refuses_update_and_delete(db: Database) -> None:
    async with db.transaction() as session:
        data = ConferenceCreate.model_validate(
            {"title": "x", "starts_on": "2026-12-10", "ends_on": "2026-12-11"}
        )
        await create_conference(session, data, actor=Actor(CLI))
    for sql in ("UPDATE audit_entry SET action = 'x'", "DELETE FROM audit_entry"):
        with pytest.raises(DBAPIError, match="append-only"):
            async with db.transaction() as session:
                await (await session.connection()).execute(text(sql))
    async with db.transaction() as session:
        entries = (await session.exec(select(AuditEntry))).all()
        conference = (await session.exec(select(Conference))).one()
    assert [e.action for e in entries] == ["conference.create"]
    # Deleting a conference does not take its audit trail with it.
    async with db.transaction() as session:
        await session.delete(await session.get(Conference, conference.id))
    async with db.transaction() as session:
        assert (await session.exec(select(func.count()).select_from(AuditEntry))).one() == 1


# --- accounts -------------------------------------------------------------------------------------


async def test_admin_creates_and_lists_accounts(
    client: Client, other: Client, app: web.Application
) -> None:
    await add_account(app[db_key], "root", admin=True)
    admin = Api(client)
    await admin.login("root")
    status, body = await admin.post(
        "/api/v1/accounts",
        {
            "username": "Lan.Nguyen",
            "password": "mật khẩu đủ dài",
            "display_name": "Nguyễn Thị Lan",
            "can_create_conferences": True,
        },
    )
    assert status == 201, body
    assert body["username"] == "lan.nguyen" and body["display_name"] == "Nguyễn Thị Lan"
    assert body["can_create_conferences"] is True and body["is_admin"] is False
    assert "password" not in body and "password_hash" not in body
    status, listing = await admin.get("/api/v1/accounts")
    assert [a["username"] for a in listing["items"]] == ["lan.nguyen", "root"]
    assert all("password_hash" not in a for a in listing["items"])
    lan = Api(other)
    me = await lan.login("lan.nguyen", "mật khẩu đủ dài")
    assert me["can_create_conferences"] is True


async def test_account_creation_refuses_bad_input(client: Client, app: web.Application) -> None:
    await add_account(app[db_key], "root", admin=True)
    admin = Api(client)
    await admin.login("root")
    good = {"username": "lan", "password": PASSWORD}
    cases: list[tuple[Any, int, str, str]] = [
        ({**good, "username": "root"}, 409, "conflict", "username"),
        ({**good, "username": "ROOT"}, 409, "conflict", "username"),
        ({**good, "username": "a b"}, 422, "invalid_format", "username"),
        ({**good, "username": ""}, 422, "invalid_format", "username"),
        ({**good, "password": "short"}, 422, "invalid_format", "password"),
        ({"username": "lan"}, 422, "invalid_format", "password"),
        (
            {**good, "can_create_conferences": "yes"},
            422,
            "invalid_format",
            "can_create_conferences",
        ),
        ({**good, "is_admin": True}, 422, "invalid_format", "is_admin"),
    ]
    before = await audit_count(app)
    for body, want_status, code, field in cases:
        status, answer = await admin.post("/api/v1/accounts", body)
        assert status == want_status, (body, answer)
        assert answer["error"]["code"] == code, (body, answer)
        assert answer["error"]["field"] == field, (body, answer)
    assert await audit_count(app) == before
    status, listing = await admin.get("/api/v1/accounts")
    assert [a["username"] for a in listing["items"]] == ["root"]


async def test_accounts_are_for_administrators(
    organizer: Api, conference: dict[str, Any], other: Client, app: web.Application
) -> None:
    device = bearer(other, await api_token(organizer, conference, "organizer"))
    anonymous = Api(TestClient(organizer.client.server))
    try:
        before = await audit_count(app)
        body = {"username": "lan", "password": PASSWORD}
        for api, want_status, code in (
            (organizer, 403, "forbidden"),
            (device, 403, "forbidden"),
            (anonymous, 401, "unauthorized"),
        ):
            status, answer = await api.post("/api/v1/accounts", body)
            assert_refused(status, answer, want_status, code, None)
            status, answer = await api.get("/api/v1/accounts")
            assert_refused(status, answer, want_status, code, None)
        assert await audit_count(app) == before
    finally:
        await anonymous.client.session.close()
