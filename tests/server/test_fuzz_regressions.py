"""What the API fuzz (tests/server/test_fuzz_api.py) found, each as a plain test."""

from __future__ import annotations

from typing import Any

from tests.conftest import Api


async def test_c1_control_characters_are_refused_in_minutes_text(
    organizer: Api, conference: dict[str, Any]
) -> None:
    """Found: U+0088 in a section's text was stored and printed in the minutes' PDF as an
    empty box (the glyph alarm went off during the fuzz)."""
    base = f"/api/v1/conferences/{conference['id']}/minutes"
    url = f"{base}/sections/opening"
    before = await organizer.get(f"{base}/sections/opening/revisions")
    for body in (
        {"text": "Khai mạc\u0088", "revision": 0},
        {"text": "Khai mạc", "revision": 0, "decisions": ["Thông qua\u009b"]},
    ):
        status, err = await organizer.post(url, body)
        assert status == 422, err
        assert err["error"]["code"] == "invalid_format"
        assert err["error"]["field"].startswith(("text", "decisions"))
    assert await organizer.get(f"{base}/sections/opening/revisions") == before
    # NEL is a line break in pasted text: kept as a new line, not refused.
    status, saved = await organizer.post(url, {"text": "Khai mạc\u0085Phần 2", "revision": 0})
    assert status == 200, saved
    assert saved["text"] == "Khai mạc\nPhần 2"


async def test_c1_control_characters_are_refused_in_names(
    organizer: Api, conference: dict[str, Any]
) -> None:
    cid = conference["id"]
    before = await organizer.get(f"/api/v1/conferences/{cid}/sites")
    status, err = await organizer.post(
        f"/api/v1/conferences/{cid}/sites", {"code": "HNI", "name": "Hà Nội\u0085"}
    )
    assert status == 422, err
    assert err["error"]["code"] == "invalid_format"
    assert err["error"]["field"] == "name"
    assert await organizer.get(f"/api/v1/conferences/{cid}/sites") == before
