from __future__ import annotations

from typing import Any

from tests.conftest import Api


async def test_create_conference_and_site(organizer: Api, conference: dict[str, Any]) -> None:
    cid = conference["id"]
    status, site = await organizer.post(
        f"/api/v1/conferences/{cid}/sites",
        {"code": "hni", "name": "Hà Nội", "kind": "remote", "expected_attendance": 40},
    )
    assert status == 201, site
    assert site["code"] == "HNI"
    status, listing = await organizer.get(f"/api/v1/conferences/{cid}/sites")
    assert [s["code"] for s in listing["items"]] == ["HNI"]
    status, snap = await organizer.get(f"/api/v1/conferences/{cid}/live")
    assert snap["seq"] == 2 and snap["sites"][0]["name"] == "Hà Nội"
