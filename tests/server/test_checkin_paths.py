"""Every path that can write a check-in ledger row, and the credential each one needs
(the table in docs/checkin.md): a personal link alone writes nothing anywhere."""

from __future__ import annotations

import asyncio
import dataclasses
from datetime import UTC, datetime, timedelta
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from sqlmodel import select

from attendance import checkin, ledger, links, selfcheckin
from attendance.models import Delegate
from attendance.scans import Outcome, Scan
from conference.errors import Forbidden
from conference.models import Conference, Site
from runtime.config import Config
from server.app import create_app
from server.keys import db_key, keyring_key
from server.runtime import group_commit_key
from tests.conftest import Api, add_account
from tests.server.test_api_checkin import Client, Hall, ledger_rows, make_hall, nonce
from tests.server.test_ws import WS, Socket, connect, origin

ClientFactory = Any


async def link_socket(client: Client, session: aiohttp.ClientSession, secret: str) -> Socket:
    """A socket authenticated by a personal link, as the delegate's page opens it."""
    ws = await session.ws_connect(client.make_url(WS), origin=origin(client))
    first = await ws.receive_json(timeout=5)
    assert first["type"] == "auth_required", first
    await ws.send_json({"type": "auth", "link": secret})
    first = await ws.receive_json(timeout=5)
    assert first["type"] == "auth_ok", first
    return Socket(ws, first["user"])


async def site_ids(hall: Hall) -> dict[str, str]:
    status, body = await hall.organizer.get(hall.url("/sites"))
    assert status == 200, body
    return {s["code"]: s["id"] for s in body["items"]}


async def screen_code(hall: Hall, code: str = "HNI") -> str:
    sid = (await site_ids(hall))[code]
    status, body = await hall.organizer.get(hall.url(f"/sites/{sid}/checkin-code"))
    assert status == 200, body
    return str(body["code"])


async def old_code(hall: Hall) -> str:
    sid = (await site_ids(hall))["HNI"]
    text, _ = selfcheckin.site_code(
        hall.app[keyring_key],
        hall.cid,
        sid,
        now=datetime.now(UTC) - timedelta(seconds=90),
        period=30,
    )
    return text


async def other_conference_code(client: Client, organizer: Api) -> str:
    """The current code of a screen of another conference on the same server."""
    other = await make_hall(client, organizer)
    return await screen_code(other)


async def delegate_row(app: web.Application, public_id: str) -> tuple[Conference, Delegate, Site]:
    async with app[db_key].read() as session:
        delegate = (
            await session.exec(select(Delegate).where(Delegate.public_id == public_id))
        ).one()
        conference = await session.get(Conference, delegate.conference_id)
        site = await session.get(Site, delegate.site_id)
    assert conference is not None and site is not None
    return conference, delegate, site


@pytest.fixture
async def hall(client: Client, organizer: Api) -> Hall:
    return await make_hall(client, organizer)


# --- the personal link over the WebSocket -------------------------------------------------


async def test_a_link_socket_writes_nothing_without_the_screen_code(
    client: Client, organizer: Api, hall: Hall
) -> None:
    an = hall.delegates["Nguyễn Văn An"]
    async with aiohttp.ClientSession(cookie_jar=aiohttp.DummyCookieJar()) as bare:
        socket = await link_socket(client, bare, an["link"])
        # From home: the badge QR of the personal page, the own id, or nothing at all.
        for fields in ({"credential": an["credential"]}, {"delegate": an["id"]}, {}, {"code": ""}):
            error = await socket.error("checkin/scan", conference=hall.cid, nonce=nonce(), **fields)
            assert error["code"] == "site_code_required", (fields, error)
        refusals = {
            "site_code_expired": await old_code(hall),
            "site_code_other_conference": await other_conference_code(client, organizer),
            "site_code_invalid": "PLS1AAAAAAAA",
        }
        for expected, code in refusals.items():
            error = await socket.error(
                "checkin/scan", conference=hall.cid, nonce=nonce(), delegate=an["id"], code=code
            )
            assert error["code"] == expected, error
        assert await ledger_rows(hall.app) == 0
        # Someone else, even with the hall's current code: no.
        bin_ = hall.delegates["Trần Thị Bình"]
        error = await socket.error(
            "checkin/scan",
            conference=hall.cid,
            nonce=nonce(),
            delegate=bin_["id"],
            code=await screen_code(hall),
        )
        assert error["code"] == "forbidden"
        assert await ledger_rows(hall.app) == 0
        # In the hall, scanning its screen: admitted, once.
        result = await socket.result(
            "checkin/scan", conference=hall.cid, nonce=nonce(), code=await screen_code(hall)
        )
        assert result["outcome"] == "ok" and result["delegate"]["id"] == an["id"]
        assert await ledger_rows(hall.app) == 1
        await socket.ws.close()


