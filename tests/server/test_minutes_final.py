"""Finalised minutes: the facts drafted from the live log equal the event log; finalising
locks the sections, renders a signed PDF whose text pdftotext reads exactly; amendments
are numbered and make new versions; every version stays verifiable; readers and exports."""

from __future__ import annotations

import hashlib
import io
import unicodedata
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import docx
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient
from sqlmodel import col, select, update

from agenda.minutes.models import MinutesVersion
from attendance.models import Delegate
from conference.dbtypes import utcnow
from conference.models import AuditEntry
from server.keys import db_key
from tests.conference.test_documents import pdf_text
from tests.conftest import Api, Public
from tests.server.stage import Stage, events

Client = TestClient[Any, Any]
ZONE = ZoneInfo("Asia/Ho_Chi_Minh")


@pytest.fixture
def app(rendering_app: web.Application) -> web.Application:
    return rendering_app


def nfc(text: str) -> str:
    """pdftotext's text in NFC with every run of spaces and line ends as one space (a
    narrow column may wrap a long line)."""
    return " ".join(unicodedata.normalize("NFC", text).split())


def moment(value: str | None) -> datetime | None:
    """A time as the API or the log writes it (+00:00 or Z), for comparing."""
    return datetime.fromisoformat(value) if value else None


def hhmm(moment: str) -> str:
    return datetime.fromisoformat(moment).astimezone(ZONE).strftime("%H:%M")


async def run_conference(client: Client, stage: Stage) -> None:
    """The opening with a roll call, then two items with speakers from several sites."""
    chair, url = stage.chair, stage.url
    status, _ = await chair.post(url("/agenda/live"), {"action": "start"})
    assert status == 200
    status, _ = await chair.post(url("/roll-call"), {})
    assert status == 201, _
    for code in ("HNI", "LCI"):
        status, _ = await stage.operators[code].post(url("/roll-call/answer"), {})
        assert status == 200, _
    status, _ = await chair.post(url("/roll-call/close"), {})
    assert status == 200, _
    for key, speakers in (
        ("talk1", (("LCI0", "registered"), ("HPG1", "request"))),
        ("talk2", (("HNI1", "request"),)),
    ):
        item = stage.items[key]
        status, _ = await chair.post(url("/agenda/live"), {"action": "start", "item": item})
        assert status == 200, _
        for person, kind in speakers:
            status, ev = await chair.post(
                url(f"/agenda/{item}/speakers"),
                {"delegate": stage.delegates[person]["id"], "kind": kind},
            )
            assert status == 201, ev
        for _turn in speakers:
            status, ev = await chair.post(url(f"/agenda/{item}/speakers/next"))
            assert status == 200, ev
        status, ev = await chair.post(url(f"/speakers/{ev['speaking']}"), {"action": "finish"})
        assert status == 200, ev
    # Someone not registered speaks on the second item too: by name, title, unit and site.
    item = stage.items["talk2"]
    status, ev = await chair.post(
        url(f"/agenda/{item}/speakers"),
        {
            "name": "Đặng Quốc Việt",
            "title": "Phó Chánh Văn phòng",
            "unit": "Tỉnh ủy Lào Cai",
            "site": "LCI",
        },
    )
    assert status == 201, ev
    status, ev = await chair.post(url(f"/agenda/{item}/speakers/next"))
    assert status == 200, ev
    status, _ = await chair.post(url("/agenda/live"), {"action": "end"})
    assert status == 200, _


