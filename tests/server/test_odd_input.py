"""Odd input found in review: answered 4xx by name, never a 500, never stored."""

from __future__ import annotations

import asyncio
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from sqlmodel import select

from conference import accounts
from conference.actors import CLI, Actor
from conference.db import Database
from conference.errors import Conflict
from conference.models import Membership
from server.keys import db_key
from tests.conftest import PASSWORD, Api, add_account

ODD_IDS = ["%00abc", "abc%00", "..", "x" * 200, "%E2%80%8B", "a%20b"]


@pytest.mark.parametrize("odd", ODD_IDS)
async def test_odd_ids_in_paths_are_not_found(
    organizer: Api, conference: dict[str, Any], odd: str
) -> None:
    cid = conference["id"]
    for path in (
        f"/api/v1/conferences/{odd}",
        f"/api/v1/conferences/{cid}/sites/{odd}",
    ):
        status, body = await organizer.get(path)
        assert status == 404, (path, body)
        assert body["error"]["code"] == "not_found"
    status, body = await organizer.post(f"/api/v1/conferences/{cid}/tokens/{odd}/revoke")
    assert status == 404, body


async def test_nul_in_names_is_refused_by_name(organizer: Api, conference: dict[str, Any]) -> None:
    cid = conference["id"]
    status, body = await organizer.post(
        "/api/v1/auth/login", {"username": "organizer\u0000", "password": PASSWORD}
    )
    assert status == 401, body
    status, body = await organizer.post(
        f"/api/v1/conferences/{cid}/members", {"username": "a\u0000b", "role": "chair"}
    )
    assert status in (404, 422), body
    status, body = await organizer.post(
        f"/api/v1/conferences/{cid}/sites", {"code": "HNI", "name": "Hà\u0000Nội"}
    )
    assert status == 422 and body["error"]["field"] == "name", body


async def test_audit_paging_bounds(organizer: Api, conference: dict[str, Any]) -> None:
    cid = conference["id"]
    status, body = await organizer.get(
        f"/api/v1/conferences/{cid}/audit?before=99999999999999999999999"
    )
    assert status == 422 and body["error"]["field"] == "before", body


async def test_two_accounts_racing_for_one_name(db: Database) -> None:
    async def create() -> str:
        try:
            async with db.transaction() as session:
                await accounts.create_account(session, "trung", PASSWORD, actor=Actor(CLI))
            return "ok"
        except Conflict as exc:
            assert exc.field == "username"
            return "conflict"

    results = await asyncio.gather(create(), create(), create())
    assert sorted(results) == ["conflict", "conflict", "ok"]


async def test_two_organizers_cannot_remove_each_other(
    organizer: Api, conference: dict[str, Any], app: web.Application
) -> None:
    cid = conference["id"]
    await add_account(app[db_key], "second")
    status, body = await organizer.post(
        f"/api/v1/conferences/{cid}/members", {"username": "second", "role": "organizer"}
    )
    assert status == 201, body
    url = organizer.client.make_url
    revoke_path = f"/api/v1/conferences/{cid}/members/revoke"
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as second:
        async with second.post(
            url("/api/v1/auth/login"), json={"username": "second", "password": PASSWORD}
        ) as resp:
            csrf = (await resp.json())["csrf_token"]

        async def second_revokes_first() -> int:
            async with second.post(
                url(revoke_path),
                json={"username": "organizer", "role": "organizer"},
                headers={"X-CSRF-Token": csrf},
            ) as resp:
                return resp.status

        async def first_revokes_second() -> int:
            status, _ = await organizer.post(
                revoke_path, {"username": "second", "role": "organizer"}
            )
            return status

        results = await asyncio.gather(first_revokes_second(), second_revokes_first())
    assert sorted(results) != [204, 204], results
    async with app[db_key].read() as session:
        rows = await session.exec(select(Membership).where(Membership.role == "organizer"))
        assert len(rows.all()) == 1