async def test_the_http_self_checkin_names_each_refusal(
    client: Client, organizer: Api, hall: Hall
) -> None:
    link = f"/api/v1/delegate/{hall.delegates['Nguyễn Văn An']['link']}/checkin"
    phone = Api(client)
    bodies = {
        "site_code_required": {"nonce": nonce()},
        "site_code_expired": {"nonce": nonce(), "code": await old_code(hall)},
        "site_code_other_conference": {
            "nonce": nonce(),
            "code": await other_conference_code(client, organizer),
        },
    }
    for expected, body in bodies.items():
        status, answer = await phone.post(link, body)
        assert (status, answer["error"]["code"]) == (422, expected), answer
    assert await ledger_rows(hall.app) == 0
    status, answer = await phone.post(link, {"nonce": nonce(), "code": await screen_code(hall)})
    assert status == 200, answer
    assert await ledger_rows(hall.app) == 1


def _now() -> str:
    return datetime.now(UTC).isoformat()


# --- the operators' paths: a link is no credential there ----------------------------------


async def screen_token(hall: Hall) -> str:
    """A token for Hà Nội's check-in screen."""
    status, screen = await hall.organizer.post(
        hall.url("/tokens"), {"name": "màn hình", "role": "screen", "site": "HNI"}
    )
    assert status == 201, screen
    token: str = screen["token"]
    return token


async def test_operator_paths_refuse_a_link_and_a_screen_token(client: Client, hall: Hall) -> None:
    an = hall.delegates["Nguyễn Văn An"]
    screen = await screen_token(hall)
    scan = {"nonce": nonce(), "credential": an["credential"], "site": "HNI"}
    item = {"nonce": nonce(), "credential": an["credential"], "happened_at": _now()}
    batch = {"items": [item], "site": "HNI"}
    for path, body in (("/checkins", scan), ("/checkins/batch", batch)):
        for bearer, expected in ((an["link"], 401), (screen, 403)):
            caller = Api(client)
            caller.bearer = bearer
            status, answer = await caller.post(hall.url(path), body)
            assert status == expected, (path, answer)
    # Anonymous: nothing either.
    status, _ = await Api(client).post(hall.url("/checkins"), scan)
    assert status in (401, 403, 404)
    assert await ledger_rows(hall.app) == 0
    # What they need: an operator of the site (or an organizer).
    status, answer = await hall.operators["HNI"].post(
        hall.url("/checkins"), {"nonce": nonce(), "credential": an["credential"]}
    )
    assert status == 200, answer
    assert await ledger_rows(hall.app) == 1


async def test_a_screen_token_socket_cannot_scan(client: Client, hall: Hall) -> None:
    screen = await screen_token(hall)
    an = hall.delegates["Nguyễn Văn An"]
    async with aiohttp.ClientSession(cookie_jar=aiohttp.DummyCookieJar()) as bare:
        socket = await connect(client, session=bare, token=screen)
        for fields in ({"credential": an["credential"]}, {"delegate": an["id"]}):
            error = await socket.error("checkin/scan", conference=hall.cid, nonce=nonce(), **fields)
            assert error["code"] in ("forbidden", "invalid_format"), error
        assert await ledger_rows(hall.app) == 0
        operator = await connect(client, session=bare, token=hall.operators["HNI"].bearer)
        result = await operator.result(
            "checkin/scan", conference=hall.cid, nonce=nonce(), credential=an["credential"]
        )
        assert result["outcome"] == "ok"
        assert await ledger_rows(hall.app) == 1
        await socket.ws.close()
        await operator.ws.close()


# --- the domain and the group writer: a delegate without proof writes nothing -------------