async def test_the_facts_drafted_equal_the_event_log(client: Client, stage: Stage) -> None:
    await run_conference(client, stage)
    status, facts = await stage.secretary.get(stage.url("/minutes/facts"))
    assert status == 200, facts
    logged = await events(client, stage.cid)
    # Items: the last times the log gave each item.
    times: dict[str, tuple[Any, Any, str]] = {}
    for _seq, kind, data in logged:
        if kind == "agenda/live":
            for item in data["items"]:
                times[item["id"]] = (
                    moment(item["started_at"]),
                    moment(item["ended_at"]),
                    item["status"],
                )
    drafted = {
        i["item"]: (moment(i["started_at"]), moment(i["ended_at"]), i["status"])
        for i in facts["items"]
    }
    assert {k: v for k, v in drafted.items() if k in times} == times
    assert all(v == (None, None, "planned") for k, v in drafted.items() if k not in times)
    # Speakers: each one's last state in the log, those who had the floor, in speaking order.
    last: dict[str, dict[str, Any]] = {}
    for _seq, kind, data in logged:
        if kind == "speakers/updated":
            for entry in data["changed"]:
                last[entry["id"]] = entry
    fields = ("id", "name", "title", "unit", "site", "status")
    for item in facts["items"]:
        expected = sorted(
            (e for e in last.values() if e["item"] == item["item"] and e["started_at"]),
            key=lambda e: e["started_at"],
        )
        assert [
            (*(s[f] for f in fields), moment(s["started_at"]), moment(s["ended_at"]))
            for s in item["speakers"]
        ] == [
            (*(e[f] for f in fields), moment(e["started_at"]), moment(e["ended_at"]))
            for e in expected
        ], item["title"]
        for spoke, entry in zip(item["speakers"], expected, strict=True):
            if entry["status"] == "done":
                assert spoke["spoken_seconds"] == entry["spoken_seconds"]
    spoke_on = [s["site"] for i in facts["items"] for s in i["speakers"]]
    assert spoke_on == ["LCI", "HPG", "HNI", "LCI"]
    # The roll call: the sites that answered, as the log has them.
    answered = [d["site"] for _s, kind, d in logged if kind == "roll_call/answered"]
    assert [a["site"] for a in facts["roll_call"]["answered"]] == answered == ["HNI", "LCI"]
    assert [m["site"] for m in facts["roll_call"]["missing"]] == ["HPG"]
    opened = next(d["at"] for _s, kind, d in logged if kind == "agenda/live")
    assert moment(facts["opened_at"]) == moment(opened) == moment(facts["attendance"]["at"])


async def _arrive(client: Client, names: list[str], at: datetime) -> None:
    async with client.app[db_key].transaction() as session:
        rows = await session.exec(select(Delegate).where(col(Delegate.full_name).in_(names)))
        for delegate in rows:
            delegate.checked_in_at, delegate.checkin_site_id = at, delegate.site_id
            session.add(delegate)


async def test_attendance_at_the_opening_counts_who_had_arrived(
    client: Client, stage: Stage
) -> None:
    await _arrive(client, ["Nguyễn Văn An LCI", "Trần Thị Bình LCI"], utcnow() - timedelta(hours=1))
    status, _ = await stage.chair.post(stage.url("/agenda/live"), {"action": "start"})
    assert status == 200
    # Someone arriving after the opening is not counted at it.
    await _arrive(client, ["Nguyễn Văn An HPG"], utcnow() + timedelta(hours=1))
    status, facts = await stage.organizer.get(stage.url("/minutes/facts"))
    assert status == 200
    by_site = {s["site"]: (s["expected"], s["present"]) for s in facts["attendance"]["sites"]}
    assert by_site == {"HNI": (2, 0), "LCI": (2, 2), "HPG": (2, 0)}
    assert (facts["attendance"]["total_expected"], facts["attendance"]["total_present"]) == (6, 2)


async def fetch(api: Api, path: str) -> tuple[int, bytes]:
    """A download's status and bytes."""
    resp = await api.client.get(path, headers=api._headers())
    return resp.status, await resp.read()


