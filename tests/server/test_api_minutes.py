"""The minutes' text: saving on a revision, a stale save refused with the current text,
every revision kept, and who may read and write."""

from __future__ import annotations

from typing import Any

from aiohttp.test_utils import TestClient
from sqlmodel import col, select

from conference.models import AuditEntry
from server.keys import db_key
from tests.server.stage import Stage, events, last_seq

Client = TestClient[Any, Any]


async def test_sections_save_on_their_revision_and_keep_every_text(
    client: Client, stage: Stage
) -> None:
    item = stage.items["opening"]
    url = stage.url(f"/minutes/sections/{item}")
    status, saved = await stage.secretary.post(
        url, {"text": "Đồng chí Chủ trì phát biểu khai mạc.", "revision": 0}
    )
    assert status == 200, saved
    assert (saved["section"], saved["revision"]) == (item, 1)
    # A second secretary's tab still on revision 0: refused, the current text comes back.
    before = await last_seq(client, stage.cid)
    status, err = await stage.organizer.post(url, {"text": "Bản khác", "revision": 0})
    assert status == 409 and err["error"]["code"] == "conflict"
    assert err["error"]["details"]["revision"] == 1
    assert err["error"]["details"]["text"] == "Đồng chí Chủ trì phát biểu khai mạc."
    assert await last_seq(client, stage.cid) == before
    # Merged and saved on revision 1.
    merged = "Đồng chí Chủ trì phát biểu khai mạc.\n\n**Kết luận:** thống nhất chương trình."
    status, saved = await stage.organizer.post(url, {"text": merged, "revision": 1})
    assert status == 200 and saved["revision"] == 2
    status, history = await stage.chair.get(url + "/revisions")
    assert status == 200
    assert [(r["revision"], r["text"][:8]) for r in history["revisions"]] == [
        (1, "Đồng chí"),
        (2, "Đồng chí"),
    ]
    assert history["revisions"][1]["text"] == merged
    status, whole = await stage.chair.get(stage.url("/minutes"))
    assert [(s["section"], s["revision"]) for s in whole["sections"]] == [(item, 2)]
    # One event per save, without the text.
    logged = [d for _, t, d in await events(client, stage.cid) if t == "minutes/updated"]
    assert [d["revision"] for d in logged] == [1, 2] and "text" not in logged[0]
    async with client.app[db_key].read() as session:
        saves = list(
            await session.exec(
                select(AuditEntry.action).where(col(AuditEntry.action) == "minutes.save")
            )
        )
    assert len(saves) == 2


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
