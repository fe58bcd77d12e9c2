"""Conferences over HTTP: every bad input is refused by name and changes nothing."""

from __future__ import annotations

import io
import json
from collections.abc import AsyncIterator
from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestClient
from sqlalchemy import func
from sqlmodel import col, select

from conference.models import AuditEntry, LiveEvent
from server.keys import config_key, db_key
from tests.conftest import CONFERENCE, Api, add_account, assert_refused, audit_entries

VALID = {"title": "Hội nghị", "starts_on": "2026-12-10", "ends_on": "2026-12-11"}


async def audit_count(app: web.Application) -> int:
    async with app[db_key].transaction() as session:
        return (await session.exec(select(func.count()).select_from(AuditEntry))).one()


async def event_count(app: web.Application) -> int:
    async with app[db_key].transaction() as session:
        return (await session.exec(select(func.count()).select_from(LiveEvent))).one()


async def state(api: Api, app: web.Application) -> tuple[Any, int, int]:
    """Everything a refused request must leave alone."""
    status, listing = await api.get("/api/v1/conferences")
    assert status == 200
    return listing["items"], await audit_count(app), await event_count(app)


CREATE_CASES: list[tuple[str, Any, str]] = [
    ("missing title", {"starts_on": "2026-12-10", "ends_on": "2026-12-11"}, "title"),
    ("missing ends_on", {"title": "x", "starts_on": "2026-12-10"}, "ends_on"),
    ("title a number", {**VALID, "title": 5}, "title"),
    ("title empty", {**VALID, "title": ""}, "title"),
    ("title blank", {**VALID, "title": "   "}, "title"),
    ("title too long", {**VALID, "title": "x" * 301}, "title"),
    ("title null", {**VALID, "title": None}, "title"),
    ("ends before start", {**VALID, "ends_on": "2026-12-09"}, "ends_on"),
    ("not a date", {**VALID, "starts_on": "10/12/2026"}, "starts_on"),
    ("impossible date", {**VALID, "starts_on": "2026-02-30"}, "starts_on"),
    ("bad time zone", {**VALID, "timezone": "Asia/Hanoi_City"}, "timezone"),
    ("time zone a number", {**VALID, "timezone": 7}, "timezone"),
    ("public a string", {**VALID, "public": "yes"}, "public"),
    ("NUL in the title", {**VALID, "title": "Hội\u0000nghị"}, "title"),
    ("escape in the venue", {**VALID, "venue": "Hà\u001bNội"}, "venue"),
    ("host's local zone", {**VALID, "timezone": "localtime"}, "timezone"),
    ("zone file internals", {**VALID, "timezone": "posixrules"}, "timezone"),
    ("year one", {**VALID, "starts_on": "0001-01-01"}, "starts_on"),
    ("year 9999", {**VALID, "ends_on": "9999-12-31"}, "ends_on"),
    ("public a number", {**VALID, "public": 1}, "public"),
    ("unknown field", {**VALID, "colour": "red"}, "colour"),
    ("read-only field", {**VALID, "seq": 5}, "seq"),
    ("a list", [VALID], "body"),
    ("a string", "Hội nghị", "body"),
    ("null", None, "body"),
]


async def test_create_refuses_bad_input(
    organizer: Api, conference: dict[str, Any], app: web.Application
) -> None:
    before = await state(organizer, app)
    for label, body, field in CREATE_CASES:
        status, answer = await organizer.call(
            "POST",
            "/api/v1/conferences",
            data=json.dumps(body),
            headers={"Content-Type": "application/json"},
        )
        assert status == 422, (label, answer)
        assert answer["error"]["code"] == "invalid_format", (label, answer)
        assert answer["error"]["field"] == field, (label, answer)
    assert await state(organizer, app) == before


async def test_malformed_json_is_400(organizer: Api, app: web.Application) -> None:
    before = await state(organizer, app)
    for raw in ('{"title": "x",', "{'title': 'x'}", "", "nul"):
        status, body = await organizer.call(
            "POST", "/api/v1/conferences", data=raw, headers={"Content-Type": "application/json"}
        )
        if raw == "":
            # An empty body is JSON null: not an object.
            assert_refused(status, body, 422, "invalid_format", "body")
        else:
            assert_refused(status, body, 400, "invalid_json", None)
    assert await state(organizer, app) == before


async def test_wrong_content_type_is_415(organizer: Api, app: web.Application) -> None:
    before = await state(organizer, app)
    for content_type, raw in (
        ("text/plain", json.dumps(VALID)),
        ("application/x-www-form-urlencoded", "title=x&starts_on=2026-12-10"),
        ("application/xml", "<conference/>"),
    ):
        status, body = await organizer.call(
            "POST", "/api/v1/conferences", data=raw, headers={"Content-Type": content_type}
        )
        assert_refused(status, body, 415, "unsupported_media_type", None)
    assert await state(organizer, app) == before