async def _finalised(client: Client, stage: Stage) -> dict[str, Any]:
    await run_conference(client, stage)
    status, book = await stage.organizer.patch(
        stage.url("/minutes/settings"),
        {
            "issuing_body": "BAN CHẤP HÀNH TRUNG ƯƠNG\nVĂN PHÒNG TRUNG ƯƠNG ĐẢNG",
            "document_number": "Số: 12-BB/VPTW",
            "heading": "ĐẢNG CỘNG SẢN VIỆT NAM",
            "place": "Hà Nội",
            "chair_name": "Lê Hoàng Quân",
            "secretary_name": "Phạm Thị Thu Hằng",
        },
    )
    assert status == 200, book
    status, saved = await stage.secretary.post(
        stage.url(f"/minutes/sections/{stage.items['talk1']}"),
        {
            "text": "Các điểm cầu trình bày **tham luận** về chuyển đổi số.",
            "revision": 0,
            "decisions": ["Thống nhất triển khai phong trào thi đua đến năm 2030."],
        },
    )
    assert status == 200 and saved["decisions"], saved
    status, final = await stage.secretary.post(stage.url("/minutes/finalise"), {})
    assert status == 201, final
    return dict(final)


async def test_finalising_locks_signs_and_prints_the_record(client: Client, stage: Stage) -> None:
    final = await _finalised(client, stage)
    assert final["version"] == 1 and final["missing_characters"] == []
    status, pdf = await fetch(stage.organizer, stage.url("/minutes/export.pdf"))
    assert status == 200
    assert hashlib.sha256(pdf).hexdigest() == final["sha256"]
    text = nfc(pdf_text(pdf))
    status, facts = await stage.organizer.get(stage.url("/minutes/facts"))
    for expected in (
        "VĂN PHÒNG TRUNG ƯƠNG ĐẢNG",
        "Số: 12-BB/VPTW",
        "ĐẢNG CỘNG SẢN VIỆT NAM",
        "BIÊN BẢN",
        "Hội nghị toàn quốc",
        "Nguyễn Văn An LCI",
        "Trần Thị Bình HPG",
        "Đặng Quốc Việt",
        "Hội trường Trung ương, Hà Nội",
        "Lào Cai",
        "Hải Phòng",
        "Thống nhất triển khai phong trào thi đua đến năm 2030.",
        "Lê Hoàng Quân",
        "Phạm Thị Thu Hằng",
        final["code"],
    ):
        assert expected in text, expected
    for item in facts["items"]:
        for moment in (item["started_at"], item["ended_at"]):
            if moment:
                assert hhmm(moment) in text
        for speaker in item["speakers"]:
            assert hhmm(speaker["started_at"]) in text
    # Locked: the sections and the printed heading; the readers may still change.
    status, err = await stage.secretary.post(
        stage.url("/minutes/sections/opening"), {"text": "x", "revision": 0}
    )
    assert status == 409 and err["error"]["code"] == "conflict"
    status, err = await stage.organizer.patch(
        stage.url("/minutes/settings"), {"document_number": "Số: 13-BB/VPTW"}
    )
    assert status == 409 and err["error"]["field"] == "document_number"
    status, book = await stage.organizer.patch(stage.url("/minutes/settings"), {"readers": "sites"})
    assert status == 200 and book["status"] == "final"
    status, err = await stage.secretary.post(stage.url("/minutes/finalise"), {})
    assert status == 409
    # Who finalised and when, in the audit log.
    async with client.app[db_key].read() as session:
        actions = list(
            await session.exec(
                select(AuditEntry.action).where(col(AuditEntry.action).like("minutes.%"))
            )
        )
    assert "minutes.finalise" in actions