async def test_check_in_refuses_a_delegate_without_proof_whatever_the_path(hall: Hall) -> None:
    an = hall.delegates["Nguyễn Văn An"]
    conference, delegate, home = await delegate_row(hall.app, an["id"])
    actor = links.delegate_actor(delegate, home)
    ring = hall.app[keyring_key]
    db = hall.app[db_key]
    async with db.read() as session:
        lci = (await session.exec(select(Site).where(Site.code == "LCI"))).first()
    assert lci is not None and lci.id is not None and conference.id is not None
    wrong_site = selfcheckin.SiteProof(conference.id, lci.id)
    for offline, proof in ((False, None), (True, None), (False, wrong_site)):
        with pytest.raises(selfcheckin.CodeRefused) as refused:
            async with db.transaction() as session:
                await checkin.check_in(
                    session,
                    conference,
                    home,
                    [Scan(nonce(), delegate_id=an["id"])],
                    actor=actor,
                    keyring=ring,
                    offline=offline,
                    proof=proof,
                )
        assert refused.value.code == "site_code_required"

    async def write(session: Any, scans: list[Scan]) -> list[Outcome]:
        return await checkin.check_in(
            session, conference, home, scans, actor=actor, keyring=ring, method="search"
        )

    with pytest.raises(selfcheckin.CodeRefused) as refused:
        await hall.app[group_commit_key].submit(
            ("a delegate", conference.public_id), Scan(nonce(), delegate_id=an["id"]), write
        )
    assert refused.value.code == "site_code_required"
    assert await ledger_rows(hall.app) == 0


async def test_undo_and_resolve_rows_are_not_a_delegates_to_write(hall: Hall) -> None:
    an = hall.delegates["Nguyễn Văn An"]
    status, body = await hall.operators["HNI"].post(
        hall.url("/checkins"), {"nonce": nonce(), "credential": an["credential"]}
    )
    assert status == 200, body
    conference, delegate, home = await delegate_row(hall.app, an["id"])
    actor = links.delegate_actor(delegate, home)
    db = hall.app[db_key]
    with pytest.raises(Forbidden):
        async with db.transaction() as session:
            await ledger.undo_checkin(session, conference, an["id"], "ở nhà", actor=actor)
    with pytest.raises(Forbidden):
        async with db.transaction() as session:
            await ledger.resolve_conflict(
                session, conference, body["checkin"]["id"], "admitted", "", actor=actor
            )
    assert await ledger_rows(hall.app) == 1


# --- limits per link ----------------------------------------------------------------------


@pytest.fixture
async def hall_of_three(aiohttp_client: ClientFactory, config: Config) -> Hall:
    """A hall on a server that allows three check-ins a minute per link, token or account."""
    client = await aiohttp_client(create_app(dataclasses.replace(config, checkins_per_minute=3)))
    await add_account(client.app[db_key], "organizer", can_create=True)
    organizer = Api(client)
    await organizer.login("organizer")
    return await make_hall(client, organizer)


async def test_each_link_socket_has_its_own_check_in_limit(hall_of_three: Hall) -> None:
    hall, client = hall_of_three, hall_of_three.organizer.client
    an, bin_ = hall.delegates["Nguyễn Văn An"], hall.delegates["Trần Thị Bình"]
    async with aiohttp.ClientSession(cookie_jar=aiohttp.DummyCookieJar()) as bare:
        hammer = await link_socket(client, bare, an["link"])
        codes = [
            (await hammer.error("checkin/scan", conference=hall.cid, nonce=nonce()))["code"]
            for _ in range(6)
        ]
        assert codes[:3] == ["site_code_required"] * 3 and codes[3:] == ["rate_limited"] * 3
        # Another link on another socket (a phone next to it) is not held back.
        other = await link_socket(client, bare, bin_["link"])
        result = await other.result(
            "checkin/scan", conference=hall.cid, nonce=nonce(), code=await screen_code(hall)
        )
        assert result["outcome"] == "ok"
        # The first link is limited over HTTP too: one budget per link, not per socket.
        status, body = await Api(client).post(
            f"/api/v1/delegate/{an['link']}/checkin",
            {"nonce": nonce(), "code": await screen_code(hall)},
        )
        assert (status, body["error"]["code"]) == (429, "rate_limited")
        await asyncio.gather(hammer.ws.close(), other.ws.close())


async def test_each_token_socket_has_its_own_check_in_limit(hall_of_three: Hall) -> None:
    hall, client = hall_of_three, hall_of_three.organizer.client
    screen = await screen_token(hall)
    an = hall.delegates["Nguyễn Văn An"]
    async with aiohttp.ClientSession(cookie_jar=aiohttp.DummyCookieJar()) as bare:
        hammer = await connect(client, session=bare, token=screen)
        codes = [
            (
                await hammer.error(
                    "checkin/scan", conference=hall.cid, nonce=nonce(), delegate=an["id"]
                )
            )["code"]
            for _ in range(5)
        ]
        assert codes[:3] == ["forbidden"] * 3 and codes[3:] == ["rate_limited"] * 2
        operator = await connect(client, session=bare, token=hall.operators["HNI"].bearer)
        result = await operator.result(
            "checkin/scan", conference=hall.cid, nonce=nonce(), credential=an["credential"]
        )
        assert result["outcome"] == "ok"
        await asyncio.gather(hammer.ws.close(), operator.ws.close())