async def test_oversized_body_is_413(organizer: Api, app: web.Application) -> None:
    limit = app[config_key].max_body_bytes
    raw = json.dumps({**VALID, "description": "x" * (limit + 1)}).encode()
    before = await state(organizer, app)

    async def chunks() -> AsyncIterator[bytes]:
        for start in range(0, len(raw), 65536):
            yield raw[start : start + 65536]

    # Once with a Content-Length, once chunked (the size is only known while reading).
    for data in (io.BytesIO(raw), chunks()):
        status, answer = await organizer.call(
            "POST", "/api/v1/conferences", data=data, headers={"Content-Type": "application/json"}
        )
        assert_refused(status, answer, 413, "too_large", None)
    assert await state(organizer, app) == before


async def test_create_answers_the_conference_and_audits_the_account(
    organizer: Api, app: web.Application
) -> None:
    """Ids, NFC and what is audited are tests/conference/test_services.py's; here, the
    answer and that the audit names the account that asked."""
    status, body = await organizer.post("/api/v1/conferences", CONFERENCE)
    assert status == 201, body
    assert (body["title"], body["seq"]) == (CONFERENCE["title"], 1)
    rows = await audit_entries(app[db_key], col(AuditEntry.action) == "conference.create")
    assert [r.target_id for r in rows] == [body["id"]]
    assert (rows[0].actor_name, rows[0].actor_role, rows[0].via) == (
        "Organizer",
        "organizer",
        "account",
    )


async def test_create_needs_permission(client: TestClient[Any, Any], app: web.Application) -> None:
    await add_account(app[db_key], "plain")
    plain = Api(client)
    await plain.login("plain")
    status, body = await plain.post("/api/v1/conferences", VALID)
    assert_refused(status, body, 403, "forbidden", None)
    anonymous: TestClient[Any, Any] = TestClient(client.server)
    try:
        status, body = await Api(anonymous).post("/api/v1/conferences", VALID)
    finally:
        await anonymous.session.close()
    assert_refused(status, body, 401, "unauthorized", None)
    assert await audit_count(app) == 1  # only the account's creation
    assert await event_count(app) == 0


UPDATE_CASES: list[tuple[str, Any, str]] = [
    ("title null", {"title": None}, "title"),
    ("public null", {"public": None}, "public"),
    ("title a number", {"title": 5}, "title"),
    ("title blank", {"title": " "}, "title"),
    ("public a string", {"public": "yes"}, "public"),
    ("ends before start (both)", {"starts_on": "2026-12-10", "ends_on": "2026-12-01"}, "ends_on"),
    ("ends before stored start", {"ends_on": "2026-12-01"}, "ends_on"),
    ("bad time zone", {"timezone": "GMT+7"}, "timezone"),
    ("unknown field", {"organiser": "x"}, "organiser"),
    ("read-only id", {"id": "abc"}, "id"),
    ("read-only epoch", {"epoch": "abc"}, "epoch"),
    ("a list", [{"title": "x"}], "body"),
]


async def test_update_refuses_bad_input(
    organizer: Api, conference: dict[str, Any], app: web.Application
) -> None:
    url = f"/api/v1/conferences/{conference['id']}"
    before = await state(organizer, app)
    for label, body, field in UPDATE_CASES:
        status, answer = await organizer.patch(url, body)
        assert status == 422, (label, answer)
        assert answer["error"]["code"] == "invalid_format", (label, answer)
        assert answer["error"]["field"] == field, (label, answer)
    assert await state(organizer, app) == before
    status, now = await organizer.get(url)
    assert now == conference


async def test_update_answers_the_seq_it_caused(
    organizer: Api, conference: dict[str, Any], app: web.Application
) -> None:
    """What an update records is tests/conference/test_services.py's."""
    url = f"/api/v1/conferences/{conference['id']}"
    status, body = await organizer.patch(url, {"title": "Hội nghị mới", "public": True})
    assert status == 200, body
    assert (body["title"], body["public"], body["seq"]) == ("Hội nghị mới", True, 2)
    status, again = await organizer.get(url)
    assert again == body
    entries = await audit_entries(app[db_key], col(AuditEntry.action) == "conference.update")
    assert [(e.actor_name, e.actor_role, e.via) for e in entries] == [
        ("Organizer", "organizer", "account")
    ]


async def test_unknown_conference_is_404(organizer: Api, conference: dict[str, Any]) -> None:
    for cid in ("nope", "AAAAAAAAAAAAAAAA", conference["id"] + "x", "1"):
        status, body = await organizer.get(f"/api/v1/conferences/{cid}")
        assert_refused(status, body, 404, "not_found", "conference")
        status, body = await organizer.patch(f"/api/v1/conferences/{cid}", {"title": "x"})
        assert_refused(status, body, 404, "not_found", "conference")
    status, body = await organizer.get(f"/api/v1/conferences/{conference['id']}")
    assert body == conference


async def test_mutations_are_never_gets(organizer: Api, conference: dict[str, Any]) -> None:
    status, body = await organizer.call("PUT", f"/api/v1/conferences/{conference['id']}", VALID)
    assert_refused(status, body, 405, "method_not_allowed", None)
    status, body = await organizer.call("DELETE", f"/api/v1/conferences/{conference['id']}")
    assert_refused(status, body, 405, "method_not_allowed", None)
    status, body = await organizer.get(f"/api/v1/conferences/{conference['id']}")
    assert status == 200 and body["title"] == CONFERENCE["title"]