async def test_amendments_make_new_versions_and_old_ones_stay_verifiable(
    client: Client, stage: Stage, public: Public
) -> None:
    first = await _finalised(client, stage)
    status, v1 = await fetch(stage.organizer, stage.url("/minutes/export.pdf"))
    assert status == 200
    status, second = await stage.secretary.post(
        stage.url("/minutes/amendments"),
        {"text": "Bổ sung: đồng chí **Đặng Quốc Việt** phát biểu tại điểm cầu Lào Cai."},
    )
    assert status == 201, second
    assert second["version"] == 2 and second["amendments"] == 1
    status, v2 = await fetch(stage.organizer, stage.url("/minutes/export.pdf"))
    assert hashlib.sha256(v2).hexdigest() == second["sha256"] != first["sha256"]
    text = nfc(pdf_text(v2))
    assert "Bổ sung: đồng chí Đặng Quốc Việt phát biểu tại điểm cầu Lào Cai." in text
    status, again = await fetch(stage.organizer, stage.url("/minutes/export.pdf?version=1"))
    assert again == v1 and "Bổ sung" not in nfc(pdf_text(v1))
    status, listed = await stage.chair.get(stage.url("/minutes/versions"))
    assert [v["version"] for v in listed["versions"]] == [1, 2]
    # Anyone may verify: the old PDF is genuine but superseded, the new one current.
    status, found = await public.call(
        "POST", "/api/v1/verify/minutes", data=v1, headers={"Content-Type": "application/pdf"}
    )
    assert status == 200, found
    assert (found["match"], found["version"], found["superseded"], found["signature_valid"]) == (
        True,
        1,
        True,
        True,
    )
    assert found["finalised_by"] == "token secretary" and found["latest_version"] == 2
    status, found = await public.post("/api/v1/verify/minutes", {"sha256": second["sha256"]})
    assert (found["match"], found["version"], found["superseded"]) == (True, 2, False)
    status, found = await public.get(f"/api/v1/verify/minutes/{first['code']}")
    assert status == 200 and found["sha256"] == first["sha256"]
    # A changed byte is another document.
    tampered = v1[:-10] + b"%%EOF    \n"
    status, found = await public.call(
        "POST",
        "/api/v1/verify/minutes",
        data=tampered,
        headers={"Content-Type": "application/pdf"},
    )
    assert status == 200 and found == {
        "match": False,
        "sha256": hashlib.sha256(tampered).hexdigest(),
    }
    # A signature that does not hold is reported as such.
    async with client.app[db_key].transaction() as session:
        await session.exec(  # type: ignore[call-overload]
            update(MinutesVersion)
            .where(col(MinutesVersion.version) == 1)
            .values(signature=bytes(64))
        )
    status, found = await public.get(f"/api/v1/verify/minutes/{first['code']}")
    assert found["signature_valid"] is False


async def test_verification_refuses_bad_input_and_unknown_codes(public: Public) -> None:
    status, err = await public.get("/api/v1/verify/minutes/" + "A" * 16)
    assert status == 404 and err["error"]["code"] == "not_found"
    status, err = await public.get("/api/v1/verify/minutes/bad!code")
    assert status == 404
    status, err = await public.post("/api/v1/verify/minutes", {"sha256": "abc"})
    assert status == 422 and err["error"]["field"] == "sha256"
    status, err = await public.call(
        "POST", "/api/v1/verify/minutes", data=b"hello", headers={"Content-Type": "application/pdf"}
    )
    assert status == 422 and err["error"]["field"] == "file"
    status, found = await public.post("/api/v1/verify/minutes", {"sha256": "0" * 64})
    assert status == 200 and found == {"match": False, "sha256": "0" * 64}


async def test_verification_is_rate_limited(public: Public) -> None:
    statuses = []
    for _ in range(35):
        status, _body = await public.get("/api/v1/verify/minutes/" + "B" * 16)
        statuses.append(status)
    assert statuses[:30] == [404] * 30 and statuses[-1] == 429


async def test_an_amendment_needs_final_minutes_and_text(client: Client, stage: Stage) -> None:
    status, err = await stage.secretary.post(stage.url("/minutes/amendments"), {"text": "x"})
    assert status == 409 and err["error"]["field"] == "status"
    for body in ({}, {"text": ""}, {"text": 5}, {"text": "x" * 20_001}):
        status, err = await stage.secretary.post(stage.url("/minutes/amendments"), body)
        assert status == 422, body
    status, err = await stage.chair.post(stage.url("/minutes/finalise"), {})
    assert status == 403
    status, err = await stage.organizer.patch(stage.url("/minutes/settings"), {"readers": "all"})
    assert status == 422 and err["error"]["field"] == "readers"
    assert [t for _s, t, _d in await events(client, stage.cid) if t.startswith("minutes/")] == []


