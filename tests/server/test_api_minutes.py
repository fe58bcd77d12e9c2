"""The minutes' routes: what a save, a stale save and the revisions answer, the body's
checks (NFC, control characters, limits), and who may read and write."""

from __future__ import annotations

from typing import Any

from aiohttp.test_utils import TestClient

from tests.server.stage import Stage

Client = TestClient[Any, Any]


async def test_a_save_a_stale_save_and_the_revisions_over_http(stage: Stage) -> None:
    """The rules are tests/agenda/minutes/test_services.py's; here, what the routes answer."""
    item = stage.items["opening"]
    url = stage.url(f"/minutes/sections/{item}")
    text = "Đồng chí Chủ trì phát biểu khai mạc."
    status, saved = await stage.secretary.post(url, {"text": text, "revision": 0})
    assert status == 200, saved
    assert set(saved) == {"section", "text", "decisions", "revision", "updated_at", "updated_by"}
    assert (saved["section"], saved["revision"], saved["text"]) == (item, 1, text)
    # A stale save is a 409 that carries the current text to merge with.
    status, err = await stage.organizer.post(url, {"text": "Bản khác", "revision": 0})
    assert status == 409 and err["error"]["code"] == "conflict"
    assert (err["error"]["details"]["revision"], err["error"]["details"]["text"]) == (1, text)
    status, history = await stage.chair.get(url + "/revisions")
    assert status == 200 and [(r["revision"], r["text"]) for r in history["revisions"]] == [
        (1, text)
    ]
    status, whole = await stage.chair.get(stage.url("/minutes"))
    assert status == 200 and [(s["section"], s["revision"]) for s in whole["sections"]] == [
        (item, 1)
    ]


async def test_the_minutes_own_sections_and_bad_input(stage: Stage) -> None:
    status, saved = await stage.secretary.post(
        stage.url("/minutes/sections/opening"), {"text": "", "revision": 0}
    )
    assert status == 200 and saved["revision"] == 1
    status, err = await stage.secretary.post(
        stage.url("/minutes/sections/nosuchitem"), {"text": "x", "revision": 0}
    )
    assert status == 404 and err["error"]["field"] == "section"
    for body in (
        {"text": "x"},
        {"text": 1, "revision": 0},
        {"text": "x", "revision": -1},
        {"text": "x" * 100_001, "revision": 0},
    ):
        status, err = await stage.secretary.post(stage.url("/minutes/sections/closing"), body)
        assert status == 422 and err["error"]["code"] == "invalid_format", body
    status, err = await stage.secretary.get(stage.url("/minutes/sections/closing/revisions"))
    assert status == 404


async def test_only_the_secretary_and_organizers_write_and_staff_read(stage: Stage) -> None:
    url = stage.url("/minutes/sections/opening")
    for api in (stage.chair, stage.operators["LCI"]):
        status, err = await api.post(url, {"text": "x", "revision": 0})
        assert status == 403 and err["error"]["code"] == "forbidden"
    status, err = await stage.operators["LCI"].get(stage.url("/minutes"))
    assert status == 403
    status, err = await stage.operators["LCI"].get(stage.url("/minutes/sections/opening/revisions"))
    assert status == 403


async def test_text_is_kept_as_typed_in_nfc_and_control_characters_are_refused(
    stage: Stage,
) -> None:
    url = stage.url("/minutes/sections/opening")
    decomposed = "Nguye\u0302\u0303n  Va\u0306n\u000bAn\r\n\n- mu\u0323c"
    status, saved = await stage.secretary.post(url, {"text": decomposed, "revision": 0})
    assert status == 200, saved
    # NFC, a word processor's line break a new line, spacing and line ends as typed.
    assert saved["text"] == "Nguyễn  Văn\nAn\r\n\n- mục"
    for body in (
        {"text": "a\x00b", "revision": 1},
        {"text": "a", "revision": 1, "decisions": ["x\x1b"]},
    ):
        status, err = await stage.secretary.post(url, body)
        assert status == 422 and err["error"]["code"] == "invalid_format", body
    # Blank decision rows do not count against the limit of 50.
    body = {"text": "a", "revision": 1, "decisions": ["d"] * 50 + [""] * 10}
    status, saved = await stage.secretary.post(url, body)
    assert status == 200 and len(saved["decisions"]) == 50
