"""Check-in over the WebSocket: the same site scope as over HTTP, and scoped events."""

from __future__ import annotations

from typing import Any

import aiohttp
from aiohttp.test_utils import TestClient

from tests.conftest import Api
from tests.server.test_api_checkin import make_hall, nonce
from tests.server.test_ws import connect

Client = TestClient[Any, Any]


async def test_operators_scan_and_read_only_their_site_over_the_socket(
    client: Client, organizer: Api
) -> None:
    hall = await make_hall(client, organizer)
    # Sessions of their own: the test client carries the organizer's cookie.
    async with aiohttp.ClientSession() as one, aiohttp.ClientSession() as two:
        hni_socket = await connect(client, session=one, token=hall.operators["HNI"].bearer)
        lci_socket = await connect(client, session=two, token=hall.operators["LCI"].bearer)
        await check_scope(hall, hni_socket, lci_socket)


async def check_scope(hall: Any, hni_socket: Any, lci_socket: Any) -> None:
    lci = hall.delegates["Lê Văn Cường"]
    hni = hall.delegates["Nguyễn Văn An"]
    error = await hni_socket.error(
        "checkin/scan", conference=hall.cid, nonce=nonce(), delegate=lci["id"]
    )
    assert error["code"] == "not_found", error
    error = await hni_socket.error(
        "checkin/scan", conference=hall.cid, nonce=nonce(), credential=hall.badge("Lê Văn Cường")
    )
    assert error["code"] == "delegate_other_site"
    error = await hni_socket.error("delegates/get", conference=hall.cid, delegate=lci["id"])
    assert error["code"] == "not_found"
    card = await lci_socket.result("delegates/get", conference=hall.cid, delegate=lci["id"])
    assert card["name"] == "Lê Văn Cường" and card["checked_in_at"] is None
    await hni_socket.subscribe(hall.cid)
    await lci_socket.subscribe(hall.cid)
    result, (event,) = await scan(
        lci_socket, conference=hall.cid, nonce=nonce(), credential=hall.badge("Lê Văn Cường")
    )
    assert result["outcome"] == "ok" and result["present"]["checked_in"] == 1
    assert event["event"]["type"] == "delegate/checked_in"
    assert event["event"]["data"]["delegate"]["name"] == "Lê Văn Cường"
    assert "phone" not in event["event"]["data"]["delegate"]
    # Site HNI's socket never hears of Lào Cai's delegates; its own come through.
    await hni_socket.assert_quiet()
    _, (event,) = await scan(hni_socket, conference=hall.cid, nonce=nonce(), delegate=hni["id"])
    assert event["event"]["data"]["delegate"]["name"] == "Nguyễn Văn An"
    error = await hni_socket.error(
        "checkin/scan", conference=hall.cid, nonce=nonce(), delegate=hni["id"]
    )
    assert error["code"] == "already_checked_in"
    assert error["details"]["site"] == "HNI"
    await hni_socket.ws.close()
    await lci_socket.ws.close()


async def scan(socket: Any, **fields: Any) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """A successful scan's result and the events that arrived around it (the event of the
    commit may come first)."""
    msg_id = await socket.send("checkin/scan", **fields)
    events = []
    while True:
        message = await socket.recv()
        if message["type"] == "event":
            events.append(message)
            continue
        assert message["id"] == msg_id and message["success"] is True, message
        if not events:
            events.extend(await socket.events(1))
        return message["result"], events


async def test_forged_codes_over_the_socket_are_rate_limited(
    client: Client, organizer: Api
) -> None:
    hall = await make_hall(client, organizer)
    async with aiohttp.ClientSession() as own:
        socket = await connect(client, session=own, token=hall.operators["HNI"].bearer)
        codes = []
        for _ in range(62):
            error = await socket.error(
                "checkin/scan", conference=hall.cid, nonce=nonce(), credential="PL1" + "A" * 141
            )
            codes.append(error["code"])
        assert codes[:60] == ["credential_malformed"] * 60
        assert codes[-1] == "rate_limited"
        await socket.ws.close()