async def test_readers_decide_who_besides_the_staff_reads(stage: Stage, public: Public) -> None:
    operator = stage.operators["LCI"]
    link = f"/api/v1/delegate/{stage.delegates['LCI0']['link']}/minutes"
    for path in ("/minutes", "/minutes/facts", "/minutes/versions"):
        status, _err = await operator.get(stage.url(path))
        assert status == 403, path
    status, _err = await public.get(link)
    assert status == 403
    status, _ = await stage.organizer.patch(stage.url("/minutes/settings"), {"readers": "sites"})
    assert status == 200
    for path in ("/minutes", "/minutes/facts", "/minutes/versions"):
        status, body = await operator.get(stage.url(path))
        assert status == 200, (path, body)
    status, _err = await operator.post(
        stage.url("/minutes/sections/opening"), {"text": "x", "revision": 0}
    )
    assert status == 403
    status, _err = await operator.get(stage.url("/minutes/sections/opening/revisions"))
    assert status == 403
    status, _err = await public.get(link)
    assert status == 403
    status, _ = await stage.organizer.patch(
        stage.url("/minutes/settings"), {"readers": "delegates"}
    )
    status, body = await public.get(link)
    assert status == 200 and body["book"]["readers"] == "delegates" and "facts" in body
    # Exports stay with the organizers and the secretary.
    for api in (stage.chair, operator):
        status, _err = await api.get(stage.url("/minutes/export.docx"))
        assert status == 403


async def test_decisions_revisions_compare_and_the_docx_export(
    client: Client, stage: Stage
) -> None:
    url = stage.url(f"/minutes/sections/{stage.items['talk2']}")
    status, one = await stage.secretary.post(url, {"text": "Dòng một\nDòng hai", "revision": 0})
    assert status == 200 and one["decisions"] == []
    status, two = await stage.secretary.post(
        url,
        {
            "text": "Dòng một\nDòng ba",
            "revision": 1,
            "decisions": ["  Giao Văn phòng tổng hợp ý kiến.  ", "", "Báo cáo trước 31/12."],
        },
    )
    assert status == 200 and two["decisions"] == [
        "Giao Văn phòng tổng hợp ý kiến.",
        "Báo cáo trước 31/12.",
    ]
    # Decisions not sent: kept.
    status, three = await stage.secretary.post(url, {"text": "Dòng một\nDòng ba\n", "revision": 2})
    assert three["decisions"] == two["decisions"]
    status, diff = await stage.chair.get(url + "/compare?from=1&to=2")
    assert status == 200, diff
    assert diff["changes"] == [
        {"op": "equal", "lines": ["Dòng một"]},
        {"op": "removed", "lines": ["Dòng hai"]},
        {"op": "added", "lines": ["Dòng ba"]},
    ]
    for query in ("from=1&to=9", "from=x&to=1", "to=1"):
        status, err = await stage.chair.get(url + "/compare?" + query)
        assert status in (404, 422), query
    status, err = await stage.secretary.post(
        url, {"text": "x", "revision": 3, "decisions": ["d"] * 51}
    )
    assert status == 422 and err["error"]["field"].startswith("decisions")
    # The draft as DOCX: the decisions are there; a draft has no version to ask for.
    status, data = await fetch(stage.organizer, stage.url("/minutes/export.docx"))
    assert status == 200
    document = docx.Document(io.BytesIO(data))
    words = "\n".join(p.text for p in document.paragraphs) + "\n".join(
        cell.text for table in document.tables for row in table.rows for cell in row.cells
    )
    assert "Giao Văn phòng tổng hợp ý kiến." in words and "DỰ THẢO" in words
    status, err = await stage.organizer.get(stage.url("/minutes/export.pdf?version=1"))
    assert status == 404
