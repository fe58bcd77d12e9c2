"""Contact people of sites are for staff and operators, never for the public."""

from __future__ import annotations

from typing import Any

import aiohttp

from tests.conftest import Api
from tests.server.test_ws import Client, connect

CONTACT = {
    "contact_name": "Trần Thị Bích",
    "contact_phone": "+84 912 345 678",
    "contact_email": "vanphong@laocai.example.vn",
}


async def _public_conference_with_site(organizer: Api, cid: str) -> dict[str, Any]:
    status, body = await organizer.patch(f"/api/v1/conferences/{cid}", {"public": True})
    assert status == 200, body
    status, site = await organizer.post(
        f"/api/v1/conferences/{cid}/sites", {"code": "LCI", "name": "Lào Cai", **CONTACT}
    )
    assert status == 201, site
    return site


async def test_public_readers_get_no_contacts_over_http(
    client: Client, organizer: Api, conference: dict[str, Any]
) -> None:
    cid = conference["id"]
    site = await _public_conference_with_site(organizer, cid)
    anonymous = Api(client)
    client.session.cookie_jar.clear()
    for path in (
        f"/api/v1/conferences/{cid}/sites",
        f"/api/v1/conferences/{cid}/sites/{site['id']}",
        f"/api/v1/conferences/{cid}/live",
    ):
        status, body = await anonymous.get(path)
        assert status == 200, body
        text = str(body)
        for value in CONTACT.values():
            assert value not in text, (path, value)
    status, body = await anonymous.get(f"/api/v1/conferences/{cid}/sites/{site['id']}")
    assert body["name"] == "Lào Cai" and body["contact_phone"] is None
    await organizer.login("organizer")
    status, body = await organizer.get(f"/api/v1/conferences/{cid}/sites/{site['id']}")
    assert body["contact_phone"] == CONTACT["contact_phone"]


async def test_public_sockets_get_no_contacts_but_staff_do(
    client: Client, organizer: Api, conference: dict[str, Any]
) -> None:
    cid = conference["id"]
    site = await _public_conference_with_site(organizer, cid)
    staff = await connect(client)
    async with aiohttp.ClientSession(cookie_jar=aiohttp.DummyCookieJar()) as bare:
        viewer = await connect(client, session=bare)
        _, snap = await viewer.subscribe(cid)
        assert snap["snapshot"]["sites"][0]["contact_email"] is None
        await staff.subscribe(cid)
        status, body = await organizer.patch(
            f"/api/v1/conferences/{cid}/sites/{site['id']}", {"contact_phone": "+84 20 3840 000"}
        )
        assert status == 200, body
        (public_event,) = await viewer.events(1)
        (staff_event,) = await staff.events(1)
        assert public_event["seq"] == staff_event["seq"]
        assert public_event["event"]["data"]["contact_phone"] is None
        assert public_event["event"]["data"]["contact_name"] is None
        assert staff_event["event"]["data"]["contact_phone"] == "+84 20 3840 000"
        await viewer.ws.close()
    await staff.ws.close()
